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


class NotACooperative(ValidationFailed):
    code = "not_a_cooperative"
    message = "Only a co-operative has members and share schemes."


class NotAMember(ValidationFailed):
    code = "not_a_member"
    message = "This household is not a member of the co-operative on that date."


class AlreadyMember(ValidationFailed):
    code = "already_member"
    message = "This household is already a member of the co-operative."


class ShareSchemeExists(ValidationFailed):
    code = "share_scheme_exists"
    message = "The co-operative already has a share scheme taking effect that day."


class InvalidShares(ValidationFailed):
    code = "invalid_shares"
    message = "The fixed shares do not fit the co-operative's members."
