"""Errors of the live app, with stable codes (the API and the room protocol both carry `code`)."""

from zhunong.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed


class StreamNotFound(NotFound):
    code = "stream_not_found"
    message = "No such stream."


class ChannelNotFound(NotFound):
    code = "channel_not_found"
    message = "No such channel."


class HostNotFound(NotFound):
    code = "host_not_found"
    message = "No such host."


class MessageNotFound(NotFound):
    code = "message_not_found"
    message = "No such message in this room."


class HostNotVerified(Conflict):
    code = "host_not_verified"
    message = "Only a host whose identity has been verified can go live."


class StreamNotLive(Conflict):
    code = "stream_not_live"
    message = "The stream is not live."


class StreamOver(Conflict):
    code = "stream_ended"
    message = "The stream has ended."


class ProductNotOnShelf(Conflict):
    code = "product_not_on_shelf"
    message = "The product is not on this stream's shelf, or is not listed."


class ProductNotListed(ValidationFailed):
    code = "product_not_listed"
    message = "Only listed products of the channel's county can be sold in a stream."


class NotModerator(PermissionDenied):
    code = "not_moderator"
    message = "Only the host or the county's operators can do this."


class NotAuthenticated(DomainError):
    code = "login_required"
    status = 401
    message = "Log in to do this."


class Muted(PermissionDenied):
    code = "muted"
    message = "You are muted in this room."


class Banned(PermissionDenied):
    code = "banned"
    message = "You have been removed from this room."


class AccountTooNew(PermissionDenied):
    code = "account_too_new"
    message = "This room only lets established accounts chat."


class GiftRefused(PermissionDenied):
    code = "gift_refused_public_servant"
    message = "The host is a public servant and takes no gifts, tips or payment (公益直播); the attempt was recorded."


class ChannelExists(Conflict):
    code = "channel_exists"
    message = "The county already has its official channel."


class AlreadyHost(Conflict):
    code = "already_host"
    message = "This user already has a host profile."



class _Throttled:
    """Too many of one action by one user in a window (live/store.py: take_token); `details.retry_after`."""

    status = 429

    def __init__(self, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(details={"retry_after": retry_after})


class TooManyGifts(_Throttled, DomainError):
    code = "too_many_gifts"
    message = "Too many gifts in a short time. Try again later."


class TooManyReports(_Throttled, DomainError):
    code = "too_many_reports"
    message = "Too many reports in a short time. Try again later."


# --- approvals of public servants' streams by the discipline-inspection office (approvals.py) -----------


class ApprovalRequired(Conflict):
    code = "stream_approval_required"
    message = ("The host is a public servant: the stream goes live only with an approval by the county's "
               "discipline-inspection office.")


class ApprovalOutdated(Conflict):
    code = "stream_approval_outdated"
    message = "The host, shelf or prices changed since the approval; the stream needs a new approval."


class ApprovalNotNeeded(Conflict):
    code = "stream_approval_not_needed"
    message = "The host is not a public servant; the stream needs no approval."


class StreamNotScheduled(Conflict):
    code = "stream_not_scheduled"
    message = "Only a scheduled stream can be approved."


class ApprovedShelfLocked(Conflict):
    code = "approved_shelf_locked"
    message = "A public servant's live stream sells what was approved; its shelf cannot change while it is live."


class NotApprover(PermissionDenied):
    code = "not_discipline_inspector"
    message = "Only the county's discipline-inspection office approves public servants' streams."


class ApproverOutsideRegion(PermissionDenied):
    code = "approver_outside_region"
    message = "The stream is outside your county."


# --- real-name hosts, training and the three thirds (realname.py, training.py, thirds.py) -----------------


class HostUnderAge(ValidationFailed):
    code = "host_under_age"
    message = "Hosts must be at least 16 years old (by the birth date in the ID number)."


class IdNumberInUse(Conflict):
    code = "id_number_in_use"
    message = "This ID number is already registered to another host: one ID number belongs to one person."


class HostIdentityMissing(Conflict):
    code = "host_identity_missing"
    message = "Record the host's real name and ID number before verifying them."


class NotVerifyingOperator(PermissionDenied):
    code = "not_verifying_operator"
    message = "Only the operator who verified this host (or recorded their identity) sees the full ID number."


class HostNotInCounty(ValidationFailed):
    code = "host_not_in_county"
    message = "The host's channel is not in the course's county."


class SessionNotOver(Conflict):
    code = "session_not_over"
    message = "Attendance is recorded once the session has started."


class TrainingIncomplete(Conflict):
    code = "training_incomplete"
    message = "The host has not attended every session of the course (or the course has none)."


class CertificateExists(Conflict):
    code = "certificate_exists"
    message = "The host already has this course's certificate."
