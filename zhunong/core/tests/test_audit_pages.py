"""Who sees the audit log: platform admins everything, the discipline-inspection office its own region's
entries (page and admin); nobody can add, change or delete an entry through the admin."""

from __future__ import annotations

import pytest

from zhunong.accounts import roles
from zhunong.core.audit import record_action
from zhunong.core.models import AuditEntry
from zhunong.testing import build_world, make_admin, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_counties(world):  # noqa: ANN001, ANN201
    other = build_world()
    ours = world.listed_product(name="本县蓝莓")
    theirs = other.listed_product(name="外县苹果")
    record_action(actor=world.operator, action="catalog.price_changed", subject=ours,
                  before={"price": "39.90"}, after={"price": "35.00"})
    record_action(actor=other.operator, action="catalog.price_changed", subject=theirs,
                  before={"price": "39.90"}, after={"price": "9.90"}, outcome="refused")
    return world, other, ours, theirs


def test_the_office_sees_its_region_and_admins_see_all(client, two_counties):  # noqa: ANN001
    world, other, ours, theirs = two_counties
    client.force_login(world.discipline_inspector)
    page = client.get("/backoffice/audit/", {"action": "catalog.price_changed"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "本县蓝莓" in text and "外县苹果" not in text and "改价" in text

    client.force_login(make_admin())
    text = client.get("/backoffice/audit/", {"action": "catalog.price_changed"}).content.decode()
    assert "本县蓝莓" in text and "外县苹果" in text
    refused = client.get("/backoffice/audit/", {"action": "catalog.price_changed", "outcome": "refused"})
    assert "外县苹果" in refused.content.decode() and "本县蓝莓" not in refused.content.decode()


@pytest.mark.parametrize("role", [roles.COUNTY_OPERATOR, roles.REGULATOR, roles.BUYER, roles.HOST])
def test_other_roles_are_refused(client, world, role):  # noqa: ANN001
    client.force_login(make_user(role, region=world.county))
    assert client.get("/backoffice/audit/").status_code == 403
    assert client.get("/admin/core/auditentry/").status_code in (302, 403)


def test_anonymous_visitors_are_sent_to_sign_in(client):  # noqa: ANN001
    response = client.get("/backoffice/audit/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("query", [{"action": "catalog.nope"}, {"outcome": "maybe"}, {"since": "2026-13-01"},
                                   {"since": "2026-05-02", "until": "2026-05-01"}, {"actor": "x" * 151}])
def test_bad_filters_are_a_clear_422(client, two_counties, query):  # noqa: ANN001
    client.force_login(make_admin())
    response = client.get("/backoffice/audit/", query)
    assert response.status_code == 422 and 'role="alert"' in response.content.decode()


def test_the_admin_is_read_only_and_scoped(client, two_counties):  # noqa: ANN001
    world, other, ours, theirs = two_counties
    entry = AuditEntry.objects.get(action="catalog.price_changed", subject_id=str(ours.pk))
    foreign = AuditEntry.objects.get(action="catalog.price_changed", subject_id=str(theirs.pk))
    client.force_login(world.discipline_inspector)
    listing = client.get("/admin/core/auditentry/")
    assert listing.status_code == 200
    assert f"/admin/core/auditentry/{entry.pk}/" in listing.content.decode()
    assert f"/admin/core/auditentry/{foreign.pk}/" not in listing.content.decode()
    client.force_login(make_admin())
    assert client.get("/admin/core/auditentry/add/").status_code == 403
    assert client.get(f"/admin/core/auditentry/{entry.pk}/delete/").status_code == 403
    detail = client.post(f"/admin/core/auditentry/{entry.pk}/change/", {"action": "catalog.stock_changed"})
    assert detail.status_code == 403
    assert client.post("/admin/core/auditentry/", {"action": "delete_selected", "_selected_action": [entry.pk]}
                       ).status_code in (200, 302)
    assert AuditEntry.objects.filter(pk=entry.pk, action="catalog.price_changed").exists()
