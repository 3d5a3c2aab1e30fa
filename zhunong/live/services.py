"""Writes for live rooms: channels, hosts, streams and their state machine, and everything in a room.

The stream machine (one table, below) is the only way a stream's status changes:

    scheduled ──start──▶ live ──end──▶ ended
        └──────cancel──────▶ cancelled

Room events are published to the channel-layer group `room.<stream_id>` only after the transaction
commits (zhunong.core.events); the per-process hub (hub.py) fans them out to viewers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.accounts.models import User
from zhunong.accounts.selectors import is_platform_admin, user_covers_region
from zhunong.accounts.services import grant_role
from zhunong.catalog.models import ListingStatus, Product
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.core.events import publish_on_commit, publish_room_event, room_group
from zhunong.core.statemachine import TransitionTable
from zhunong.core.text import clean_text
from zhunong.producers.models import Region

from . import payloads
from .errors import (
    AlreadyHost,
    ChannelExists,
    GiftRefused,
    HostNotVerified,
    MessageNotFound,
    NotAuthenticated,
    NotModerator,
    ProductNotListed,
    ProductNotOnShelf,
    StreamNotLive,
)
from .filtering import normalize_word
from .models import (
    Announcement,
    Channel,
    ChatMessage,
    Gift,
    Host,
    HostVerification,
    ModerationAction,
    Pin,
    Report,
    RoomRestriction,
    SensitiveWord,
    Stream,
    StreamMinute,
    StreamStatus,
    StreamTransition,
    ViewerSession,
)

S = StreamStatus
STREAM = TransitionTable(
    "stream",
    {
        S.SCHEDULED: {S.LIVE, S.CANCELLED},
        S.LIVE: {S.ENDED},
        S.ENDED: set(),
        S.CANCELLED: set(),
    },
)

MAX_STREAM_HOURS = 12
MAX_MUTE_SECONDS = 24 * 3600
MAX_SLOW_MODE_SECONDS = 300
MAX_ESTABLISHED_MINUTES = 7 * 24 * 60
WORDS_VERSION_KEY = "live:sensitive-words:version"


# --- who may do what -------------------------------------------------------------------------------


def _authenticated(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def manages_channel(user: User | None, channel: Channel) -> bool:
    """Platform admins, and county operators whose region covers the channel's county."""
    if not _authenticated(user):
        return False
    if is_platform_admin(user):
        return True
    return user.has_role(roles.COUNTY_OPERATOR) and user_covers_region(user, channel.county)


def is_stream_host(user: User | None, stream: Stream) -> bool:
    return _authenticated(user) and stream.host.user_id == user.pk


def can_moderate(user: User | None, stream: Stream) -> bool:
    """The stream's host and the operators of its channel run the room."""
    return is_stream_host(user, stream) or manages_channel(user, stream.channel)


def _require_manager(actor: User | None, channel: Channel) -> None:
    if not manages_channel(actor, channel):
        raise PermissionDenied("Only the county's operators manage its channel, hosts and streams.")


def _require_moderator(actor: User | None, stream: Stream) -> None:
    if not can_moderate(actor, stream):
        raise NotModerator()


def _locked(stream: Stream) -> Stream:
    return Stream.objects.select_for_update().select_related("host__user", "channel__county").get(pk=stream.pk)


# --- channels --------------------------------------------------------------------------------------


@transaction.atomic
def create_channel(*, actor: User, county: Region, name: str, description: str = "") -> Channel:
    if county.level != Region.Level.COUNTY:
        raise ValidationFailed("county: a channel belongs to a county.", details={"field": "county"})
    if not (is_platform_admin(actor) or (actor.has_role(roles.COUNTY_OPERATOR) and user_covers_region(actor, county))):
        raise PermissionDenied("Only the county's operators create its channel.")
    if Channel.objects.filter(county=county).exists():
        raise ChannelExists()
    return Channel.objects.create(
        county=county,
        name=clean_text(name, field="name", max_length=100),
        description=clean_text(description, field="description", max_length=2000, required=False, multiline=True),
    )


