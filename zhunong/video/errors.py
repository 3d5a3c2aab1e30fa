"""Video errors. Publish refusals carry a stable `code`, logged and shown to operators, never the key."""

from zhunong.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from zhunong.live.errors import HostNotVerified


class PublishRefused(DomainError):
    """nginx-rtmp drops the publisher on any non-2xx/3xx answer; the code says why, for the logs."""

    code = "publish_refused"
    status = 403
    message = "Publishing refused."


# What refuses a publisher: PublishRefused and its subclasses below, and the live app's HostNotVerified (the one
# error for an unverified host, whether it tries to go live from the console or from an encoder).
PUBLISH_REFUSALS = (PublishRefused, HostNotVerified)


class ForbiddenSource(PublishRefused):
    code = "forbidden_source"
    message = "Callbacks are accepted only from the media server."


class MalformedCallback(PublishRefused):
    code = "malformed_callback"
    message = "The callback is missing fields or has invalid values."


class WrongApp(PublishRefused):
    code = "wrong_app"
    message = "Publish to the configured ingest application."


class UnknownKey(PublishRefused):
    code = "unknown_key"
    message = "No stream has this key."


class RetiredKeyUsed(PublishRefused):
    code = "retired_key"
    message = "This stream key was rotated; use the current key from the host console."


class StreamEnded(PublishRefused):
    code = "stream_ended"
    message = "The stream has ended or was cancelled."


class NotScheduledNow(PublishRefused):
    code = "not_scheduled_now"
    message = "The stream is not scheduled for now."


class AlreadyPublishing(PublishRefused):
    code = "already_publishing"
    message = "Another publisher is already sending this stream."


class NoIngest(NotFound):
    code = "no_ingest"
    message = "This stream has no video ingest."


class NotStreamHost(PermissionDenied):
    code = "not_stream_host"
    message = "Only the stream's host may see or change its stream key."


class ReplayNotFound(NotFound):
    code = "replay_not_found"
    message = "No such replay."


class ReplayNotReady(Conflict):
    code = "replay_not_ready"
    message = "The replay is not ready."


class MediaToolFailed(DomainError):
    code = "media_tool_failed"
    status = 500
    message = "ffmpeg could not process the recording."


class InvalidRecordingPath(ValidationFailed):
    code = "invalid_recording_path"
    message = "The recording path is outside the record directory or not a recording of this stream."
