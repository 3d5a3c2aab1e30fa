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