@transaction.atomic
def update_channel(*, actor: User, channel: Channel, name: str | None = None,
                   description: str | None = None) -> Channel:
    _require_manager(actor, channel)
    if name is not None:
        channel.name = clean_text(name, field="name", max_length=100)
    if description is not None:
        channel.description = clean_text(description, field="description", max_length=2000, required=False,
                                         multiline=True)
    channel.save(update_fields=["name", "description"])
    return channel


@transaction.atomic
def follow_channel(*, user: User, channel: Channel) -> None:
    if not _authenticated(user):
        raise NotAuthenticated()
    channel.followers.add(user)


@transaction.atomic
def unfollow_channel(*, user: User, channel: Channel) -> None:
    if not _authenticated(user):
        raise NotAuthenticated()
    channel.followers.remove(user)


# --- hosts -----------------------------------------------------------------------------------------


@transaction.atomic
def create_host(*, actor: User, user: User, channel: Channel, kind: str, title: str = "", bio: str = "",
                is_public_servant: bool = False) -> Host:
    """A host profile under a county channel. Public-servant kinds are always public servants."""
    _require_manager(actor, channel)
    if kind not in Host.Kind.values:
        raise ValidationFailed("kind: unknown host type.", details={"field": "kind"})
    if Host.objects.filter(user=user).exists():
        raise AlreadyHost()
    host = Host.objects.create(
        user=user,
        channel=channel,
        kind=kind,
        title=clean_text(title, field="title", max_length=100, required=False),
        bio=clean_text(bio, field="bio", max_length=2000, required=False, multiline=True),
        # The no-payment rule must not depend on someone remembering to tick a box.
        is_public_servant=bool(is_public_servant) or kind in Host.PUBLIC_SERVANT_KINDS,
    )
    grant_role(user=user, role=roles.HOST)
    return host


@transaction.atomic
def update_host(*, actor: User, host: Host, kind: str | None = None, title: str | None = None,
                bio: str | None = None, is_public_servant: bool | None = None) -> Host:
    host = Host.objects.select_for_update().select_related("channel__county").get(pk=host.pk)
    _require_manager(actor, host.channel)
    if kind is not None:
        if kind not in Host.Kind.values:
            raise ValidationFailed("kind: unknown host type.", details={"field": "kind"})
        host.kind = kind
    if title is not None:
        host.title = clean_text(title, field="title", max_length=100, required=False)
    if bio is not None:
        host.bio = clean_text(bio, field="bio", max_length=2000, required=False, multiline=True)
    if is_public_servant is not None:
        host.is_public_servant = is_public_servant
    host.is_public_servant = host.is_public_servant or host.kind in Host.PUBLIC_SERVANT_KINDS
    host.save(update_fields=["kind", "title", "bio", "is_public_servant"])
    return host


@transaction.atomic
def verify_host(*, actor: User, host: Host, method: str, note: str = "") -> Host:
    """Record an operator's identity check (who, when, how). Only verified hosts can go live."""
    host = Host.objects.select_for_update().select_related("channel__county").get(pk=host.pk)
    _require_manager(actor, host.channel)
    if method not in HostVerification.Method.values:
        raise ValidationFailed("method: unknown verification method.", details={"field": "method"})
    note = clean_text(note, field="note", max_length=300, required=False)
    record = HostVerification.objects.create(host=host, action=HostVerification.Action.VERIFIED, method=method,
                                             note=note, actor=actor)
    host.verified_at = record.at
    host.verified_by = actor
    host.verification_method = method
    host.save(update_fields=["verified_at", "verified_by", "verification_method"])
    return host


@transaction.atomic
def revoke_host_verification(*, actor: User, host: Host, reason: str) -> Host:
    host = Host.objects.select_for_update().select_related("channel__county").get(pk=host.pk)
    _require_manager(actor, host.channel)
    reason = clean_text(reason, field="reason", max_length=300)
    HostVerification.objects.create(host=host, action=HostVerification.Action.REVOKED, note=reason, actor=actor)
    host.verified_at = None
    host.verified_by = None
    host.verification_method = ""
    host.save(update_fields=["verified_at", "verified_by", "verification_method"])
    return host


# --- streams and their state machine ---------------------------------------------------------------


