"""Writes for a room's traffic: chat (stored in batches by the hub), viewer sessions, likes, the
per-minute series, and gifts (refused, recorded and reported to the integrity office when the host is
a public servant)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.core.errors import ValidationFailed
from zhunong.core.events import publish_room_event
from zhunong.core.integrity import ConcernKind, refusals_recorded, report_concern

from . import payloads
from .errors import GiftRefused, NotAuthenticated, StreamNotLive, TooManyGifts
from .models import ChatMessage, Gift, ModerationAction, Stream, StreamMinute, StreamStatus, ViewerSession
from .selectors import is_authenticated
from .store import GIFT_WINDOW, GIFTS_PER_WINDOW, take_token

S = StreamStatus


# --- gifts (refused for public servants) -----------------------------------------------------------


@refusals_recorded("live.gift_refused", GiftRefused, actor="user", subject="stream")
def send_gift(*, user: User, stream: Stream, kind: str, via: str) -> Gift:
    """Send a gift. To a public-servant host it is refused, recorded and flagged for the integrity office.

    Not one transaction: the refusal must be stored even though the call then fails.
    """
    if not is_authenticated(user):
        raise NotAuthenticated()
    if via not in Gift.Via.values:
        raise ValidationFailed("via: unknown.", details={"field": "via"})
    # Throttled before anything is stored (a refused gift to a public servant is stored too).
    retry_after = take_token("gift", user.pk, limit=GIFTS_PER_WINDOW, window=GIFT_WINDOW)
    if retry_after:
        raise TooManyGifts(retry_after=retry_after)
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
    first = not Gift.objects.filter(stream=stream, user=user, refused=True).exists()
    gift = Gift.objects.create(stream=stream, user=user, kind=kind, via=via, refused=True,
                               reason="host is a public servant")
    if first:  # one flag per viewer and stream; every further attempt is still stored as a Gift row
        report_concern(
            kind=ConcernKind.GIFT_TO_OFFICIAL,
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
