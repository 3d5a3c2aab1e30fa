"""Writes for a county's channel, its hosts and their streams: the stream state machine, the shelf and
the pin, announcements, and the retention of a stream's record.

The stream machine (one table, below) is the only way a stream's status changes:

    scheduled ──start──▶ live ──end──▶ ended
        └──────cancel──────▶ cancelled

Room events are published to the channel-layer group `room.<stream_id>` only after the transaction
commits (zhunong.core.events); the per-process hub (hub.py) fans them out to viewers. Moderation
(moderation.py) and the room's traffic (chat.py) are written elsewhere.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core import checks
from django.db import models, transaction
from django.utils import timezone

from zhunong.accounts import policy, roles
from zhunong.accounts.models import User
from zhunong.accounts.services import grant_role
from zhunong.catalog.models import ListingStatus, Product
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.core.events import publish_room_event
from zhunong.core.integrity import refusals_recorded
from zhunong.core.statemachine import TransitionTable
from zhunong.core.text import clean_text
from zhunong.producers.models import Region

from . import approvals, payloads, quota, realname, thirds
from .errors import (
    AlreadyHost,
    ApprovalOutdated,
    ApprovalRequired,
    ApprovedShelfLocked,
    ChannelExists,
    HostNotVerified,
    NotAuthenticated,
    NotModerator,
    ProductNotListed,
    ProductNotOnShelf,
    StreamNotLive,
)
from .hooks import held_streams
from .models import (
    Announcement,
    Channel,
    ChatMessage,
    Gift,
    Host,
    ModerationAction,
    Pin,
    Report,
    RoomRestriction,
    Stream,
    StreamMinute,
    StreamStatus,
    StreamTransition,
    ViewerSession,
)
from .selectors import is_authenticated

log = logging.getLogger(__name__)

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


# --- who may do what (accounts.policy) -------------------------------------------------------------


def _require_manager(actor: User | None, channel: Channel) -> None:
    policy.require(actor, "channel.manage", channel,
                   error=PermissionDenied("Only the county's operators manage its channel, hosts and streams."))


def require_moderator(actor: User | None, stream: Stream) -> None:
    policy.require(actor, "stream.moderate", stream, error=NotModerator)


def locked_stream(stream: Stream) -> Stream:
    """The stream row locked for this transaction: every change to a room starts here."""
    return Stream.objects.select_for_update().select_related("host__user", "channel__county").get(pk=stream.pk)


# --- channels --------------------------------------------------------------------------------------


@transaction.atomic
def create_channel(*, actor: User, county: Region, name: str, description: str = "") -> Channel:
    if county.level != Region.Level.COUNTY:
        raise ValidationFailed("county: a channel belongs to a county.", details={"field": "county"})
    if not policy.can(actor, "channel.manage", county):
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
    if not is_authenticated(user):
        raise NotAuthenticated()
    channel.followers.add(user)


@transaction.atomic
def unfollow_channel(*, user: User, channel: Channel) -> None:
    if not is_authenticated(user):
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
def record_host_training(*, actor: User, host: Host, trained_at: dt.date | None) -> Host:
    """When the host finished the platform's training (recorded in the back office; None clears it)."""
    _require_manager(actor, host.channel)
    Host.objects.filter(pk=host.pk).update(trained_at=trained_at)
    host.trained_at = trained_at
    return host


def verify_host(*, actor: User, host: Host, method: str, note: str = "", real_name: str | None = None,
                id_number: str | None = None) -> Host:
    """An operator's real-name check of the host (who, when, how, which ID number): realname.verify_host.
    Needs the identity on file, or `real_name` and `id_number` to record it first. Only verified hosts go live."""
    return realname.verify_host(actor=actor, host=host, method=method, note=note, real_name=real_name,
                                id_number=id_number)


def revoke_host_verification(*, actor: User, host: Host, reason: str) -> Host:
    return realname.revoke_host_verification(actor=actor, host=host, reason=reason)


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
    quota.flag_quota_text(stream=stream, text=f"{stream.title}\n{stream.description}", where="标题或介绍",
                          subject=stream, actor=actor)
    return stream


