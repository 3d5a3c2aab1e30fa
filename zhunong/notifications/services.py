"""Writes: follows of hosts (and of channels, through live), channel preferences, reading notifications, and
turning an event into notifications and deliveries (`emit`), then sending a delivery once (`deliver`)."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.core.errors import ValidationFailed
from zhunong.live import streams as live_streams
from zhunong.live.errors import NotAuthenticated
from zhunong.live.models import Channel as LiveChannel
from zhunong.live.models import Host, Stream, StreamStatus

from . import delivery, events
from .errors import (
    ChannelNotFound,
    HostNotFound,
    NotificationNotFound,
    StreamNotFollowable,
    StreamNotFound,
    UnknownKind,
)
from .kinds import DEFAULT_CHANNELS, Channel, Kind
from .models import Delivery, HostFollow, Notification, NotificationPreference, StreamReminder
from .signals import deliveries_queued

log = logging.getLogger(__name__)


def _require_user(user: User | None) -> User:
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    return user


# --- follows ----------------------------------------------------------------------------------------------


@transaction.atomic
def follow_host(*, user: User, host_id: int) -> Host:
    _require_user(user)
    host = Host.objects.filter(pk=host_id).first()
    if host is None:
        raise HostNotFound()
    HostFollow.objects.get_or_create(user=user, host=host)
    return host


@transaction.atomic
def unfollow_host(*, user: User, host_id: int) -> None:
    _require_user(user)
    if not Host.objects.filter(pk=host_id).exists():
        raise HostNotFound()
    HostFollow.objects.filter(user=user, host_id=host_id).delete()


@transaction.atomic
def follow_channel(*, user: User, channel_id: int) -> LiveChannel:
    _require_user(user)
    channel = LiveChannel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise ChannelNotFound()
    live_streams.follow_channel(user=user, channel=channel)
    return channel


@transaction.atomic
def follow_stream_host(*, user: User, stream_id: int) -> Host:
    """Follow the host of a stream (the "remind me" of a stream's page): its reminder and every later stream.
    A cancelled or ended stream has nothing to remind of: refused, nothing followed."""
    _require_user(user)
    stream = Stream.objects.filter(pk=stream_id).select_related("host").first()
    if stream is None:
        raise StreamNotFound()
    if stream.status in (StreamStatus.CANCELLED, StreamStatus.ENDED):
        raise StreamNotFollowable(details={"status": stream.status})
    HostFollow.objects.get_or_create(user=user, host=stream.host)
    return stream.host


@transaction.atomic
def book_stream(*, user: User, stream_id: int) -> Stream:
    """预约 one scheduled stream: a reminder REMINDER_LEAD_MINUTES before its start and a note when it goes
    live, without following its host. Booking twice is one booking. Only a scheduled stream can be booked
    (a live one is to be watched now, a cancelled or ended one has nothing to remind of)."""
    _require_user(user)
    stream = Stream.objects.filter(pk=stream_id).first()
    if stream is None:
        raise StreamNotFound()
    if stream.status != StreamStatus.SCHEDULED:
        raise StreamNotFollowable("Only a stream that has not started yet can be booked.",
                                  details={"status": stream.status})
    StreamReminder.objects.get_or_create(user=user, stream=stream)
    return stream


@transaction.atomic
def cancel_booking(*, user: User, stream_id: int) -> Stream:
    """Cancel one's 预约 of a stream (whatever its state; cancelling twice changes nothing)."""
    _require_user(user)
    stream = Stream.objects.filter(pk=stream_id).first()
    if stream is None:
        raise StreamNotFound()
    StreamReminder.objects.filter(user=user, stream=stream).delete()
    return stream


# --- preferences and reading ---------------------------------------------------------------------------------


def channels_for(user: User, kind: str) -> tuple[str, ...]:
    pref = NotificationPreference.objects.filter(user=user, kind=kind).first()
    return tuple(pref.channels) if pref is not None else DEFAULT_CHANNELS[kind]


@transaction.atomic
def set_channels(*, user: User, kind: str, channels: list[str]) -> NotificationPreference:
    _require_user(user)
    if kind not in Kind.values:
        raise UnknownKind(details={"field": "kind"})
    unknown = sorted(set(channels) - set(Channel.values))
    if unknown:
        raise ValidationFailed(f"channels: unknown channel {unknown[0]}.", details={"field": "channels"})
    ordered = [c for c in Channel.values if c in set(channels)]
    pref, _ = NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"channels": ordered})
    return pref


@transaction.atomic
def mark_read(*, user: User, notification_id: int) -> Notification:
    _require_user(user)
    note = Notification.objects.filter(pk=notification_id, user=user).first()
    if note is None:  # someone else's is not found either: ids are not a way to learn about others
        raise NotificationNotFound()
    if note.read_at is None:
        note.read_at = timezone.now()
        note.save(update_fields=["read_at"])
        delivery.push_unread(user.pk)
    return note


@transaction.atomic
def mark_all_read(*, user: User) -> int:
    _require_user(user)
    count = Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
    if count:
        delivery.push_unread(user.pk)
    return count


# --- events -> notifications -> deliveries -------------------------------------------------------------------


@transaction.atomic
def emit(*, kind: str, subject_id: int) -> list[Notification]:
    """One event (`kind` of the subject with this id) to everyone who hears about it, over their channels.

    Repeating it changes nothing: one notification per (event, user), one delivery per channel. An event about
    a subject that no longer exists raises SubjectGone (code notification_subject_gone) and writes nothing."""
    builder = events.BUILDERS.get(kind)
    if builder is None:
        raise UnknownKind(details={"kind": kind})
    message = builder(subject_id)
    created, queued = [], []
    for user in message.users:
        chosen = channels_for(user, kind)
        if not chosen:
            continue
        try:
            with transaction.atomic():
                note = Notification.objects.create(
                    user=user, kind=kind, event_key=message.event_key[:100], title=message.title[:100],
                    body=message.body[:500], url=message.url[:200], in_site=Channel.IN_SITE in chosen)
        except IntegrityError:  # this event already reached this user
            continue
        created.append(note)
        queued += [Delivery.objects.create(notification=note, channel=c).pk for c in chosen]
    if queued:
        transaction.on_commit(lambda: deliveries_queued.send(sender=Delivery, delivery_ids=queued))
    return created


def deliver(*, delivery_id: int) -> str:
    """Send one delivery, at most once: claimed (pending/failed → sending) before the send, so a retry after a
    crash mid-send never sends it twice. Returns the status; raises on a failure worth retrying."""
    claimed = delivery.retryable(Delivery.objects.filter(pk=delivery_id)).update(
        status=Delivery.Status.SENDING, attempts=F("attempts") + 1)
    if not claimed:
        current = Delivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
        return current or "missing"
    item = Delivery.objects.select_related("notification__user").get(pk=delivery_id)
    try:
        delivery.send(item)
    except delivery.Undeliverable as exc:
        Delivery.objects.filter(pk=item.pk).update(status=Delivery.Status.SKIPPED, last_error=str(exc)[:200])
        return Delivery.Status.SKIPPED
    except Exception as exc:
        # Failed: back to `failed` so that the retry (Huey's, or the sweep's) may claim it again.
        Delivery.objects.filter(pk=item.pk).update(status=Delivery.Status.FAILED,
                                                   last_error=f"{type(exc).__name__}: {exc}"[:200])
        raise
    Delivery.objects.filter(pk=item.pk).update(status=Delivery.Status.SENT, sent_at=timezone.now(), last_error="")
    return Delivery.Status.SENT