def _check_products(channel: Channel, products: Iterable[Product]) -> list[Product]:
    products = list(products)
    if len({p.pk for p in products}) != len(products):
        raise ValidationFailed("products: listed twice.", details={"field": "products"})
    for product in products:
        product.refresh_from_db(fields=["status", "origin"])
        if product.status != ListingStatus.LISTED or not product.origin.is_within(channel.county):
            raise ProductNotListed(details={"product_id": product.pk})
    return products


@transaction.atomic
def schedule_stream(*, actor: User, host: Host, title: str, planned_start: dt.datetime,
                    planned_end: dt.datetime, products: Iterable[Product] = (), description: str = "") -> Stream:
    """A county operator schedules a stream of one of the channel's hosts, selling listed products only."""
    channel = host.channel
    _require_manager(actor, channel)
    if timezone.is_naive(planned_start) or timezone.is_naive(planned_end):
        raise ValidationFailed("planned_start/planned_end: give a time zone.", details={"field": "planned_start"})
    if planned_end <= planned_start:
        raise ValidationFailed("planned_end: must be after the start.", details={"field": "planned_end"})
    if planned_end - planned_start > dt.timedelta(hours=MAX_STREAM_HOURS):
        raise ValidationFailed(f"planned_end: a stream lasts at most {MAX_STREAM_HOURS} hours.",
                               details={"field": "planned_end"})
    if planned_end < timezone.now():
        raise ValidationFailed("planned_end: is in the past.", details={"field": "planned_end"})
    products = _check_products(channel, products)
    stream = Stream.objects.create(
        title=clean_text(title, field="title", max_length=100),
        description=clean_text(description, field="description", max_length=2000, required=False, multiline=True),
        host=host,
        channel=channel,
        planned_start=planned_start,
        planned_end=planned_end,
        created_by=actor,
    )
    stream.products.set(products)
    StreamTransition.objects.create(stream=stream, from_status="", to_status=S.SCHEDULED, actor=actor,
                                    reason="scheduled")
    return stream


@transaction.atomic
def set_stream_products(*, actor: User, stream: Stream, products: Iterable[Product]) -> Stream:
    stream = _locked(stream)
    _require_manager(actor, stream.channel)
    if stream.status not in (S.SCHEDULED, S.LIVE):
        raise StreamNotLive("The stream is over; its shelf is part of the record.")
    products = _check_products(stream.channel, products)
    current = current_pin_locked(stream)
    if current is not None and current.product_id not in {p.pk for p in products}:
        raise ValidationFailed("products: the pinned product cannot be removed; unpin it first.",
                               details={"field": "products"})
    stream.products.set(products)
    publish_room_event(stream.pk, {"t": "shelf", "products": payloads.shelf(stream)})
    return stream


def _transition(stream: Stream, target: str, *, actor: User | None, reason: str = "") -> Stream:
    STREAM.check(stream.status, target)
    StreamTransition.objects.create(stream=stream, from_status=stream.status, to_status=target,
                                    actor=actor if _authenticated(actor) else None, reason=reason[:300])
    stream.status = target
    return stream


@transaction.atomic
def start_stream(*, stream: Stream, actor: User | None = None) -> Stream:
    """scheduled → live. `actor` None is the media server (nginx-rtmp on_publish), already authorised."""
    stream = _locked(stream)
    if actor is not None:
        _require_moderator(actor, stream)
    STREAM.check(stream.status, S.LIVE)
    if not stream.host.is_verified:
        raise HostNotVerified()
    _transition(stream, S.LIVE, actor=actor, reason="started" if actor else "started by the media server")
    stream.started_at = timezone.now()
    stream.save(update_fields=["status", "started_at"])
    publish_room_event(stream.pk, {"t": "status", "status": S.LIVE, "at": stream.started_at.isoformat()})
    return stream


@transaction.atomic
def end_stream(*, stream: Stream, actor: User | None = None, reason: str = "") -> Stream:
    """live → ended. `actor` None is the media server (on_publish_done after the grace period)."""
    stream = _locked(stream)
    if actor is not None:
        _require_moderator(actor, stream)
    reason = clean_text(reason, field="reason", max_length=300, required=False)
    STREAM.check(stream.status, S.ENDED)
    now = timezone.now()
    _close_pin(stream, actor=actor, at=now)
    _transition(stream, S.ENDED, actor=actor, reason=reason or ("ended" if actor else "ended by the media server"))
    stream.ended_at = now
    stream.save(update_fields=["status", "ended_at"])
    if actor is not None:
        ModerationAction.objects.create(stream=stream, actor=actor, action=ModerationAction.Action.END_STREAM,
                                        reason=reason)
    publish_room_event(stream.pk, {"t": "status", "status": S.ENDED, "at": now.isoformat(),
                                   "reason": payloads.esc(reason)})
    return stream


