"""The integrity office's JSON API: flags of the caller's region, reviews and approvals, with declared codes."""

from __future__ import annotations

import pytest

from zhunong.accounts import roles
from zhunong.live.models import Host, StreamApproval, StreamStatus
from zhunong.supervision.models import FlagReview
from zhunong.testing import api_auth, build_world, make_user

from .office_scene import build


@pytest.fixture
def scene(world):  # noqa: ANN001, ANN201
    return build(world)


@pytest.mark.django_db
def test_flags_of_the_region_with_their_evidence(client, scene) -> None:  # noqa: ANN001
    response = client.get("/api/v1/integrity/flags", {"kind": "fake_order"}, **api_auth(scene.inspector))
    assert response.status_code == 200
    (flag,) = response.json()
    assert flag["id"] == scene.flag.pk and flag["stream_id"] == scene.room.stream.pk and flag["score"] == 0.93
    assert flag["evidence"]["order_ids"] == [o.number for o in scene.fake] and flag["review"] is None
    other = make_user(roles.DISCIPLINE_INSPECTOR, region=build_world().county)
    assert client.get("/api/v1/integrity/flags", **api_auth(other)).json() == []
    missing = client.get(f"/api/v1/integrity/flags/{scene.flag.pk}", **api_auth(other))
    assert (missing.status_code, missing.json()["code"]) == (404, "flag_not_found")
    refused = client.get("/api/v1/integrity/flags", **api_auth(make_user()))
    assert (refused.status_code, refused.json()["code"]) == (403, "not_integrity_office")
    assert client.get("/api/v1/integrity/flags", {"kind": "nonsense"}, **api_auth(scene.inspector)).status_code == 422


@pytest.mark.django_db
def test_review_once_then_409(client, scene) -> None:  # noqa: ANN001
    url = f"/api/v1/integrity/flags/{scene.flag.pk}/review"
    headers = api_auth(scene.inspector)
    response = client.post(url, {"decision": "confirmed", "reason": "已核实"}, content_type="application/json", **headers)
    assert response.status_code == 201 and response.json()["decision"] == "confirmed"
    again = client.post(url, {"decision": "dismissed", "reason": "改判"}, content_type="application/json", **headers)
    assert (again.status_code, again.json()["code"]) == (409, "flag_already_reviewed")
    assert FlagReview.objects.get(flag=scene.flag).decision == "confirmed"
    shown = client.get(f"/api/v1/integrity/flags/{scene.flag.pk}", **headers).json()
    assert shown["status"] == "confirmed" and shown["review"]["reason"] == "已核实"


@pytest.mark.django_db
def test_review_refusals(client, scene) -> None:  # noqa: ANN001
    url = f"/api/v1/integrity/flags/{scene.flag.pk}/review"
    body = {"decision": "confirmed", "reason": "x"}
    other = make_user(roles.DISCIPLINE_INSPECTOR, region=build_world().county)
    for user, status, code in [(other, 403, "reviewer_outside_region"), (scene.world.regulator, 403, "not_flag_reviewer")]:
        response = client.post(url, body, content_type="application/json", **api_auth(user))
        assert (response.status_code, response.json()["code"]) == (status, code)
    response = client.post("/api/v1/integrity/flags/999999/review", body, content_type="application/json",
                           **api_auth(scene.inspector))
    assert (response.status_code, response.json()["code"]) == (404, "flag_not_found")
    for bad in ({"decision": "maybe", "reason": "x"}, {"decision": "confirmed", "reason": " "},
                {"decision": "confirmed", "reason": "长" * 2001}):
        response = client.post(url, bad, content_type="application/json", **api_auth(scene.inspector))
        assert response.status_code == 422
    assert not FlagReview.objects.exists()


@pytest.mark.django_db
def test_approval_through_the_api(client, world) -> None:  # noqa: ANN001
    room = world.live_room(1, kind=Host.Kind.COUNTY_HEAD, status=StreamStatus.SCHEDULED)
    url = f"/api/v1/integrity/streams/{room.stream.pk}/approval"
    response = client.post(url, {"approve": True, "reason": "已核实"}, content_type="application/json",
                           **api_auth(world.discipline_inspector))
    assert response.status_code == 201 and response.json()["decision"] == "approved"
    assert response.json()["covers"]["products"][0]["price"] == "39.90"
    refused = client.post(url, {"approve": True, "reason": "x"}, content_type="application/json",
                          **api_auth(world.operator))
    assert (refused.status_code, refused.json()["code"]) == (403, "not_discipline_inspector")
    gone = client.post("/api/v1/integrity/streams/999999/approval", {"approve": True, "reason": "x"},
                       content_type="application/json", **api_auth(world.discipline_inspector))
    assert (gone.status_code, gone.json()["code"]) == (404, "supervised_stream_not_found")
    assert StreamApproval.objects.count() == 1


@pytest.mark.django_db
def test_every_answer_is_declared(client) -> None:  # noqa: ANN001
    doc = client.get("/api/v1/openapi.json").json()
    review = doc["paths"]["/api/v1/integrity/flags/{flag_id}/review"]["post"]["responses"]
    assert set(review) >= {"201", "403", "404", "409", "422", "401"}
    codes = review["409"]["content"]["application/json"]["schema"]["properties"]["code"]["enum"]
    assert set(codes) == {"flag_already_reviewed", "flag_evidence_missing"}
