"""JSON API of follows and notifications (docs/api.md "Notifications and follows"): the signed-in user's own."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Query, Router, Schema, Status
from pydantic import Field

from zhunong.accounts.api import Id
from zhunong.accounts.auth import auth_required
from zhunong.core.apidoc import responses
from zhunong.core.schemas import RequestSchema

from . import selectors, services
from .errors import ChannelNotFound, HostNotFound, NotificationNotFound, StreamNotFollowable, StreamNotFound
from .kinds import Channel, Kind

router = Router(tags=["notifications"])

KindName = Literal[tuple(Kind.values)]  # type: ignore[valid-type]
ChannelName = Literal[tuple(Channel.values)]  # type: ignore[valid-type]


class NotificationOut(Schema):
    id: int
    kind: KindName
    title: str
    body: str
    url: str = Field(description="a path on this site, or empty")
    created_at: dt.datetime
    read: bool


class NotificationListOut(Schema):
    unread: int
    items: list[NotificationOut]


class ListQuery(Schema):
    unread_only: bool = False
    limit: int = Field(default=30, ge=1, le=100)


class ReadAllOut(Schema):
    marked: int


class FollowIn(RequestSchema):
    target: Literal["channel", "host", "stream"] = Field(
        description="stream: follow the stream's host (its reminder and every later stream)")
    id: Id


class FollowOut(Schema):
    target: Literal["channel", "host"]
    id: int


class FollowsOut(Schema):
    channels: list[int]
    hosts: list[int]


class PreferenceIn(RequestSchema):
    channels: list[ChannelName] = Field(max_length=3, description="empty: this kind is not notified at all")


class PreferenceOut(Schema):
    kind: KindName
    channels: list[ChannelName]


def _out(note) -> dict:  # noqa: ANN001
    return {"id": note.pk, "kind": note.kind, "title": note.title, "body": note.body, "url": note.url,
            "created_at": note.created_at, "read": note.read_at is not None}


@router.get("/me/notifications", response=responses({200: NotificationListOut}), auth=auth_required,
            summary="The signed-in user's notifications, newest first, and the unread count")
def list_notifications(request, query: Query[ListQuery]):  # noqa: ANN001, ANN201
    qs = selectors.notifications_of(request.auth)
    if query.unread_only:
        qs = qs.filter(read_at__isnull=True)
    return {"unread": selectors.unread_count(request.auth), "items": [_out(n) for n in qs[:query.limit]]}


@router.post("/me/notifications/{notification_id}/read", response=responses({200: NotificationOut},
             NotificationNotFound), auth=auth_required, summary="Mark one notification read")
def read_notification(request, notification_id: Id):  # noqa: ANN001, ANN201
    """Another user's notification is `notification_not_found` too."""
    return _out(services.mark_read(user=request.auth, notification_id=notification_id))


@router.post("/me/notifications/read-all", response=responses({200: ReadAllOut}), auth=auth_required,
             summary="Mark every notification read")
def read_all(request):  # noqa: ANN001, ANN201
    return {"marked": services.mark_all_read(user=request.auth)}


@router.get("/me/follows", response=responses({200: FollowsOut}), auth=auth_required,
            summary="The channels and hosts the signed-in user follows")
def list_follows(request):  # noqa: ANN001, ANN201
    return {"channels": [c.pk for c in selectors.followed_channels(request.auth)],
            "hosts": [h.pk for h in selectors.followed_hosts(request.auth)]}


@router.post("/me/follows", response=responses({201: FollowOut}, ChannelNotFound, HostNotFound, StreamNotFound,
             StreamNotFollowable), auth=auth_required, summary="Follow a channel, a host, or a stream's host")
def follow(request, payload: FollowIn):  # noqa: ANN001, ANN201
    """Following twice is not an error. A cancelled or ended stream: 409 `stream_not_followable`, nothing
    followed."""
    if payload.target == "channel":
        channel = services.follow_channel(user=request.auth, channel_id=payload.id)
        return Status(201, {"target": "channel", "id": channel.pk})
    if payload.target == "host":
        host = services.follow_host(user=request.auth, host_id=payload.id)
    else:
        host = services.follow_stream_host(user=request.auth, stream_id=payload.id)
    return Status(201, {"target": "host", "id": host.pk})


@router.delete("/me/follows/hosts/{host_id}", response=responses({204: None}, HostNotFound), auth=auth_required,
               summary="Stop following a host")
def unfollow_host(request, host_id: Id):  # noqa: ANN001, ANN201
    services.unfollow_host(user=request.auth, host_id=host_id)
    return Status(204, None)


@router.put("/me/notification-preferences/{kind}", response=responses({200: PreferenceOut}), auth=auth_required,
            summary="Choose the channels of one kind of notification")
def set_preference(request, kind: KindName, payload: PreferenceIn):  # noqa: ANN001, ANN201
    pref = services.set_channels(user=request.auth, kind=kind, channels=list(payload.channels))
    return {"kind": pref.kind, "channels": pref.channels}