@transaction.atomic
def cancel_stream(*, actor: User, stream: Stream, reason: str) -> Stream:
    stream = _locked(stream)
    _require_manager(actor, stream.channel)
    reason = clean_text(reason, field="reason", max_length=300)
    _transition(stream, S.CANCELLED, actor=actor, reason=reason)
    stream.save(update_fields=["status"])
    publish_room_event(stream.pk, {"t": "status", "status": S.CANCELLED, "reason": payloads.esc(reason)})
    return stream


# --- the room: pins, announcements, settings -------------------------------------------------------


def current_pin_locked(stream: Stream) -> Pin | None:
    return Pin.objects.select_for_update().filter(stream=stream, unpinned_at__isnull=True).first()


def _close_pin(stream: Stream, *, actor: User | None, at: dt.datetime) -> Pin | None:
    pin = current_pin_locked(stream)
    if pin is not None:
        pin.unpinned_at = at
        pin.unpinned_by = actor if _authenticated(actor) else None
        pin.save(update_fields=["unpinned_at", "unpinned_by"])
    return pin


def _require_live(stream: Stream) -> None:
    if stream.status != S.LIVE:
        raise StreamNotLive()


@transaction.atomic
def pin_product(*, actor: User, stream: Stream, product: Product) -> Pin:
    """Put a product of the shelf on top (讲解); the previous pin, if any, ends now."""
    stream = _locked(stream)
    _require_moderator(actor, stream)
    _require_live(stream)
    product = Product.objects.filter(pk=product.pk).first() if product is not None else None
    if product is None or not stream.products.filter(pk=product.pk).exists() or product.status != ListingStatus.LISTED:
        raise ProductNotOnShelf()
    now = timezone.now()
    _close_pin(stream, actor=actor, at=now)
    pin = Pin.objects.create(stream=stream, product=product, pinned_by=actor, pinned_at=now)
    publish_room_event(stream.pk, {"t": "pin", "pin": payloads.pin(pin)})
    return pin


@transaction.atomic
def unpin_product(*, actor: User, stream: Stream) -> Pin | None:
    stream = _locked(stream)
    _require_moderator(actor, stream)
    _require_live(stream)
    pin = _close_pin(stream, actor=actor, at=timezone.now())
    if pin is not None:
        publish_room_event(stream.pk, {"t": "unpin", "pin_id": pin.pk})
    return pin


@transaction.atomic
def post_announcement(*, actor: User, stream: Stream, text: str) -> Announcement:
    stream = _locked(stream)
    _require_moderator(actor, stream)
    if stream.status not in (S.SCHEDULED, S.LIVE):
        raise StreamNotLive()
    text = clean_text(text, field="text", max_length=300)
    item = Announcement.objects.create(stream=stream, author=actor, text=text)
    publish_room_event(stream.pk, {"t": "announce", **payloads.announcement(item)})
    return item


def _settings_event(stream: Stream) -> dict[str, Any]:
    return {"t": "settings", "slow_mode": stream.slow_mode_seconds, "established_only": stream.established_minutes}


@transaction.atomic
def set_slow_mode(*, actor: User, stream: Stream, seconds: int, reason: str = "") -> Stream:
    stream = _locked(stream)
    _require_moderator(actor, stream)
    if not isinstance(seconds, int) or isinstance(seconds, bool) or not 0 <= seconds <= MAX_SLOW_MODE_SECONDS:
        raise ValidationFailed(f"seconds: 0 (off) to {MAX_SLOW_MODE_SECONDS}.", details={"field": "seconds"})
    stream.slow_mode_seconds = seconds
    stream.save(update_fields=["slow_mode_seconds"])
    ModerationAction.objects.create(stream=stream, actor=actor, action=ModerationAction.Action.SLOW_MODE,
                                    reason=clean_text(reason, field="reason", max_length=300, required=False),
                                    details={"seconds": seconds})
    publish_room_event(stream.pk, _settings_event(stream))
    return stream


