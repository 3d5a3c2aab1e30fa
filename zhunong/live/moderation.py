"""Writes for a room's moderation: mutes and bans, deleted messages, slow mode and established-only chat,
viewers' reports and their handling, and the sensitive-word list. Every moderator's action is logged
as a ModerationAction; events reach the room after commit (zhunong.core.events)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.core.events import publish_on_commit, publish_room_event, room_group
from zhunong.core.text import clean_text

from . import payloads
from .errors import MessageNotFound, NotAuthenticated, TooManyReports
from .filtering import normalize_word
from .models import ChatMessage, ModerationAction, Report, RoomRestriction, SensitiveWord, Stream
from .selectors import WORDS_VERSION_KEY, is_authenticated, user_by_id
from .store import REPORT_WINDOW, REPORTS_PER_WINDOW, take_token
from .streams import locked_stream, require_moderator

MAX_MUTE_SECONDS = 24 * 3600
MAX_SLOW_MODE_SECONDS = 300
MAX_ESTABLISHED_MINUTES = 7 * 24 * 60


# --- room settings ---------------------------------------------------------------------------------


def _settings_event(stream: Stream) -> dict[str, Any]:
    return {"t": "settings", "slow_mode": stream.slow_mode_seconds, "established_only": stream.established_minutes}


def _set_room_setting(*, actor: User, stream: Stream, field: str, value: int, limit: int, unit: str,
                      action: str, reason: str) -> Stream:
    """Slow mode and established-only mode: a bounded whole number on the stream, recorded and announced."""
    stream = locked_stream(stream)
    require_moderator(actor, stream)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit:
        raise ValidationFailed(f"{unit}: 0 (off) to {limit}.", details={"field": unit})
    setattr(stream, field, value)
    stream.save(update_fields=[field])
    ModerationAction.objects.create(stream=stream, actor=actor, action=action,
                                    reason=clean_text(reason, field="reason", max_length=300, required=False),
                                    details={unit: value})
    publish_room_event(stream.pk, _settings_event(stream))
    return stream


@transaction.atomic
def set_slow_mode(*, actor: User, stream: Stream, seconds: int, reason: str = "") -> Stream:
    return _set_room_setting(actor=actor, stream=stream, field="slow_mode_seconds", value=seconds,
                             limit=MAX_SLOW_MODE_SECONDS, unit="seconds",
                             action=ModerationAction.Action.SLOW_MODE, reason=reason)


@transaction.atomic
def set_established_only(*, actor: User, stream: Stream, minutes: int, reason: str = "") -> Stream:
    return _set_room_setting(actor=actor, stream=stream, field="established_minutes", value=minutes,
                             limit=MAX_ESTABLISHED_MINUTES, unit="minutes",
                             action=ModerationAction.Action.ESTABLISHED_ONLY, reason=reason)


# --- moderation ------------------------------------------------------------------------------------


def _target(stream: Stream, user: User | None) -> User:
    if user is None or not user.pk:
        raise ValidationFailed("user_id: no such user.", details={"field": "user_id"})
    if policy.can(user, "stream.moderate", stream):
        raise PermissionDenied("The host and the county's operators cannot be muted or banned.")
    return user


@transaction.atomic
def mute_user(*, actor: User, stream: Stream, user: User, seconds: int, reason: str = "") -> RoomRestriction:
    stream = locked_stream(stream)
    require_moderator(actor, stream)
    user = _target(stream, user)
    if not isinstance(seconds, int) or isinstance(seconds, bool) or not 10 <= seconds <= MAX_MUTE_SECONDS:
        raise ValidationFailed(f"seconds: 10 to {MAX_MUTE_SECONDS}.", details={"field": "seconds"})
    reason = clean_text(reason, field="reason", max_length=300, required=False)
    now = timezone.now()
    RoomRestriction.objects.filter(stream=stream, user=user, kind=RoomRestriction.Kind.MUTE,
                                   lifted_at__isnull=True).update(lifted_at=now, lifted_by=actor)
    item = RoomRestriction.objects.create(stream=stream, user=user, kind=RoomRestriction.Kind.MUTE,
                                          until=now + dt.timedelta(seconds=seconds), reason=reason, created_by=actor)
    ModerationAction.objects.create(stream=stream, actor=actor, action=ModerationAction.Action.MUTE,
                                    target_user=user, reason=reason, details={"seconds": seconds})
    publish_room_event(stream.pk, {"t": "mod", "action": "mute", "user_id": user.pk,
                                   "name": payloads.esc(str(user)), "until": item.until.isoformat()})
    return item


@transaction.atomic
def unmute_user(*, actor: User, stream: Stream, user: User, reason: str = "") -> int:
    stream = locked_stream(stream)
    require_moderator(actor, stream)
    lifted = RoomRestriction.objects.filter(stream=stream, user=user, kind=RoomRestriction.Kind.MUTE,
                                            lifted_at__isnull=True).update(lifted_at=timezone.now(), lifted_by=actor)
    ModerationAction.objects.create(stream=stream, actor=actor, action=ModerationAction.Action.UNMUTE,
                                    target_user=user,
                                    reason=clean_text(reason, field="reason", max_length=300, required=False))
    publish_room_event(stream.pk, {"t": "mod", "action": "unmute", "user_id": user.pk,
                                   "name": payloads.esc(str(user))})
    return lifted


@transaction.atomic
def ban_user(*, actor: User, stream: Stream, user: User, reason: str = "") -> RoomRestriction:
    """Remove a user from the room for the rest of the stream (their connections are closed)."""
    stream = locked_stream(stream)
    require_moderator(actor, stream)
    user = _target(stream, user)
    reason = clean_text(reason, field="reason", max_length=300, required=False)
    existing = RoomRestriction.objects.filter(stream=stream, user=user, kind=RoomRestriction.Kind.BAN,
                                              lifted_at__isnull=True).first()
    item = existing or RoomRestriction.objects.create(stream=stream, user=user, kind=RoomRestriction.Kind.BAN,
                                                      reason=reason, created_by=actor)
    ModerationAction.objects.create(stream=stream, actor=actor, action=ModerationAction.Action.BAN,
                                    target_user=user, reason=reason)
    publish_room_event(stream.pk, {"t": "mod", "action": "ban", "user_id": user.pk, "name": payloads.esc(str(user))})
    return item


@transaction.atomic
def unban_user(*, actor: User, stream: Stream, user: User, reason: str = "") -> int:
    stream = locked_stream(stream)
    require_moderator(actor, stream)
    lifted = RoomRestriction.objects.filter(stream=stream, user=user, kind=RoomRestriction.Kind.BAN,
                                            lifted_at__isnull=True).update(lifted_at=timezone.now(), lifted_by=actor)
    ModerationAction.objects.create(stream=stream, actor=actor, action=ModerationAction.Action.UNBAN,
                                    target_user=user,
                                    reason=clean_text(reason, field="reason", max_length=300, required=False))
    publish_room_event(stream.pk, {"t": "mod", "action": "unban", "user_id": user.pk})
    return lifted


@transaction.atomic
def delete_message(*, actor: User, stream: Stream, message_id: int, reason: str = "") -> ChatMessage:
    stream = locked_stream(stream)
    require_moderator(actor, stream)
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise MessageNotFound()
    message = ChatMessage.objects.select_for_update().filter(stream=stream, pk=message_id).first()
    if message is None:
        raise MessageNotFound()
    reason = clean_text(reason, field="reason", max_length=300, required=False)
    if message.status != ChatMessage.Status.DELETED:
        message.status = ChatMessage.Status.DELETED
        message.deleted_by = actor
        message.deleted_at = timezone.now()
        message.save(update_fields=["status", "deleted_by", "deleted_at"])
    ModerationAction.objects.create(stream=stream, actor=actor, action=ModerationAction.Action.DELETE_MESSAGE,
                                    target_user_id=message.user_id, message=message, reason=reason)
    publish_room_event(stream.pk, {"t": "deleted", "message_id": message.pk})
    return message


@transaction.atomic
def record_auto_mute(*, stream_id: int, user_id: int, seconds: int, reason: str) -> ModerationAction:
    """The room muted a flooding user by itself (rate limit); logged with no actor (the system)."""
    return ModerationAction.objects.create(stream_id=stream_id, actor=None, action=ModerationAction.Action.AUTO_MUTE,
                                           target_user_id=user_id, reason=reason[:300], details={"seconds": seconds})


# --- reports ---------------------------------------------------------------------------------------


@transaction.atomic
def report(*, reporter: User, stream: Stream, reason: str, message_id: int | None = None,
           user_id: int | None = None, note: str = "") -> Report:
    """A viewer reports a message or a user; the room's moderators see it in the console."""
    if not is_authenticated(reporter):
        raise NotAuthenticated()
    retry_after = take_token("report", reporter.pk, limit=REPORTS_PER_WINDOW, window=REPORT_WINDOW)
    if retry_after:
        raise TooManyReports(retry_after=retry_after)
    if reason not in Report.Reason.values:
        raise ValidationFailed("reason: unknown reason.", details={"field": "reason"})
    note = clean_text(note, field="note", max_length=300, required=False)
    message = None
    target = None
    if message_id is not None:
        if not isinstance(message_id, int) or isinstance(message_id, bool) or not 0 < message_id < 2**63:
            raise MessageNotFound()
        message = ChatMessage.objects.filter(stream=stream, pk=message_id).first()
        if message is None:
            raise MessageNotFound()
        target = message.user
    elif user_id is not None:
        if not isinstance(user_id, int) or isinstance(user_id, bool) or not 0 < user_id < 2**63:
            raise ValidationFailed("user_id: no such user.", details={"field": "user_id"})
        target = user_by_id(user_id)
        if target is None:
            raise ValidationFailed("user_id: no such user.", details={"field": "user_id"})
    else:
        raise ValidationFailed("Report a message or a user.", details={"field": "message_id"})
    existing = Report.objects.filter(stream=stream, reporter=reporter, message=message, target_user=target,
                                     status=Report.Status.OPEN).first()
    if existing:  # the same report twice is one report
        return existing
    item = Report.objects.create(stream=stream, reporter=reporter, message=message, target_user=target,
                                 reason=reason, note=note)
    publish_on_commit(room_group(stream.pk), {"type": "room.event", "important": True, "audience": "staff",
                                              "event": {"t": "report", "report": payloads.report(item)}})
    return item


