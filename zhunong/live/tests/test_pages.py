"""Pages, API and admin of the live app (HTTP, through the real URL conf)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.live import chat, streams
from zhunong.live.models import Gift, HostVerification, Stream
from zhunong.supervision.models import IntegrityFlag
from zhunong.testing import fake_id_number, make_admin, make_user

pytestmark = pytest.mark.django_db


def client_for(user=None) -> Client:  # noqa: ANN001
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def bearer(user) -> dict:  # noqa: ANN001
    from zhunong.accounts.models import ApiToken

    raw = f"tok-{user.pk}-abcdefghijklmnop"
    ApiToken.objects.get_or_create(user=user, key_hash=ApiToken.hash(raw), defaults={"prefix": raw[:8]})
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_room_page_shows_shelf_and_no_gifts_for_public_servants(world):
    room = world.live_room(kind="first_secretary")
    streams.pin_product(actor=room.host.user, stream=room.stream, product=room.products[1])
    html = client_for().get(f"/live/{room.stream.pk}/").content.decode()
    assert room.products[0].name in html and "讲解中" in html and "公益直播" in html
    assert 'data-role="gift"' not in html
    assert f'data-ws-path="/ws/rooms/{room.stream.pk}/"' in html
    assert client_for().get("/live/999999/").status_code == 404


def test_room_page_offers_gifts_for_other_hosts(room):
    html = client_for(make_user()).get(f"/live/{room.stream.pk}/").content.decode()
    assert 'data-role="gift"' in html


def test_console_only_for_host_and_operators(room):
    url = f"/live/{room.stream.pk}/console/"
    assert client_for(room.host.user).get(url).status_code == 200
    assert client_for(room.operator).get(url).status_code == 200
    assert client_for(make_user()).get(url).status_code == 403
    assert client_for().get(url).status_code == 302  # to the login page


def test_host_starts_and_ends_from_console(world):
    room = world.live_room(status="scheduled")
    c = client_for(room.host.user)
    c.post(f"/live/{room.stream.pk}/start/")
    assert Stream.objects.get(pk=room.stream.pk).status == "live"
    viewer = client_for(make_user())
    viewer.post(f"/live/{room.stream.pk}/end/")
    assert Stream.objects.get(pk=room.stream.pk).status == "live"  # a viewer cannot end it
    c.post(f"/live/{room.stream.pk}/end/", {"reason": "下播"})
    assert Stream.objects.get(pk=room.stream.pk).status == "ended"


def test_operator_schedules_from_the_browser(world):
    room = world.live_room(status="scheduled")
    op = client_for(world.operator)
    start = timezone.localtime() + dt.timedelta(hours=1)
    fmt = "%Y-%m-%dT%H:%M"
    response = op.post("/live/manage/schedule/", {
        "channel": room.channel.pk, "title": "晚间专场", "host": room.host.pk,
        "planned_start": start.strftime(fmt), "planned_end": (start + dt.timedelta(hours=2)).strftime(fmt),
        "products": [p.pk for p in room.products],
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    stream = Stream.objects.get(title="晚间专场")
    assert set(stream.products.all()) == set(room.products)
    assert "晚间专场" in op.get("/live/manage/").content.decode()
    # A viewer cannot schedule.
    assert client_for(make_user()).get("/live/manage/schedule/").status_code == 403


def test_operator_adds_and_verifies_a_host(world):
    from zhunong.live.models import Host

    room = world.live_room(status="scheduled")
    candidate = make_user(roles.BUYER)
    op = client_for(world.operator)
    r = op.post("/live/manage/hosts/", {"channel": room.channel.pk, "username": candidate.username,
                                         "kind": "county_head", "title": "副县长"})
    assert r.status_code == 302
    host = Host.objects.get(user=candidate)
    assert host.is_public_servant and not host.is_verified
    op.post(f"/live/manage/hosts/{host.pk}/verify/", {"method": "gov_real_name", "note": "政务平台",
                                                      "real_name": "王五", "id_number": fake_id_number()})
    host.refresh_from_db()
    assert host.is_verified and host.verified_by == world.operator
    assert HostVerification.objects.filter(host=host, method="gov_real_name").exists()
    assert "副县长" in op.get("/live/manage/hosts/").content.decode()


def test_follow_channel_with_htmx(room):
    viewer = make_user()
    c = client_for(viewer)
    r = c.post(f"/live/channels/{room.channel.pk}/follow/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "已关注" in r.content.decode()
    assert room.channel.followers.filter(pk=viewer.pk).exists()
    page = c.get(f"/live/channels/{room.channel.pk}/").content.decode()
    assert "已关注" in page
    c.post(f"/live/channels/{room.channel.pk}/follow/", {"action": "unfollow"})
    assert not room.channel.followers.filter(pk=viewer.pk).exists()


def test_record_page_tabs(room):
    streams.post_announcement(actor=room.host.user, stream=room.stream, text="八点开抢")
    c = client_for(room.operator)
    assert "八点开抢" in c.get(f"/live/{room.stream.pk}/record/?tab=announcements").content.decode()
    frag = c.get(f"/live/{room.stream.pk}/record/?tab=history", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in frag and "预告" in frag  # the status's label, not its stored value
    assert client_for(make_user()).get(f"/live/{room.stream.pk}/record/").status_code == 403


def test_api_lists_and_schedules(world):
    room = world.live_room(status="scheduled")
    c = client_for()
    body = c.get("/api/v1/live/streams?status=scheduled").json()
    assert body["count"] == 1 and body["items"][0]["websocket_path"] == f"/ws/rooms/{room.stream.pk}/"
    assert c.get("/api/v1/live/streams?status=nope").status_code == 422
    assert c.get("/api/v1/live/streams/999999").json()["code"] == "stream_not_found"
    start = timezone.now() + dt.timedelta(hours=1)
    payload = {"host_id": room.host.pk, "title": "API 专场", "planned_start": start.isoformat(),
               "planned_end": (start + dt.timedelta(hours=1)).isoformat(), "product_ids": [room.products[0].pk]}
    r = c.post("/api/v1/live/streams", payload, content_type="application/json", **bearer(world.operator))
    assert r.status_code == 201, r.content
    draft = world.draft_product(name="草稿商品")
    r = c.post("/api/v1/live/streams", {**payload, "product_ids": [draft.pk]}, content_type="application/json",
               **bearer(world.operator))
    assert r.status_code == 422 and r.json()["code"] == "product_not_listed"
    r = c.post("/api/v1/live/streams", payload, content_type="application/json", **bearer(make_user()))
    assert r.status_code == 403


def test_api_start_pin_end(world):
    room = world.live_room(status="scheduled")
    auth = bearer(room.host.user)
    c = client_for()
    assert c.post(f"/api/v1/live/streams/{room.stream.pk}/start", **auth).json()["status"] == "live"
    r = c.post(f"/api/v1/live/streams/{room.stream.pk}/pins", {"product_id": room.products[0].pk},
               content_type="application/json", **auth)
    assert r.status_code == 201
    assert c.get(f"/api/v1/live/streams/{room.stream.pk}/pins").json()[0]["unpinned_at"] is None
    r = c.post(f"/api/v1/live/streams/{room.stream.pk}/end", {"reason": "完"}, content_type="application/json",
               **bearer(make_user()))
    assert r.status_code == 403 and r.json()["code"] == "not_moderator"
    r = c.post(f"/api/v1/live/streams/{room.stream.pk}/end", {"reason": "完"}, content_type="application/json", **auth)
    assert r.json()["status"] == "ended"
    assert c.get(f"/api/v1/live/streams/{room.stream.pk}/pins").json()[0]["unpinned_at"] is not None


def test_api_gift_to_public_servant_is_refused_and_recorded(world):
    room = world.live_room(kind="first_secretary")
    viewer = make_user()
    r = client_for().post(f"/api/v1/live/streams/{room.stream.pk}/gifts", {"kind": "flower"},
                          content_type="application/json", **bearer(viewer))
    assert r.status_code == 403 and r.json()["code"] == "gift_refused_public_servant"
    assert Gift.objects.get(stream=room.stream).via == "api"
    flag = IntegrityFlag.objects.get(kind="gift_to_official")
    assert flag.details["stream_id"] == room.stream.pk


def test_api_minutes_are_for_staff(room):
    chat.add_minute_stats(stream_id=room.stream.pk, minute=timezone.now(), concurrent=3, chat=2)
    c = client_for()
    assert c.get(f"/api/v1/live/streams/{room.stream.pk}/minutes", **bearer(room.operator)).json()[0]["chat_messages"] == 2
    assert c.get(f"/api/v1/live/streams/{room.stream.pk}/minutes", **bearer(make_user())).status_code == 403


def test_admin_browses_a_streams_record(room):
    streams.post_announcement(actor=room.host.user, stream=room.stream, text="公告一")
    admin = client_for(make_admin())
    assert admin.get(f"/admin/live/stream/{room.stream.pk}/change/").status_code == 200
    for model in ("chatmessage", "pin", "announcement", "moderationaction", "report", "viewersession",
                  "streamminute", "gift", "streamtransition", "hostverification", "roomrestriction",
                  "sensitiveword", "host", "channel"):
        assert admin.get(f"/admin/live/{model}/").status_code == 200, model
    op = client_for(room.operator)
    assert op.get(f"/admin/live/stream/{room.stream.pk}/change/").status_code == 200
    other = client_for(make_user(roles.COUNTY_OPERATOR))  # no region: sees nothing
    # The admin's answer for an object outside your queryset: back to the admin index, as for a missing one.
    assert other.get(f"/admin/live/stream/{room.stream.pk}/change/").status_code == 302


def test_admin_edits_sensitive_words_through_the_service(room):
    admin = client_for(make_admin())
    r = admin.post("/admin/live/sensitiveword/add/", {"word": "加 微 信", "action": "mask", "category": "私下交易",
                                                     "active": "on"})
    assert r.status_code == 302
    from zhunong.live.models import SensitiveWord

    assert SensitiveWord.objects.get().normalized == "加微信"
