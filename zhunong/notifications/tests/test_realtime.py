"""The user's own websocket: it joins `user.<id>`, so orders' `order.event` and new notifications reach open
pages; anonymous sockets are closed. The header shows the unread count."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from zhunong.notifications.consumers import CLOSE_NOT_SIGNED_IN, MeConsumer
from zhunong.routing import websocket_urlpatterns
from zhunong.testing import make_user


class _User:
    is_authenticated = True

    def __init__(self, pk: int) -> None:
        self.pk = pk


async def _open(user) -> WebsocketCommunicator:  # noqa: ANN001
    comm = WebsocketCommunicator(MeConsumer.as_asgi(), "/ws/me/")
    comm.scope["user"] = user
    return comm


def test_the_site_routes_ws_me_to_the_consumer():
    assert any(p.pattern.regex.match("ws/me/") for p in websocket_urlpatterns)


@pytest.mark.django_db  # Channels closes stale database connections around each consumer call
def test_order_events_and_notifications_reach_the_users_open_page_only():
    async def scenario() -> None:
        mine, theirs = await _open(_User(41)), await _open(_User(42))
        assert (await mine.connect())[0] and (await theirs.connect())[0]
        layer = get_channel_layer()
        await layer.group_send("user.41", {"type": "order.event", "order_id": 7, "number": "ZN7", "from": "paid",
                                           "to": "shipped"})
        assert await mine.receive_json_from(timeout=2) == {"t": "order", "order_id": 7, "number": "ZN7",
                                                           "from": "paid", "to": "shipped"}
        await layer.group_send("user.41", {"type": "notification.event", "unread": 3, "id": 9, "kind": "shipped",
                                           "title": "已发货", "body": "SF1", "url": "/orders/7/"})
        frame = await mine.receive_json_from(timeout=2)
        assert frame["t"] == "notification" and frame["unread"] == 3 and frame["title"] == "已发货"
        assert await theirs.receive_nothing(timeout=0.2)
        await mine.disconnect()
        await theirs.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db
def test_anonymous_sockets_are_closed():
    async def scenario() -> None:
        comm = await _open(AnonymousUser())
        connected, code = await comm.connect()
        assert not connected and code == CLOSE_NOT_SIGNED_IN

    async_to_sync(scenario)()


@pytest.mark.django_db
def test_the_header_shows_the_unread_count_and_the_centre_reads(client, world):  # noqa: ANN001
    from zhunong.live.models import StreamStatus
    from zhunong.notifications import services
    from zhunong.notifications.kinds import Kind

    viewer = make_user()
    room = world.live_room(1, status=StreamStatus.SCHEDULED)
    services.follow_host(user=viewer, host_id=room.host.pk)
    [note] = services.emit(kind=Kind.STREAM_REMINDER, subject_id=room.stream.pk)
    client.force_login(viewer)
    page = client.get("/notifications/").content.decode()
    assert 'class="badge live notes-unread" aria-label="未读消息数">1<' in page
    assert room.stream.title in page and "/static/notifications/notifications.js" in page
    opened = client.post(f"/notifications/{note.pk}/read/", {"open": "1"})
    assert opened.status_code == 302 and opened["Location"] == f"/live/{room.stream.pk}/"
    page = client.get("/notifications/").content.decode()
    assert 'notes-unread" hidden aria-label' in page
    other = make_user()
    client.force_login(other)
    assert client.post(f"/notifications/{note.pk}/read/").status_code == 404


@pytest.mark.django_db
def test_settings_page_saves_channels_per_kind(client):  # noqa: ANN001
    from zhunong.notifications.models import NotificationPreference

    user = make_user()
    client.force_login(user)
    assert client.get("/notifications/settings/").status_code == 200
    response = client.post("/notifications/settings/", {"shipped": ["in_site", "sms"], "delivered": []})
    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=user, kind="shipped").channels == ["in_site", "sms"]
    assert NotificationPreference.objects.get(user=user, kind="delivered").channels == []
    bad = client.post("/notifications/settings/", {"shipped": ["pigeon"]})
    assert bad.status_code == 422
    assert NotificationPreference.objects.get(user=user, kind="shipped").channels == ["in_site", "sms"]
