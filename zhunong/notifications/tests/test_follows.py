"""Following channels and hosts, the "following" page, going-live and reminder notifications, and bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from zhunong.live import streams as live
from zhunong.live.models import StreamStatus
from zhunong.notifications import services, tasks
from zhunong.notifications.errors import ChannelNotFound, HostNotFound, StreamNotFollowable, StreamNotFound
from zhunong.notifications.kinds import Kind
from zhunong.notifications.models import HostFollow, Notification
from zhunong.testing import make_user

pytestmark = pytest.mark.django_db


def test_followers_of_the_channel_or_the_host_hear_the_stream_go_live(world, django_capture_on_commit_callbacks):  # noqa: ANN001
    room = world.live_room(1, status=StreamStatus.SCHEDULED)
    by_channel, by_host, stranger = make_user(), make_user(), make_user()
    services.follow_channel(user=by_channel, channel_id=room.stream.channel_id)
    services.follow_host(user=by_host, host_id=room.host.pk)
    services.follow_host(user=by_host, host_id=room.host.pk)  # twice: still one follow
    assert HostFollow.objects.filter(user=by_host).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        live.start_stream(actor=room.host.user, stream=room.stream)
    told = set(Notification.objects.filter(kind=Kind.STREAM_LIVE).values_list("user_id", flat=True))
    assert told == {by_channel.pk, by_host.pk}
    note = Notification.objects.get(user=by_host, kind=Kind.STREAM_LIVE)
    assert note.url == f"/live/{room.stream.pk}/" and room.stream.title in note.body
    assert stranger.notifications.count() == 0


def test_a_reminder_before_a_followed_stream_starts_once(world):  # noqa: ANN001
    soon = world.live_room(1, status=StreamStatus.SCHEDULED, starts_in=dt.timedelta(minutes=10))
    later = world.live_room(1, status=StreamStatus.SCHEDULED, starts_in=dt.timedelta(hours=3))
    viewer = make_user()
    services.follow_host(user=viewer, host_id=soon.host.pk)
    services.follow_host(user=viewer, host_id=later.host.pk)
    assert tasks.remind_followers() == 1
    assert tasks.remind_followers() == 0
    [note] = Notification.objects.filter(user=viewer, kind=Kind.STREAM_REMINDER)
    assert note.event_key == f"stream:{soon.stream.pk}:reminder"
    # Three hours later the other one is due.
    assert tasks.remind_followers(now=timezone.now() + dt.timedelta(hours=2, minutes=50)) == 1


def test_following_page_shows_live_and_scheduled_streams(client, world):  # noqa: ANN001
    on_air = world.live_room(1, title="正在卖蓝莓")
    planned = world.live_room(1, status=StreamStatus.SCHEDULED, starts_in=dt.timedelta(days=1), title="明天卖苹果")
    other = world.live_room(1, status=StreamStatus.SCHEDULED, title="没关注的")
    viewer = make_user()
    services.follow_host(user=viewer, host_id=on_air.host.pk)
    services.follow_host(user=viewer, host_id=planned.host.pk)
    client.force_login(viewer)
    page = client.get("/following/")
    text = page.content.decode()
    assert page.status_code == 200 and "正在卖蓝莓" in text and "明天卖苹果" in text and "没关注的" not in text
    assert other.stream.title not in text
    response = client.post(f"/following/hosts/{planned.host.pk}/", {"action": "unfollow"})
    assert response.status_code == 302
    assert "明天卖苹果" not in client.get("/following/").content.decode()


def test_bad_follows_change_nothing(world):  # noqa: ANN001
    viewer = make_user()
    cancelled = world.live_room(1, status=StreamStatus.SCHEDULED)
    live.cancel_stream(actor=world.operator, stream=cancelled.stream, reason="天气原因")
    with pytest.raises(StreamNotFollowable) as caught:
        services.follow_stream_host(user=viewer, stream_id=cancelled.stream.pk)
    assert caught.value.code == "stream_not_followable"
    with pytest.raises(ChannelNotFound):
        services.follow_channel(user=viewer, channel_id=987654)
    with pytest.raises(HostNotFound):
        services.follow_host(user=viewer, host_id=987654)
    with pytest.raises(StreamNotFound):
        services.follow_stream_host(user=viewer, stream_id=987654)
    assert not HostFollow.objects.exists() and not viewer.followed_channels.exists()


def test_api_follows_and_notifications(client, world):  # noqa: ANN001
    from zhunong.testing import api_auth

    viewer = make_user()
    headers = api_auth(viewer)
    room = world.live_room(1, status=StreamStatus.SCHEDULED)
    created = client.post("/api/v1/me/follows", {"target": "stream", "id": room.stream.pk},
                          content_type="application/json", **headers)
    assert created.status_code == 201 and created.json() == {"target": "host", "id": room.host.pk}
    channel = client.post("/api/v1/me/follows", {"target": "channel", "id": room.stream.channel_id},
                          content_type="application/json", **headers)
    assert channel.status_code == 201
    assert client.get("/api/v1/me/follows", **headers).json() == {"channels": [room.stream.channel_id],
                                                                  "hosts": [room.host.pk]}
    missing = client.post("/api/v1/me/follows", {"target": "channel", "id": 987654},
                          content_type="application/json", **headers)
    assert missing.status_code == 404 and missing.json()["code"] == "channel_not_found"
    live.cancel_stream(actor=world.operator, stream=room.stream, reason="停电")
    refused = client.post("/api/v1/me/follows", {"target": "stream", "id": room.stream.pk},
                          content_type="application/json", **headers)
    assert refused.status_code == 409 and refused.json()["code"] == "stream_not_followable"
    bad = client.post("/api/v1/me/follows", {"target": "village", "id": 1}, content_type="application/json",
                      **headers)
    assert bad.status_code == 422
    assert client.delete(f"/api/v1/me/follows/hosts/{room.host.pk}", **headers).status_code == 204

    services.emit(kind=Kind.STREAM_REMINDER, subject_id=room.stream.pk)  # the channel follow still reminds
    listed = client.get("/api/v1/me/notifications", **headers).json()
    assert listed["unread"] == 1 and listed["items"][0]["kind"] == "stream_reminder"
    note_id = listed["items"][0]["id"]
    other = make_user()
    assert client.post(f"/api/v1/me/notifications/{note_id}/read", **api_auth(other)).status_code == 404
    read = client.post(f"/api/v1/me/notifications/{note_id}/read", **headers)
    assert read.status_code == 200 and read.json()["read"] is True
    assert client.get("/api/v1/me/notifications", {"unread_only": "true"}, **headers).json()["items"] == []
    pref = client.put("/api/v1/me/notification-preferences/shipped", {"channels": ["sms", "in_site"]},
                      content_type="application/json", **headers)
    assert pref.status_code == 200 and pref.json() == {"kind": "shipped", "channels": ["in_site", "sms"]}
    assert client.put("/api/v1/me/notification-preferences/shipped", {"channels": ["pigeon"]},
                      content_type="application/json", **headers).status_code == 422
