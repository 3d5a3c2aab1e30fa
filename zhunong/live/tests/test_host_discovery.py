"""POST /live/streams needs a host_id: staff find it at GET /live/channels/{id}/hosts, a host in GET /auth/me."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.accounts.services import issue_token
from zhunong.testing import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def bearer(user) -> dict:  # noqa: ANN001
    _, raw = issue_token(username=user.username, password=PASSWORD)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_a_host_finds_their_host_id_in_auth_me(world):  # noqa: ANN001
    room = world.live_room(1)
    api = Client()
    me = api.get("/api/v1/auth/me", **bearer(room.host_user)).json()
    assert me["host_id"] == room.host.pk
    assert api.get("/api/v1/auth/me", **bearer(make_user())).json()["host_id"] is None
    # Registration answers the account as before (no host_id there).
    doc = api.get("/api/v1/openapi.json").json()
    me_schema = doc["paths"]["/api/v1/auth/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "host_id" in str(doc["components"]["schemas"]) and me_schema


def test_staff_list_a_channels_hosts_and_schedule_with_one(world):  # noqa: ANN001
    room = world.live_room(1)
    channel_id = room.stream.channel_id
    api = Client()
    r = api.get(f"/api/v1/live/channels/{channel_id}/hosts", **bearer(world.operator))
    assert r.status_code == 200, r.content
    [host] = [h for h in r.json() if h["id"] == room.host.pk]
    assert host["verified"] is True and host["channel_id"] == channel_id and host["name"]
    start = timezone.now() + dt.timedelta(hours=1)
    body = {"host_id": host["id"], "title": "茶叶专场", "planned_start": start.isoformat(),
            "planned_end": (start + dt.timedelta(hours=1)).isoformat()}
    r = api.post("/api/v1/live/streams", body, content_type="application/json", **bearer(world.operator))
    assert r.status_code == 201, r.content
    assert r.json()["host"]["id"] == host["id"]


def test_a_channels_hosts_are_not_for_buyers_or_hosts(world):  # noqa: ANN001
    room = world.live_room(1)
    api = Client()
    path = f"/api/v1/live/channels/{room.stream.channel_id}/hosts"
    for user in (make_user(), room.host_user, make_user(roles.REGULATOR)):
        r = api.get(path, **bearer(user))
        assert (r.status_code, r.json()["code"]) == (403, "permission_denied"), r.content
    assert api.get(path).status_code == 401
    r = api.get("/api/v1/live/channels/987654/hosts", **bearer(world.operator))
    assert (r.status_code, r.json()["code"]) == (404, "channel_not_found")


def test_unknown_hosts_and_channels_answer_their_documented_codes(world):  # noqa: ANN001
    api = Client()
    staff = bearer(world.operator)
    start = timezone.now() + dt.timedelta(hours=1)
    body = {"host_id": 987654, "title": "茶叶专场", "planned_start": start.isoformat(),
            "planned_end": (start + dt.timedelta(hours=1)).isoformat()}
    r = api.post("/api/v1/live/streams", body, content_type="application/json", **staff)
    assert (r.status_code, r.json()["code"]) == (404, "host_not_found")
    r = api.post("/api/v1/live/hosts/987654/verify", {"method": "id_card_in_person"}, content_type="application/json",
                 **staff)
    assert (r.status_code, r.json()["code"]) == (404, "host_not_found")
    for method in ("post", "delete"):
        r = getattr(api, method)("/api/v1/live/channels/987654/follow", **bearer(make_user()))
        assert (r.status_code, r.json()["code"]) == (404, "channel_not_found")