@transaction.atomic
def set_established_only(*, actor: User, stream: Stream, minutes: int, reason: str = "") -> Stream:
    stream = _locked(stream)
    _require_moderator(actor, stream)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= MAX_ESTABLISHED_MINUTES:
        raise ValidationFailed(f"minutes: 0 (off) to {MAX_ESTABLISHED_MINUTES}.", details={"field": "minutes"})
    stream.established_minutes = minutes
    stream.save(update_fields=["established_minutes"])
    ModerationAction.objects.create(stream=stream, actor=actor, action=ModerationAction.Action.ESTABLISHED_ONLY,
                                    reason=clean_text(reason, field="reason", max_length=300, required=False),
                                    details={"minutes": minutes})
    publish_room_event(stream.pk, _settings_event(stream))
    return stream


# --- moderation ------------------------------------------------------------------------------------


def _target(stream: Stream, user: User | None) -> User:
    if user is None or not user.pk:
        raise ValidationFailed("user_id: no such user.", details={"field": "user_id"})
    if can_moderate(user, stream):
        raise PermissionDenied("The host and the county's operators cannot be muted or banned.")
    return user


@transaction.atomic
def mute_user(*, actor: User, stream: Stream, user: User, seconds: int, reason: str = "") -> RoomRestriction:
    stream = _locked(stream)
    _require_moderator(actor, stream)
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
    stream = _locked(stream)
    _require_moderator(actor, stream)
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
    stream = _locked(stream)
    _require_moderator(actor, stream)
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
    stream = _locked(stream)
    _require_moderator(actor, stream)
    lifted = RoomRestriction.objects.filter(stream=stream, user=user, kind=RoomRestriction.Kind.BAN,
                                            lifted_at__isnull=True).update(lifted_at=timezone.now(), lifted_by=actor)
    ModerationAction.objects.create(stream=stream, actor=actor, action=ModerationAction.Action.UNBAN,
                                    target_user=user,
                                    reason=clean_text(reason, field="reason", max_length=300, required=False))
    publish_room_event(stream.pk, {"t": "mod", "action": "unban", "user_id": user.pk})
    return lifted


@transaction.atomic
def delete_message(*, actor: User, stream: Stream, message_id: int, reason: str = "") -> ChatMessage:
    stream = _locked(stream)
    _require_moderator(actor, stream)
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


def active_restrictions(stream_id: int) -> list[RoomRestriction]:
    now = timezone.now()
    return list(RoomRestriction.objects.filter(stream_id=stream_id, lifted_at__isnull=True)
                .filter(models.Q(until__isnull=True) | models.Q(until__gt=now)))


# --- reports ---------------------------------------------------------------------------------------


@transaction.atomic
def report(*, reporter: User, stream: Stream, reason: str, message_id: int | None = None,
           user_id: int | None = None, note: str = "") -> Report:
    """A viewer reports a message or a user; the room's moderators see it in the console."""
    if not _authenticated(reporter):
        raise NotAuthenticated()
    if reason not in Report.Reason.values:
        raise ValidationFailed("reason: unknown reason.", details={"field": "reason"})
    note = clean_text(note, field="note", max_length=300, required=False)
    message = None
    target = None
    if message_id is not None:
        if not isinstance(message_id, int) or isinstance(message_id, bool):
            raise MessageNotFound()
        message = ChatMessage.objects.filter(stream=stream, pk=message_id).first()
        if message is None:
            raise MessageNotFound()
        target = message.user
    elif user_id is not None:
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise ValidationFailed("user_id: no such user.", details={"field": "user_id"})
        target = User.objects.filter(pk=user_id).first()
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
    _require_moderator(actor, item.stream)
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


# --- gifts (refused for public servants) -----------------------------------------------------------


def gifts_offered(stream: Stream) -> list[dict[str, str]]:
    """What the room offers: nothing at all when the host is a public servant (公益直播)."""
    if stream.host.is_public_servant:
        return []
    return [{"kind": k.value, "label": str(k.label)} for k in Gift.Kind]


