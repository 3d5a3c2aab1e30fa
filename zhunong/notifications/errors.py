"""Stable error codes of follows and notifications."""

from __future__ import annotations

from zhunong.core.errors import Conflict, NotFound, ValidationFailed


class HostNotFound(NotFound):
    code = "host_not_found"
    message = "No such host."


class ChannelNotFound(NotFound):
    code = "channel_not_found"
    message = "No such channel."


class StreamNotFound(NotFound):
    code = "stream_not_found"
    message = "No such stream."


class StreamNotFollowable(Conflict):
    code = "stream_not_followable"
    message = "This stream was cancelled or has ended: there is nothing to be reminded of."


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    message = "No such notification."


class SubjectGone(NotFound):
    """An event about something that no longer exists (a deleted order): nobody is told anything."""

    code = "notification_subject_gone"
    message = "What this notification is about no longer exists."


class UnknownKind(ValidationFailed):
    code = "unknown_notification_kind"
    message = "Unknown notification kind."
