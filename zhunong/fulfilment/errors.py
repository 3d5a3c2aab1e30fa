"""Stable error codes of fulfilment and after-sales."""

from decimal import Decimal

from zhunong.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from zhunong.orders.errors import NotYourOrder, ProductNotInStream, RefundExceedsPaid


class ShipmentNotFound(NotFound):
    code = "shipment_not_found"
    message = "No such shipment."


class NotYourShipment(PermissionDenied):
    code = "not_your_shipment"
    message = "This shipment belongs to another producer."


class OrderNotPaid(Conflict):
    code = "order_not_paid"
    message = "Only paid orders are shipped."


class BadTrackingNumber(ValidationFailed):
    code = "bad_tracking_number"
    message = "A tracking number is 6 to 40 letters, digits or dashes."


class UnknownCarrier(ValidationFailed):
    code = "unknown_carrier"
    message = "Unknown courier."


class NothingToConfirm(Conflict):
    code = "nothing_to_confirm"
    message = "No shipped parcel of this order is waiting for confirmation."


class LineNotFound(NotFound):
    code = "order_line_not_found"
    message = "No such order line."


class AfterSalesNotFound(NotFound):
    code = "after_sales_not_found"
    message = "No such after-sales request."


class AfterSalesNotAllowed(Conflict):
    code = "after_sales_not_allowed"
    message = "After-sales can be requested only for a paid order line."


class AfterSalesOpen(Conflict):
    code = "after_sales_open"
    message = "This order line already has an open after-sales request."


class TooManyPhotos(Conflict):
    code = "too_many_photos"
    message = "An after-sales request has at most 6 photos."


class PhotosClosed(Conflict):
    code = "photos_closed"
    message = "Photos can be added only by the buyer while the request awaits a decision."


class PhotoNotFound(NotFound):
    code = "after_sales_photo_not_found"
    message = "No such photo of this after-sales request."


class ComplaintNotFound(NotFound):
    code = "complaint_not_found"
    message = "No such complaint."


class ReviewNotAllowed(Conflict):
    code = "review_not_delivered"
    message = "A line can be reviewed only after it has been delivered."


class AlreadyReviewed(Conflict):
    code = "already_reviewed"
    message = "This order line has already been reviewed."


class BadRating(ValidationFailed):
    code = "bad_rating"
    message = "The rating is a whole number from 1 to 5."


class PledgeNotFound(NotFound):
    code = "pledge_not_found"
    message = "No such pledge."


class StreamClosed(Conflict):
    code = "stream_closed"
    message = "Pledges are made before or during a stream, not after it."


class ProductNotInOrder(Conflict):
    code = "product_not_in_order"
    message = "This pledge covers a product that is not in the order."


class ConflictOfInterest(PermissionDenied):
    code = "conflict_of_interest"
    message = "The host who made a pledge cannot decide claims against it."


class TrackingNumberInUse(Conflict):
    code = "tracking_number_in_use"
    message = "This tracking number is already used by another parcel."


class ComplaintLimit(Conflict):
    code = "complaint_limit"
    message = "This order already has several open complaints; the county office is handling them."


class PublicServantMustUseFund(ValidationFailed):
    code = "public_servant_must_use_fund"
    message = "A public-servant host pledges compensation from the platform's pledge fund only."


class NotBoughtInStream(PermissionDenied):
    code = "not_bought_in_stream"
    message = "Only buyers who paid for an order in this stream can claim against its pledge."


class HostCannotReceive(PermissionDenied):
    code = "host_cannot_receive"
    message = "A host cannot receive compensation from a pledge (and a public servant never receives money)."


class ClaimExists(Conflict):
    code = "claim_exists"
    message = "This order already has a claim against this pledge."


class ClaimNotFound(NotFound):
    code = "claim_not_found"
    message = "No such claim."


class ClaimExceedsPledge(ValidationFailed):
    code = "claim_exceeds_pledge"
    message = "The amount is more than the pledge pays for one claim."


class PledgeCapExceeded(Conflict):
    code = "pledge_cap_exceeded"
    message = "Paying this would exceed the pledge's total cap."


# NotYourOrder, OrderNotFound, ProductNotInStream and RefundExceedsPaid are orders' errors, StreamNotFound is
# live's (same codes). Fulfilment's answers kept their own wording, and a refund amount the buyer typed is
# answered 422 like any other invalid input (orders answers its own refunds 409): these build them so.


def not_your_order() -> NotYourOrder:
    return NotYourOrder("This is not your order.")


def pledged_product_not_in_stream() -> ProductNotInStream:
    return ProductNotInStream("The pledged product is not sold in this stream.", details={"field": "product_id"})


def refund_exceeds_refundable(refundable: Decimal) -> RefundExceedsPaid:
    return RefundExceedsPaid("The amount is more than what is left to refund on this line.", status=422,
                             details={"field": "amount", "refundable": str(refundable)})