def send_gift(*, user: User, stream: Stream, kind: str, via: str) -> Gift:
    """Send a gift. To a public-servant host it is refused, recorded and flagged for the integrity office.

    Not one transaction: the refusal must be stored even though the call then fails.
    """
    if not _authenticated(user):
        raise NotAuthenticated()
    if via not in Gift.Via.values:
        raise ValidationFailed("via: unknown.", details={"field": "via"})
    kind = str(kind)[:24]
    stream = Stream.objects.select_related("host__user", "channel__county").get(pk=stream.pk)
    if stream.host.is_public_servant:
        _refuse_gift(user=user, stream=stream, kind=kind, via=via)
        raise GiftRefused(details={"host_id": stream.host_id})
    if kind not in Gift.Kind.values:
        raise ValidationFailed("kind: unknown gift.", details={"field": "kind"})
    return _accept_gift(user=user, stream=stream, kind=kind, via=via)


@transaction.atomic
def _refuse_gift(*, user: User, stream: Stream, kind: str, via: str) -> Gift:
    from zhunong.supervision.models import IntegrityFlag
    from zhunong.supervision.services import raise_flag

    first = not Gift.objects.filter(stream=stream, user=user, refused=True).exists()
    gift = Gift.objects.create(stream=stream, user=user, kind=kind, via=via, refused=True,
                               reason="host is a public servant")
    if first:  # one flag per viewer and stream; every further attempt is still stored as a Gift row
        raise_flag(
            kind=IntegrityFlag.Kind.GIFT_TO_OFFICIAL,
            summary=f"直播《{stream.title}》: 用户 {user} 试图向公职人员主播 {stream.host.user} 送礼 ({kind})",
            subject=stream,
            region=stream.channel.county,
            details={"stream_id": stream.pk, "host_id": stream.host_id, "user_id": user.pk, "kind": kind,
                     "via": via, "gift_id": gift.pk},
            raised_by=None,
        )
    return gift


@transaction.atomic
def _accept_gift(*, user: User, stream: Stream, kind: str, via: str) -> Gift:
    if stream.status != S.LIVE:
        raise StreamNotLive()
    gift = Gift.objects.create(stream=stream, user=user, kind=kind, via=via)
    publish_room_event(stream.pk, {"t": "gift", "kind": kind, "user_id": user.pk, "name": payloads.esc(str(user))},
                       important=False)
    return gift


# --- chat, viewers and the minute series (called by the hub, in batches) ---------------------------


@dataclass
class ChatIn:
    """One accepted chat message as the hub hands it to `save_chat_batch`."""

    user_id: int
    user_name: str
    text: str
    original: str
    is_host: bool
    blocked: bool
    hits: list[str]
    at: dt.datetime


@transaction.atomic
def save_chat_batch(*, stream_id: int, items: list[ChatIn]) -> list[ChatMessage]:
    """Store a tick's chat in one insert; blocked messages are kept for the audit and logged."""
    if not items:
        return []
    rows = [
        ChatMessage(stream_id=stream_id, user_id=i.user_id, user_name=i.user_name[:50], text=i.text[:500],
                    original=i.original[:500], is_host=i.is_host, filter_hits=i.hits,
                    status=ChatMessage.Status.BLOCKED if i.blocked else ChatMessage.Status.SHOWN, created_at=i.at)
        for i in items
    ]
    saved = ChatMessage.objects.bulk_create(rows)
    log = [ModerationAction(stream_id=stream_id, actor=None, action=ModerationAction.Action.BLOCK_MESSAGE,
                            target_user_id=m.user_id, message=m, reason="sensitive words",
                            details={"hits": m.filter_hits})
           for m in saved if m.status == ChatMessage.Status.BLOCKED]
    if log:
        ModerationAction.objects.bulk_create(log)
    return saved


@transaction.atomic
def record_new_viewers(*, stream_id: int, viewers: list[tuple[str, int | None]], at: dt.datetime) -> None:
    """A viewer seen for the first time in this stream (reconnects are the same viewer)."""
    ViewerSession.objects.bulk_create(
        [ViewerSession(stream_id=stream_id, viewer_key=key, user_id=uid, first_seen=at, last_seen=at)
         for key, uid in viewers],
        ignore_conflicts=True,
    )


