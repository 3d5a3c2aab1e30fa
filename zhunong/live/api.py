"""Live API: streams (list, schedule, start/end/cancel), pins, announcements, reports, gifts (refused
for public-servant hosts), channels and following, host verification, and a stream's minute series.

The real-time room itself is the websocket (docs/live-protocol.md); these endpoints serve other
clients (apps, the media server's helpers, back-office tools) through the same services.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from zhunong.accounts import policy
from zhunong.accounts.api import Id, text_field
from zhunong.accounts.auth import auth_required
from zhunong.core.apidoc import responses
from zhunong.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from zhunong.core.schemas import RequestSchema

from . import chat, moderation, selectors, streams
from . import errors as E  # noqa: N812
from .errors import ChannelNotFound, HostNotFound
from .models import Channel, Gift, Host, HostVerification, Report, Stream

router = Router(tags=["live"])

StatusName = Literal["scheduled", "live", "ended", "cancelled"]
MAX_LIMIT = 100
StatusQuery = Query("live", description="live (now), scheduled (upcoming), ended or cancelled")
Limit = Query(20, ge=1, le=MAX_LIMIT)
Offset = Query(0, ge=0, le=100_000)


class HostOut(Schema):
    id: int
    name: str
    kind: str
    title: str
    public_servant: bool
    verified: bool


class StreamOut(Schema):
    id: int
    title: str
    description: str
    status: StatusName
    channel_id: int
    channel: str
    host: HostOut
    planned_start: dt.datetime
    planned_end: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    product_ids: list[int]
    gifts_offered: list[str]
    like_total: int
    room_url: str
    websocket_path: str


class StreamPage(Schema):
    count: int
    items: list[StreamOut]


class ScheduleIn(RequestSchema):
    host_id: Id
    title: str = text_field(max_length=100, required=True)
    description: str = text_field("", max_length=2000, multiline=True)
    planned_start: dt.datetime
    planned_end: dt.datetime
    product_ids: list[Id] = Field(default_factory=list, max_length=50)


class ReasonIn(RequestSchema):
    reason: str = text_field("", max_length=300)


class PinIn(RequestSchema):
    product_id: Id


class PinOut(Schema):
    id: int
    product_id: int
    product_name: str
    pinned_at: dt.datetime
    unpinned_at: dt.datetime | None


class AnnouncementIn(RequestSchema):
    text: str = text_field(max_length=300, required=True)


class IdOut(Schema):
    id: int


class ReportIn(RequestSchema):
    # A report names a message or a user (a message wins when both are given): the document says so.
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["message_id"], "properties": {"message_id": {"type": "integer"}}},
        {"required": ["user_id"], "properties": {"user_id": {"type": "integer"}}}]})

    reason: Literal[tuple(Report.Reason.values)]  # type: ignore[valid-type]
    message_id: Id | None = None
    user_id: Id | None = None
    note: str = text_field("", max_length=300)


class GiftIn(RequestSchema):
    kind: Literal[tuple(Gift.Kind.values)]  # type: ignore[valid-type]


class GiftOut(Schema):
    id: int
    kind: str


class MinuteOut(Schema):
    minute: dt.datetime
    concurrent_viewers: int
    new_viewers: int
    chat_messages: int
    likes: int
    product_clicks: int


class ChannelOut(Schema):
    id: int
    name: str
    description: str
    county: str
    followers: int


class ChannelHostOut(HostOut):
    channel_id: int
    user_id: int
    verified_at: dt.datetime | None


class ChannelFollowOut(Schema):
    channel_id: int
    following: bool
    followers: int


class VerifyIn(RequestSchema):
    method: Literal[tuple(HostVerification.Method.values)]  # type: ignore[valid-type]
    note: str = text_field("", max_length=300)


class VerifyOut(Schema):
    host_id: int
    verified: bool
    verified_at: dt.datetime | None
    verified_by: int | None
    method: str


def _stream_out(stream: Stream) -> dict:
    host = stream.host
    return {
        "id": stream.pk, "title": stream.title, "description": stream.description, "status": stream.status,
        "channel_id": stream.channel_id, "channel": stream.channel.name,
        "host": {"id": host.pk, "name": str(host.user), "kind": host.kind, "title": host.title,
                 "public_servant": host.is_public_servant, "verified": host.is_verified},
        "planned_start": stream.planned_start, "planned_end": stream.planned_end,
        "started_at": stream.started_at, "ended_at": stream.ended_at,
        "product_ids": sorted(stream.products.values_list("pk", flat=True)),
        "gifts_offered": [g["kind"] for g in selectors.gifts_offered(stream)],
        "like_total": stream.like_total,
        "room_url": f"/live/{stream.pk}/",
        "websocket_path": f"/ws/rooms/{stream.pk}/",
    }


def _host(host_id: int) -> Host:
    """The host, or 404 `host_not_found` (the documented code, not the generic `not_found`)."""
    host = selectors.hosts().filter(pk=host_id).first()
    if host is None:
        raise HostNotFound()
    return host


def _channel(channel_id: int) -> Channel:
    channel = selectors.channels().filter(pk=channel_id).first()
    if channel is None:
        raise ChannelNotFound()
    return channel


def _stream(stream_id: int) -> Stream:
    return selectors.get_stream(stream_id)


@router.get("/live/streams", response=responses({200: StreamPage}), auth=None)
def list_streams(request, status: StatusName = StatusQuery, limit: int = Limit, offset: int = Offset):  # noqa: ANN001, ANN201
    qs = {"live": selectors.live_streams(), "scheduled": selectors.upcoming_streams(),
          "ended": selectors.ended_streams()}.get(status)
    if qs is None:
        qs = selectors.streams_with_status(status)
    return {"count": qs.count(), "items": [_stream_out(s) for s in qs[offset:offset + limit]]}


@router.get("/live/streams/{stream_id}", response=responses({200: StreamOut}, E.StreamNotFound), auth=None)
def get_stream(request, stream_id: Id):  # noqa: ANN001, ANN201
    return _stream_out(_stream(stream_id))


@router.post("/live/streams", response=responses({201: StreamOut}, HostNotFound, PermissionDenied, E.ProductNotListed),
             auth=auth_required)
def schedule_stream(request, payload: ScheduleIn):  # noqa: ANN001, ANN201
    host = _host(payload.host_id)
    products = selectors.products_by_ids(payload.product_ids)
    if len(products) != len(set(payload.product_ids)):
        raise ValidationFailed("product_ids: unknown product.", details={"field": "product_ids"})
    stream = streams.schedule_stream(actor=request.auth, host=host, title=payload.title,
                                     planned_start=payload.planned_start, planned_end=payload.planned_end,
                                     products=products, description=payload.description)
    return Status(201, _stream_out(selectors.get_stream(stream.pk)))


@router.post("/live/streams/{stream_id}/start", response=responses(
                 {200: StreamOut}, E.StreamNotFound, E.NotModerator, InvalidTransition, E.HostNotVerified,
                 E.ApprovalRequired, E.ApprovalOutdated), auth=auth_required)
def start_stream(request, stream_id: Id):  # noqa: ANN001, ANN201
    streams.start_stream(stream=_stream(stream_id), actor=request.auth)
    return _stream_out(_stream(stream_id))


@router.post("/live/streams/{stream_id}/end", response=responses({200: StreamOut}, E.StreamNotFound, E.NotModerator,
                                                                   InvalidTransition), auth=auth_required)
def end_stream(request, stream_id: Id, payload: ReasonIn):  # noqa: ANN001, ANN201
    streams.end_stream(stream=_stream(stream_id), actor=request.auth, reason=payload.reason)
    return _stream_out(_stream(stream_id))


@router.post("/live/streams/{stream_id}/cancel",
             response=responses({200: StreamOut}, E.StreamNotFound, PermissionDenied, InvalidTransition),
             auth=auth_required)
def cancel_stream(request, stream_id: Id, payload: ReasonIn):  # noqa: ANN001, ANN201
    streams.cancel_stream(actor=request.auth, stream=_stream(stream_id), reason=payload.reason or "cancelled")
    return _stream_out(_stream(stream_id))


def _pin_out(pin) -> dict:  # noqa: ANN001
    return {"id": pin.pk, "product_id": pin.product_id, "product_name": pin.product.name,
            "pinned_at": pin.pinned_at, "unpinned_at": pin.unpinned_at}


@router.get("/live/streams/{stream_id}/pins", response=responses({200: list[PinOut]}, E.StreamNotFound), auth=None)
def list_pins(request, stream_id: Id):  # noqa: ANN001, ANN201
    """Every pin of the stream in order; the last without `unpinned_at` is the current one."""
    return [_pin_out(p) for p in selectors.pins(_stream(stream_id))]


@router.post("/live/streams/{stream_id}/pins",
             response=responses({201: PinOut}, E.StreamNotFound, E.NotModerator, E.StreamNotLive, E.ProductNotOnShelf),
             auth=auth_required)
def pin_product(request, stream_id: Id, payload: PinIn):  # noqa: ANN001, ANN201
    stream = _stream(stream_id)
    product = selectors.product_by_id(payload.product_id)
    pin = streams.pin_product(actor=request.auth, stream=stream, product=product)
    return Status(201, _pin_out(pin))


@router.delete("/live/streams/{stream_id}/pins/current",
               response=responses({204: None}, E.StreamNotFound, E.NotModerator, E.StreamNotLive),
               auth=auth_required)
def unpin_product(request, stream_id: Id):  # noqa: ANN001, ANN201
    streams.unpin_product(actor=request.auth, stream=_stream(stream_id))
    return Status(204, None)


@router.post("/live/streams/{stream_id}/announcements",
             response=responses({201: IdOut}, E.StreamNotFound, E.NotModerator, E.StreamNotLive), auth=auth_required)
def announce(request, stream_id: Id, payload: AnnouncementIn):  # noqa: ANN001, ANN201
    item = streams.post_announcement(actor=request.auth, stream=_stream(stream_id), text=payload.text)
    return Status(201, {"id": item.pk})


@router.post("/live/streams/{stream_id}/reports",
             response=responses({201: IdOut}, E.StreamNotFound, E.NotAuthenticated, E.MessageNotFound,
                                E.TooManyReports), auth=auth_required)
def report(request, stream_id: Id, payload: ReportIn):  # noqa: ANN001, ANN201
    item = moderation.report(reporter=request.auth, stream=_stream(stream_id), reason=payload.reason,
                             message_id=payload.message_id, user_id=payload.user_id if payload.message_id is None else None,
                             note=payload.note)
    return Status(201, {"id": item.pk})


@router.post("/live/streams/{stream_id}/gifts",
             response=responses({201: GiftOut}, E.StreamNotFound, E.NotAuthenticated, E.GiftRefused, E.StreamNotLive,
                                E.TooManyGifts), auth=auth_required)
def send_gift(request, stream_id: Id, payload: GiftIn):  # noqa: ANN001, ANN201
    """Gifts to a public-servant host are refused (403 gift_refused_public_servant), stored and flagged."""
    gift = chat.send_gift(user=request.auth, stream=_stream(stream_id), kind=payload.kind, via=Gift.Via.API)
    return Status(201, {"id": gift.pk, "kind": gift.kind})


@router.get("/live/streams/{stream_id}/minutes",
            response=responses({200: list[MinuteOut]}, E.StreamNotFound, PermissionDenied), auth=auth_required)
def minutes(request, stream_id: Id):  # noqa: ANN001, ANN201
    """The per-minute series (moderators of the stream, regulators, platform admins)."""
    stream = _stream(stream_id)
    policy.require(request.auth, "stream.audit", stream, error=PermissionDenied(
        "Only the stream's host, its county's operators and regulators see its series."))
    return list(selectors.minute_series(stream).values(
        "minute", "concurrent_viewers", "new_viewers", "chat_messages", "likes", "product_clicks"))


def _channel_out(channel: Channel) -> dict:
    return {"id": channel.pk, "name": channel.name, "description": channel.description,
            "county": channel.county.name, "followers": channel.followers.count()}


@router.get("/live/channels", response=responses({200: list[ChannelOut]}), auth=None)
def list_channels(request):  # noqa: ANN001, ANN201
    return [_channel_out(c) for c in selectors.channels()[:500]]


@router.get("/live/channels/{channel_id}/hosts",
            response=responses({200: list[ChannelHostOut]}, ChannelNotFound, PermissionDenied), auth=auth_required,
            summary="A channel's hosts, with the host_id POST /live/streams takes (staff who manage the channel)")
def channel_hosts(request, channel_id: Id):  # noqa: ANN001, ANN201
    """Platform admins and the county operators of the channel's county (`channel.manage`); anyone else →
    403 `permission_denied` (channels are public, their hosts' accounts are not); unknown → 404
    `channel_not_found`. A host finds their own `host_id` in `GET /auth/me`."""
    channel = _channel(channel_id)
    policy.require(request.auth, "channel.manage", channel,
                   error=PermissionDenied("Only the channel's county operators see its hosts."))
    return [{"id": h.pk, "name": str(h.user), "kind": h.kind, "title": h.title,
             "public_servant": h.is_public_servant, "verified": h.is_verified, "channel_id": h.channel_id,
             "user_id": h.user_id, "verified_at": h.verified_at} for h in selectors.channel_hosts(channel)]


@router.post("/live/channels/{channel_id}/follow",
             response=responses({200: ChannelFollowOut}, ChannelNotFound, E.NotAuthenticated), auth=auth_required)
def follow(request, channel_id: Id):  # noqa: ANN001, ANN201
    channel = _channel(channel_id)
    streams.follow_channel(user=request.auth, channel=channel)
    return {"channel_id": channel.pk, "following": True, "followers": channel.followers.count()}


@router.delete("/live/channels/{channel_id}/follow",
               response=responses({200: ChannelFollowOut}, ChannelNotFound, E.NotAuthenticated), auth=auth_required)
def unfollow(request, channel_id: Id):  # noqa: ANN001, ANN201
    channel = _channel(channel_id)
    streams.unfollow_channel(user=request.auth, channel=channel)
    return {"channel_id": channel.pk, "following": False, "followers": channel.followers.count()}


@router.post("/live/hosts/{host_id}/verify",
             response=responses({200: VerifyOut}, HostNotFound, PermissionDenied, E.HostIdentityMissing,
                                E.HostUnderAge, E.IdNumberInUse), auth=auth_required)
def verify_host(request, host_id: Id, payload: VerifyIn):  # noqa: ANN001, ANN201
    host = _host(host_id)
    host = streams.verify_host(actor=request.auth, host=host, method=payload.method, note=payload.note)
    return {"host_id": host.pk, "verified": host.is_verified, "verified_at": host.verified_at,
            "verified_by": host.verified_by_id, "method": host.verification_method}