@transaction.atomic
def set_stream_products(*, actor: User, stream: Stream, products: Iterable[Product]) -> Stream:
    stream = locked_stream(stream)
    _require_manager(actor, stream.channel)
    if stream.status not in (S.SCHEDULED, S.LIVE):
        raise StreamNotLive("The stream is over; its shelf is part of the record.")
    products = _check_products(stream.channel, products)
    changed = {p.pk for p in products} != set(stream.products.values_list("pk", flat=True))
    if changed and stream.status == S.LIVE and approvals.needs_approval(stream):
        raise ApprovedShelfLocked(details={"stream_id": stream.pk})
    current = current_pin_locked(stream)
    if current is not None and current.product_id not in {p.pk for p in products}:
        raise ValidationFailed("products: the pinned product cannot be removed; unpin it first.",
                               details={"field": "products"})
    stream.products.set(products)
    approvals.void_for_shelf_change(stream)
    publish_room_event(stream.pk, {"t": "shelf", "products": payloads.shelf(stream)})
    return stream


def _transition(stream: Stream, target: str, *, actor: User | None, reason: str = "") -> Stream:
    STREAM.check(stream.status, target)
    StreamTransition.objects.create(stream=stream, from_status=stream.status, to_status=target,
                                    actor=actor if is_authenticated(actor) else None, reason=reason[:300])
    stream.status = target
    return stream


@refusals_recorded("live.stream_start_refused", ApprovalRequired, ApprovalOutdated, subject="stream")
@transaction.atomic
def start_stream(*, stream: Stream, actor: User | None = None) -> Stream:
    """scheduled → live. `actor` None is the media server (nginx-rtmp on_publish), already authorised.

    A public servant's stream needs a current approval (approvals.py); a refusal for want of one is
    recorded in the audit log after the transaction is over, so the rollback does not take it along."""
    stream = locked_stream(stream)
    if actor is not None:
        require_moderator(actor, stream)
    STREAM.check(stream.status, S.LIVE)
    if not stream.host.is_verified:
        raise HostNotVerified()
    approvals.check_can_go_live(stream)
    _transition(stream, S.LIVE, actor=actor, reason="started" if actor else "started by the media server")
    stream.started_at = timezone.now()
    stream.save(update_fields=["status", "started_at"])
    publish_room_event(stream.pk, {"t": "status", "status": S.LIVE, "at": stream.started_at.isoformat()})
    return stream


@transaction.atomic
def end_stream(*, stream: Stream, actor: User | None = None, reason: str = "") -> Stream:
    """live → ended. `actor` None is the media server (on_publish_done after the grace period)."""
    stream = locked_stream(stream)
    if actor is not None:
        require_moderator(actor, stream)
    reason = clean_text(reason, field="reason", max_length=300, required=False)
    STREAM.check(stream.status, S.ENDED)
    now = timezone.now()
    _close_pin(stream, actor=actor, at=now)
    thirds.close_open_segment(stream, at=now, actor=actor)
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
    stream = locked_stream(stream)
    _require_manager(actor, stream.channel)
    reason = clean_text(reason, field="reason", max_length=300)
    _transition(stream, S.CANCELLED, actor=actor, reason=reason)
    stream.save(update_fields=["status"])
    publish_room_event(stream.pk, {"t": "status", "status": S.CANCELLED, "reason": payloads.esc(reason)})
    return stream


# --- the room: pins and announcements ------------------------------------------------------------


def current_pin_locked(stream: Stream) -> Pin | None:
    return Pin.objects.select_for_update().filter(stream=stream, unpinned_at__isnull=True).first()


def _close_pin(stream: Stream, *, actor: User | None, at: dt.datetime) -> Pin | None:
    pin = current_pin_locked(stream)
    if pin is not None:
        pin.unpinned_at = at
        pin.unpinned_by = actor if is_authenticated(actor) else None
        pin.save(update_fields=["unpinned_at", "unpinned_by"])
    return pin