@transaction.atomic
def touch_viewers(*, stream_id: int, keys: list[str], at: dt.datetime) -> int:
    return ViewerSession.objects.filter(stream_id=stream_id, viewer_key__in=keys).update(last_seen=at)


def minute_of(at: dt.datetime) -> dt.datetime:
    return at.replace(second=0, microsecond=0)


@transaction.atomic
def add_minute_stats(*, stream_id: int, minute: dt.datetime, concurrent: int = 0, new_viewers: int = 0,
                     chat: int = 0, likes: int = 0, clicks: int = 0) -> None:
    """Add one process's counts to a minute of the series; processes add up, the peak is kept."""
    minute = minute_of(minute)
    try:
        with transaction.atomic():
            row, _ = StreamMinute.objects.get_or_create(stream_id=stream_id, minute=minute)
    except IntegrityError:  # another process created it in between
        row = StreamMinute.objects.get(stream_id=stream_id, minute=minute)
    StreamMinute.objects.filter(pk=row.pk).update(
        concurrent_viewers=Greatest(F("concurrent_viewers"), concurrent),
        new_viewers=F("new_viewers") + new_viewers,
        chat_messages=F("chat_messages") + chat,
        likes=F("likes") + likes,
        product_clicks=F("product_clicks") + clicks,
    )


@transaction.atomic
def set_like_total(*, stream_id: int, total: int) -> None:
    Stream.objects.filter(pk=stream_id).update(like_total=Greatest(F("like_total"), total))


@transaction.atomic
def fill_minute_gaps(*, now: dt.datetime | None = None) -> int:
    """Periodic (Huey, every minute): a live stream's last minute gets a row even when nothing happened,
    so the series has explicit zeros instead of holes."""
    now = now or timezone.now()
    previous = minute_of(now) - dt.timedelta(minutes=1)
    created = 0
    for stream_id in Stream.objects.filter(status=S.LIVE, started_at__lte=previous).values_list("pk", flat=True):
        _, was_created = StreamMinute.objects.get_or_create(stream_id=stream_id, minute=previous)
        created += int(was_created)
    return created


# --- sensitive words -------------------------------------------------------------------------------


def words_version() -> int:
    return int(cache.get(WORDS_VERSION_KEY) or 0)


def _bump_words_version() -> None:
    def bump() -> None:
        try:
            cache.incr(WORDS_VERSION_KEY)
        except ValueError:
            cache.set(WORDS_VERSION_KEY, 1, timeout=None)

    transaction.on_commit(bump)


def _require_word_editor(actor: User) -> None:
    if not (is_platform_admin(actor) or actor.has_role(roles.COUNTY_OPERATOR)):
        raise PermissionDenied("Only operators edit the sensitive-word list.")


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


# --- retention -------------------------------------------------------------------------------------

RECORD_MODELS = [ChatMessage, Pin, Announcement, RoomRestriction, ModerationAction, Report, ViewerSession,
                 StreamMinute, Gift]


def purge_records(*, days: int | None = None, dry_run: bool = False, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete the room records of streams that ended (or were cancelled) more than `days` ago.

    A stream's record goes as a whole, so what is kept can always be audited completely. The stream row
    and its state history stay (orders and replays refer to them).
    """
    days = settings.RECORD_RETENTION_DAYS if days is None else days
    if not isinstance(days, int) or days < 1:
        raise ValidationFailed("days: a positive number of days.", details={"field": "days"})
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    finished = Stream.objects.filter(
        models.Q(status=S.ENDED, ended_at__lt=cutoff) | models.Q(status=S.CANCELLED, planned_end__lt=cutoff)
    ).filter(records_purged_at__isnull=True)
    stream_ids = list(finished.values_list("pk", flat=True))
    counts: dict[str, int] = {"streams": len(stream_ids)}
    with transaction.atomic():
        # Log entries and reports point at messages; delete them before the messages.
        for model in [ModerationAction, Report, *[m for m in RECORD_MODELS if m not in (ModerationAction, Report)]]:
            qs = model.objects.filter(stream_id__in=stream_ids)
            counts[model._meta.model_name] = qs.count()
            if not dry_run:
                qs.delete()
        if not dry_run:
            Stream.objects.filter(pk__in=stream_ids).update(records_purged_at=timezone.now())
        if dry_run:
            transaction.set_rollback(True)
    return counts
