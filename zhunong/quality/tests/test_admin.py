"""The admin: a regulator records an inspection with its items inline, through record_inspection."""

from __future__ import annotations

import pytest
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.catalog import services as catalog
from zhunong.quality.models import Inspection, TraceEvent
from zhunong.testing import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _role_permissions(db):  # noqa: ANN001
    # Groups get their permissions after migrate (accounts.apps); make sure they are in place here
    # whatever the order the apps' post_migrate signals ran in.
    roles.ensure_roles()

ADD_URL = "/admin/quality/inspection/add/"


def form(world, *, result="pass", value="0.01", sample_code="JZ-ADMIN-1", batch=None) -> dict:  # noqa: ANN001
    return {
        "batch": str((batch or world.batch).pk), "sample_code": sample_code, "lab": "胶州市检验检测中心",
        "sampled_on": timezone.localdate().isoformat(), "result": result, "notes": "",
        "items-TOTAL_FORMS": "2", "items-INITIAL_FORMS": "0", "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
        "items-0-name": "农药残留", "items-0-value": value, "items-0-limit": "0.05", "items-0-limit_kind": "max",
        "items-0-unit": "mg/kg",
        "items-1-name": "", "items-1-value": "", "items-1-limit": "", "items-1-limit_kind": "max", "items-1-unit": "",
    }


def awaiting(world):  # noqa: ANN001, ANN201
    product = world.draft_product()
    catalog.submit_for_inspection(actor=world.operator, product=product)
    return product


def test_regulator_records_an_inspection_in_the_admin_and_the_product_is_listed(client):
    world = build_world()
    product = awaiting(world)
    client.force_login(world.regulator)
    page = client.get(ADD_URL)
    assert page.status_code == 200
    response = client.post(ADD_URL, form(world))
    assert response.status_code == 302, response.content.decode()[:3000]
    inspection = Inspection.objects.get()
    assert inspection.inspector == world.regulator and inspection.batch == world.batch
    assert [(i.name, i.passed) for i in inspection.items.all()] == [("农药残留", True)]
    product.refresh_from_db()
    assert product.status == "listed"
    assert product.listing_history.last().actor == world.regulator
    assert TraceEvent.objects.filter(inspection=inspection, biz_step="inspecting").exists()
    # The record is read-only afterwards.
    change = client.get(f"/admin/quality/inspection/{inspection.pk}/change/")
    assert change.status_code == 200 and b'name="sample_code"' not in change.content


def test_a_contradicting_inspection_shows_the_error_and_writes_nothing(client):
    world = build_world()
    product = awaiting(world)
    client.force_login(world.regulator)
    response = client.post(ADD_URL, form(world, value="0.09"))  # over the limit, but "pass"
    assert response.status_code == 200
    assert "a tested item is over its limit" in response.content.decode()
    assert not Inspection.objects.exists()
    product.refresh_from_db()
    assert product.status == "awaiting_inspection"


def test_regulators_see_and_pick_only_their_region(client):
    world = build_world()
    other = build_world()
    other.inspect()
    client.force_login(world.regulator)
    page = client.get(ADD_URL).content.decode()
    assert world.batch.trace_code in page and other.batch.trace_code not in page
    assert other.batch.trace_code not in client.get("/admin/quality/inspection/").content.decode()
    # Posting another region's batch id is refused by the form (not in the choices).
    response = client.post(ADD_URL, form(world, batch=other.batch))
    assert response.status_code == 200 and b"errorlist" in response.content
    assert Inspection.objects.filter(batch=other.batch).count() == 1  # only other's own inspection
    assert Inspection.objects.filter(inspector=world.regulator).count() == 0


def test_operators_cannot_add_inspections(client):
    world = build_world()
    client.force_login(world.operator)
    assert client.get(ADD_URL).status_code == 403
    assert client.post(ADD_URL, form(world)).status_code == 403
    assert not Inspection.objects.exists()
