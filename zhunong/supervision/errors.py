"""Errors of the integrity office's work, with stable codes (the API carries `code`; pages show the message)."""

from zhunong.core.errors import Conflict, NotFound, PermissionDenied


class FlagNotFound(NotFound):
    code = "flag_not_found"
    message = "No such integrity flag."


class StreamNotFound(NotFound):
    code = "supervised_stream_not_found"
    message = "No such stream in your region."


class HostNotFound(NotFound):
    code = "supervised_host_not_found"
    message = "No such host in your region."


class NotOffice(PermissionDenied):
    code = "not_integrity_office"
    message = "Only the county's discipline-inspection office (and regulators, reading) use these pages."


class NotReviewer(PermissionDenied):
    code = "not_flag_reviewer"
    message = "Only the discipline-inspection office confirms or dismisses flags."


class ReviewerOutsideRegion(PermissionDenied):
    code = "reviewer_outside_region"
    message = "The flag is outside your region."


class FlagAlreadyReviewed(Conflict):
    code = "flag_already_reviewed"
    message = "The flag has been reviewed; a review is kept as it was given and cannot be changed."


class FlagEvidenceMissing(Conflict):
    code = "flag_evidence_missing"
    message = ("The flag's subject or an order of its evidence no longer exists; "
               "the flag cannot be reviewed on evidence that is gone.")
