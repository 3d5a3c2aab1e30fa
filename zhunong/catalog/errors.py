from zhunong.core.errors import Conflict, NotFound, ValidationFailed


class BelowCostWithoutReason(ValidationFailed):
    code = "below_cost_without_reason"
    message = "The price is below the cost floor; a reason is required."


class NotInspected(Conflict):
    code = "not_inspected"
    message = "A product is listed only when every batch it sells from has passed inspection."


class NoBatches(Conflict):
    code = "no_batches"
    message = "A product must be sold from at least one harvest batch."


class ProductNotFound(NotFound):
    code = "product_not_found"
    message = "No such product."


class GtinTaken(Conflict):
    code = "gtin_taken"
    message = "Another product already has this GTIN."


class BatchStillNeeded(Conflict):
    code = "batch_still_needed"
    message = "A product that is listed or awaiting inspection must keep at least one batch."


class TooManyImages(Conflict):
    code = "too_many_images"
    message = "This product already has as many photos as it may have; remove one first."
