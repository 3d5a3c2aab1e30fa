"""The hosts API (live/api_hosts.py): identity, record and the three thirds, with their declared refusals."""

from __future__ import annotations

import pytest
from django.test import Client

from zhunong.accounts import roles
from zhunong.accounts.idnumber import with_check_char
from zhunong.live.api_hosts import KindName
from zhunong.live.models import HostIdentity, SegmentKind, StreamSegment
from zhunong.testing import api_auth, fake_id_number, make_user

pytestmark = pytest.mark.django_db


def put(client: Client, url: str, body: dict, user):  # noqa: ANN001, ANN201
    return client.put(url, body, content_type="application/json", **api_auth(user))


def test_identity_put_masks_and_refuses_with_codes(world, client):
    host = world.live_room(status="scheduled", verified=False).host
    url = f"/api/v1/live/hosts/{host.pk}/identity"
    number = fake_id_number()
    r = put(client, url, {"real_name": " 李四 ", "id_number": number}, world.operator)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["id_masked"] == number[:6] + "********" + number[14:] and number not in r.content.decode()
    assert body["real_name"] == "李四" and body["verified"] is False
    checks = [
        ({"real_name": "李四", "id_number": number[:-1] + ("0" if number[-1] != "0" else "1")}, 422, "id_number_checksum"),
        ({"real_name": "李四", "id_number": with_check_char("43092319990230123")}, 422, "id_number_birth_date"),
        ({"real_name": "李四", "id_number": with_check_char("96092319990101123")}, 422, "id_number_region"),
        ({"real_name": "李四", "id_number": "12345"}, 422, "invalid"),
        ({"real_name": "李4", "id_number": number}, 422, "invalid"),
    ]
    for payload, status, code in checks:
        r = put(client, url, payload, world.operator)
        assert (r.status_code, r.json()["code"]) == (status, code), (payload, r.content)
    other = world.live_room(status="scheduled", verified=False).host
    r = put(client, f"/api/v1/live/hosts/{other.pk}/identity", {"real_name": "张三", "id_number": number}, world.operator)
    assert (r.status_code, r.json()["code"]) == (409, "id_number_in_use")
    r = put(client, url, {"real_name": "李四", "id_number": fake_id_number()}, make_user(roles.COUNTY_OPERATOR))
    assert r.status_code == 403
    r = put(client, "/api/v1/live/hosts/987654/identity", {"real_name": "李四", "id_number": number}, world.operator)
    assert (r.status_code, r.json()["code"]) == (404, "host_not_found")
    assert HostIdentity.objects.get(host=host).id_masked == body["id_masked"]
    assert not HostIdentity.objects.filter(host=other).exists()


def test_verify_endpoint_needs_the_identity(world, client):
    host = world.live_room(status="scheduled", verified=False).host
    r = client.post(f"/api/v1/live/hosts/{host.pk}/verify", {"method": "video_call"}, content_type="application/json",
                    **api_auth(world.operator))
    assert (r.status_code, r.json()["code"]) == (409, "host_identity_missing")
    put(client, f"/api/v1/live/hosts/{host.pk}/identity", {"real_name": "李四", "id_number": fake_id_number()},
        world.operator)
    r = client.post(f"/api/v1/live/hosts/{host.pk}/verify", {"method": "video_call"}, content_type="application/json",
                    **api_auth(world.operator))
    assert r.status_code == 200 and r.json()["verified"] is True


def test_segments_and_thirds_and_record(world, client, room):
    url = f"/api/v1/live/streams/{room.stream.pk}/segments"
    r = client.post(url, {"kind": "policy"}, content_type="application/json", **api_auth(room.host.user))
    assert r.status_code == 200 and r.json()["current"]["kind"] == "policy"
    r = client.post(url, {"kind": None}, content_type="application/json", **api_auth(room.host.user))
    assert r.json()["current"] is None and StreamSegment.objects.count() == 1
    r = client.post(url, {"kind": "singing"}, content_type="application/json", **api_auth(room.host.user))
    assert (r.status_code, r.json()["code"]) == (422, "invalid")
    r = client.post(url, {"kind": "policy"}, content_type="application/json", **api_auth(make_user()))
    assert (r.status_code, r.json()["code"]) == (403, "not_moderator")
    scheduled = world.live_room(status="scheduled")
    r = client.post(f"/api/v1/live/streams/{scheduled.stream.pk}/segments", {"kind": "policy"},
                    content_type="application/json", **api_auth(world.operator))
    assert (r.status_code, r.json()["code"]) == (409, "stream_not_live")
    r = client.get(f"/api/v1/live/streams/{room.stream.pk}/thirds", **api_auth(world.regulator))
    assert r.status_code == 200 and [s["kind"] for s in r.json()["split"]["shares"]] == list(SegmentKind.values)
    assert client.get(f"/api/v1/live/streams/{room.stream.pk}/thirds", **api_auth(make_user())).status_code == 403
    r = client.get(f"/api/v1/live/hosts/{room.host.pk}/record", **api_auth(room.host.user))
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["streams"]["live"] == 1 and body["figures"]["orders"] == 0 and body["figures"]["refund_rate"] is None
    assert body["stream_lines"][0]["split"]["marked_seconds"] >= 0
    assert client.get(f"/api/v1/live/hosts/{room.host.pk}/record", **api_auth(make_user())).status_code == 403


def test_schema_enum_is_the_models():
    assert set(KindName.__args__) == set(SegmentKind.values)