def _require_live(stream: Stream) -> None:
    if stream.status != S.LIVE:
        raise StreamNotLive()


@transaction.atomic
def pin_product(*, actor: User, stream: Stream, product: Product) -> Pin:
    """Put a product of the shelf on top (讲解); the previous pin, if any, ends now."""
    stream = locked_stream(stream)
    require_moderator(actor, stream)
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
    stream = locked_stream(stream)
    require_moderator(actor, stream)
    _require_live(stream)
    pin = _close_pin(stream, actor=actor, at=timezone.now())
    if pin is not None:
        publish_room_event(stream.pk, {"t": "unpin", "pin_id": pin.pk})
    return pin


@transaction.atomic
def post_announcement(*, actor: User, stream: Stream, text: str) -> Announcement:
    stream = locked_stream(stream)
    require_moderator(actor, stream)
    if stream.status not in (S.SCHEDULED, S.LIVE):
        raise StreamNotLive()
    text = clean_text(text, field="text", max_length=300)
    item = Announcement.objects.create(stream=stream, author=actor, text=text)
    quota.flag_quota_text(stream=stream, text=text, where="公告", subject=item, actor=actor)
    publish_room_event(stream.pk, {"t": "announce", **payloads.announcement(item)})
    return item


# --- retention -------------------------------------------------------------------------------------

# China's online-trade rules keep live-stream records for at least three years; no setting or option goes below.
MIN_RETENTION_DAYS = 3 * 365

RECORD_MODELS = [ChatMessage, Pin, Announcement, RoomRestriction, ModerationAction, Report, ViewerSession,
                 StreamMinute, Gift]


def check_retention_days(days: object, *, field: str = "days") -> int:
    """`days` if it is a whole number of days of at least MIN_RETENTION_DAYS; else ValidationFailed."""
    if isinstance(days, bool) or not isinstance(days, int) or days < MIN_RETENTION_DAYS:
        raise ValidationFailed(
            f"{field}: records are kept at least {MIN_RETENTION_DAYS} days (3 years); got {days!r}.",
            details={"field": field, "minimum": MIN_RETENTION_DAYS})
    return days


def check_record_retention(app_configs, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001, ANN003
    """System check live.E001: RECORD_RETENTION_DAYS of at least MIN_RETENTION_DAYS."""
    try:
        check_retention_days(settings.RECORD_RETENTION_DAYS, field="RECORD_RETENTION_DAYS")
    except ValidationFailed as exc:
        return [checks.Error(exc.message, hint=f"Set RECORD_RETENTION_DAYS to {MIN_RETENTION_DAYS} or more.",
                             id="live.E001")]
    return []


def purge_records(*, days: int | None = None, dry_run: bool = False, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete the room records of streams that ended (or were cancelled) more than `days` ago.

    A stream's record goes as a whole, so what is kept can always be audited completely. The stream row
    and its state history stay (orders and replays refer to them). `days` (RECORD_RETENTION_DAYS by
    default) is at least MIN_RETENTION_DAYS, and a stream an open case is about (`hooks.held_streams`:
    a complaint, after-sales request or pledge claim) keeps its record until the case is closed.
    """
    days = check_retention_days(settings.RECORD_RETENTION_DAYS if days is None else days,
                                field="days" if days is not None else "RECORD_RETENTION_DAYS")
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    finished = Stream.objects.filter(
        models.Q(status=S.ENDED, ended_at__lt=cutoff) | models.Q(status=S.CANCELLED, planned_end__lt=cutoff)
    ).filter(records_purged_at__isnull=True)
    candidates = list(finished.values_list("pk", flat=True))
    held = held_streams(candidates)
    stream_ids = [pk for pk in candidates if pk not in held]
    if held:
        log.info("retention: %d stream(s) past retention kept for open cases", len(held))
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
