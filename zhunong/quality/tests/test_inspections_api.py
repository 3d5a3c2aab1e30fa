"""POST/GET /api/v1/inspections: regulators record and read inspections, scoped to their region."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.accounts.services import issue_token
from zhunong.catalog import services as catalog
from zhunong.quality.models import Inspection, TraceEvent
from zhunong.testing import PASSWORD, build_world, make_user

pytestmark = pytest.mark.django_db


def auth(user) -> dict:  # noqa: ANN001
    _user, token = issue_token(username=user.username, password=PASSWORD)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def body(world, **changes) -> dict:  # noqa: ANN001
    data = {"trace_code": world.batch.trace_code, "sample_code": "JZ-2025-0001", "lab": "胶州市检验检测中心",
            "sampled_on": timezone.localdate().isoformat(), "result": "pass",
            "items": [{"name": "农药残留", "value": "0.01", "limit": "0.05", "unit": "mg/kg"},
                      {"name": "硒", "value": 0.07, "limit": 0.04, "limit_kind": "min", "unit": "mg/kg"}]}
    data.update(changes)
    return data


def awaiting(world):  # noqa: ANN001, ANN201
    product = world.draft_product()
    catalog.submit_for_inspection(actor=world.operator, product=product)
    return product


def test_regulator_records_an_inspection_and_the_product_is_listed(client):
    world = build_world()
    product = awaiting(world)
    response = client.post("/api/v1/inspections", body(world), content_type="application/json", **auth(world.regulator))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["trace_code"] == world.batch.trace_code and data["result"] == "pass"
    assert [i["passed"] for i in data["items"]] == [True, True]
    assert data["products"] == [{"id": product.pk, "name": product.name, "status": "listed"}]
    product.refresh_from_db()
    assert product.status == "listed"
    assert TraceEvent.objects.filter(batch=world.batch, biz_step="inspecting").count() == 1


def test_inspector_of_another_region_is_refused(client):
    world = build_world()
    product = awaiting(world)
    stranger = build_world().regulator
    response = client.post("/api/v1/inspections", body(world), content_type="application/json", **auth(stranger))
    assert response.status_code == 403
    assert response.json()["code"] == "inspector_outside_region"
    assert not Inspection.objects.exists()
    product.refresh_from_db()
    assert product.status == "awaiting_inspection"
    # Reading another region's batch is refused the same way.
    response = client.get(f"/api/v1/inspections?trace_code={world.batch.trace_code}", **auth(stranger))
    assert response.status_code == 403 and response.json()["code"] == "inspector_outside_region"


@pytest.mark.parametrize("role", [roles.COUNTY_OPERATOR, roles.BUYER, roles.HOST, roles.PRODUCER_MANAGER])
def test_only_inspectors_record(client, role):
    world = build_world()
    user = make_user(role, region=world.county)
    response = client.post("/api/v1/inspections", body(world), content_type="application/json", **auth(user))
    assert response.status_code == 403 and response.json()["code"] == "not_an_inspector"
    assert not Inspection.objects.exists()


def test_anonymous_is_401(client):
    world = build_world()
    assert client.post("/api/v1/inspections", body(world), content_type="application/json").status_code == 401
    assert client.get("/api/v1/inspections").status_code == 401


@pytest.mark.parametrize("changes, status, code", [
    ({"result": "maybe"}, 422, "invalid"),
    ({"sampled_on": "2025-13-45"}, 422, "invalid"),
    ({"sampled_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat()}, 422, "invalid"),
    ({"sampled_on": "2001-01-01"}, 422, "invalid"),  # before the harvest
    ({"sample_code": ""}, 422, "invalid"),
    ({"sample_code": "A\x07B"}, 422, "invalid"),
    ({"lab": "x" * 101}, 422, "invalid"),
    ({"items": [{"name": "铅", "value": "abc"}]}, 422, "invalid"),
    ({"items": [{"name": "铅", "value": "-1"}]}, 422, "invalid"),
    ({"items": [{"name": "铅", "value": "1e30"}]}, 422, "invalid"),
    ({"items": [{"name": "铅", "value": "0.3", "limit": "0.2"}]}, 422, "result_contradicts_items"),
    ({"trace_code": "NOPE"}, 404, "trace_code_not_found"),
])
def test_bad_input_is_refused_and_changes_nothing(client, changes, status, code):
    world = build_world()
    product = awaiting(world)
    response = client.post("/api/v1/inspections", body(world, **changes), content_type="application/json",
                           **auth(world.regulator))
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not Inspection.objects.exists()
    product.refresh_from_db()
    assert product.status == "awaiting_inspection"


def test_duplicate_sample_code(client):
    world = build_world()
    headers = auth(world.regulator)
    assert client.post("/api/v1/inspections", body(world), content_type="application/json", **headers).status_code == 201
    response = client.post("/api/v1/inspections", body(world), content_type="application/json", **headers)
    assert response.status_code == 422 and response.json()["code"] == "duplicate_sample_code"
    assert Inspection.objects.count() == 1


def test_failed_inspection_delists(client):
    world = build_world()
    product = world.listed_product()
    data = body(world, sample_code="RE-1", result="fail",
                items=[{"name": "农药残留", "value": "0.09", "limit": "0.05", "unit": "mg/kg"}])
    response = client.post("/api/v1/inspections", data, content_type="application/json", **auth(world.regulator))
    assert response.status_code == 201
    assert response.json()["products"][0]["status"] == "delisted"
    product.refresh_from_db()
    assert product.status == "delisted"


def test_listing_is_scoped(client):
    world = build_world()
    world.inspect()
    other = build_world()
    other.inspect(result="fail")
    mine = client.get("/api/v1/inspections", **auth(world.regulator)).json()
    assert mine["count"] == 1 and mine["items"][0]["trace_code"] == world.batch.trace_code
    assert client.get("/api/v1/inspections", **auth(other.operator)).json()["items"][0]["result"] == "fail"
    admin = make_user(roles.PLATFORM_ADMIN)
    assert client.get("/api/v1/inspections", **auth(admin)).json()["count"] == 2
    assert client.get("/api/v1/inspections?result=fail", **auth(admin)).json()["count"] == 1
    filtered = client.get(f"/api/v1/inspections?trace_code={world.batch.trace_code}", **auth(world.regulator)).json()
    assert filtered["count"] == 1
    page = client.get("/api/v1/inspections?limit=1&offset=1", **auth(admin)).json()
    assert page["count"] == 2 and len(page["items"]) == 1
    assert client.get("/api/v1/inspections?limit=0", **auth(admin)).status_code == 422
    response = client.get("/api/v1/inspections", **auth(make_user(roles.BUYER)))
    assert response.status_code == 403 and response.json()["code"] == "cannot_view_inspections"
    manager = make_user(roles.PRODUCER_MANAGER)
    assert client.get("/api/v1/inspections", **auth(manager)).json()["count"] == 0
    world.producer.managers.add(manager)
    assert client.get("/api/v1/inspections", **auth(manager)).json()["count"] == 1
