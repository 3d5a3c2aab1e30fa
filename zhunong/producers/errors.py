from zhunong.core.errors import NotFound, PermissionDenied, ValidationFailed


class UnknownRegion(NotFound):
    code = "unknown_region"
    message = "Unknown region."


class RegionLevelMismatch(ValidationFailed):
    code = "region_level_mismatch"
    message = "The region is not at the required level."


class OutsideRegion(PermissionDenied):
    code = "outside_region"
    message = "This object is outside your region."


class ProducerNotFound(NotFound):
    code = "producer_not_found"
    message = "No such producer."


class PlotNotFound(NotFound):
    code = "plot_not_found"
    message = "No such plot."


class BatchNotFound(NotFound):
    code = "batch_not_found"
    message = "No such harvest batch."