@transaction.atomic
def handle_report(*, actor: User, report_item: Report, status: str, note: str = "") -> Report:
    item = Report.objects.select_for_update().select_related("stream__host", "stream__channel__county").get(
        pk=report_item.pk)
    require_moderator(actor, item.stream)
    if status not in (Report.Status.ACTIONED, Report.Status.DISMISSED):
        raise ValidationFailed("status: actioned or dismissed.", details={"field": "status"})
    item.status = status
    item.handled_by = actor
    item.handled_at = timezone.now()
    item.save(update_fields=["status", "handled_by", "handled_at"])
    ModerationAction.objects.create(stream=item.stream, actor=actor, action=ModerationAction.Action.HANDLE_REPORT,
                                    target_user=item.target_user, message=item.message,
                                    reason=clean_text(note, field="note", max_length=300, required=False),
                                    details={"report_id": item.pk, "status": status})
    return item


# --- sensitive words -------------------------------------------------------------------------------


def _bump_words_version() -> None:
    def bump() -> None:
        try:
            cache.incr(WORDS_VERSION_KEY)
        except ValueError:
            cache.set(WORDS_VERSION_KEY, 1, timeout=None)

    transaction.on_commit(bump)


def _require_word_editor(actor: User) -> None:
    policy.require(actor, "sensitive_words.edit",
                   error=PermissionDenied("Only operators edit the sensitive-word list."))


@transaction.atomic
def save_sensitive_word(*, actor: User, word: str, action: str = SensitiveWord.Action.MASK, category: str = "",
                        active: bool = True, instance: SensitiveWord | None = None) -> SensitiveWord:
    _require_word_editor(actor)
    word = clean_text(word, field="word", max_length=50)
    normalized = normalize_word(word)
    if not normalized:
        raise ValidationFailed("word: needs at least one letter or digit.", details={"field": "word"})
    if action not in SensitiveWord.Action.values:
        raise ValidationFailed("action: mask or block.", details={"field": "action"})
    item = instance or SensitiveWord(created_by=actor)
    item.word, item.normalized, item.action, item.active = word, normalized, action, active
    item.category = clean_text(category, field="category", max_length=30, required=False)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        raise ValidationFailed("word: already in the list.", details={"field": "word"})
    _bump_words_version()
    return item


@transaction.atomic
def delete_sensitive_word(*, actor: User, word: SensitiveWord) -> None:
    _require_word_editor(actor)
    word.delete()
    _bump_words_version()
