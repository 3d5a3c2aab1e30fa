"""The services that perform sensitive actions record them in the audit log (core.audit.record_action)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from zhunong.catalog import services as catalog
from zhunong.core.models import AuditEntry


def _entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


@pytest.mark.django_db
def test_price_cost_floor_stock_and_listing_changes_are_audited(world):  # noqa: ANN001
    product = world.listed_product(price="39.90", cost_floor="20.00", stock=100)
    created = _entries("catalog.product_changed")
    assert len(created) == 1 and created[0].before is None and created[0].after["stock"] == 100
    assert [e.after["status"] for e in _entries("catalog.listing_changed")] == ["awaiting_inspection", "listed"]

    catalog.change_price(actor=world.operator, product=product, price="35.00", cost_floor="21.00")
    [price] = _entries("catalog.price_changed")
    assert price.actor == world.operator and price.region == world.county
    assert price.before == {"price": "39.90", "cost_floor": "20.00"}
    assert price.after == {"price": "35.00", "cost_floor": "21.00", "reason": ""}
    assert len(_entries("catalog.cost_floor_changed")) == 1

    catalog.update_product(actor=world.operator, product=product, stock=80, name="洋河蓝莓（大果）")
    [stock] = _entries("catalog.stock_changed")
    assert (stock.before, stock.after) == ({"stock": 100}, {"stock": 80})
    edit = _entries("catalog.product_changed")[-1]
    assert edit.before == {"name": "洋河蓝莓"} and edit.after == {"name": "洋河蓝莓（大果）"}

    # The same price again changes nothing and records nothing.
    catalog.change_price(actor=world.operator, product=product, price=Decimal("35.00"))
    assert len(_entries("catalog.price_changed")) == 1

    catalog.delist_product(actor=world.regulator, product=product, reason="抽检复核")
    last = _entries("catalog.listing_changed")[-1]
    assert (last.actor, last.before, last.after) == (
        world.regulator, {"status": "listed"}, {"status": "delisted", "reason": "抽检复核"})


@pytest.mark.django_db
def test_a_refused_change_leaves_no_entry(world):  # noqa: ANN001
    from zhunong.core.errors import DomainError
    from zhunong.testing import build_world

    product, stranger = world.listed_product(), build_world().operator
    before = AuditEntry.objects.count()
    with pytest.raises(DomainError):
        catalog.change_price(actor=stranger, product=product, price="1.00")
    assert AuditEntry.objects.count() == before


@pytest.mark.django_db
def test_inspection_results_are_audited_before_the_listing_changes_they_cause(world):  # noqa: ANN001
    product = world.draft_product()
    catalog.submit_for_inspection(actor=world.operator, product=product)
    inspection = world.inspect(result="pass")
    [entry] = _entries("quality.inspection_recorded")
    assert (entry.actor, entry.subject_id, entry.region) == (world.regulator, str(inspection.pk), world.village)
    assert entry.after["result"] == "pass" and entry.after["items"][0]["limit"] == "0.05"
    listed = _entries("catalog.listing_changed")[-1]
    assert listed.after["status"] == "listed" and listed.pk > entry.pk


@pytest.mark.django_db
def test_role_and_region_changes_are_audited_in_services_and_the_admin(world, client):  # noqa: ANN001
    from django.contrib.auth.models import Group

    from zhunong.accounts import roles
    from zhunong.accounts.services import grant_role
    from zhunong.testing import make_admin, make_user

    buyer = make_user(roles.BUYER)
    assert not _entries("accounts.roles_changed") or all(
        e.subject_id != str(buyer.pk) for e in _entries("accounts.roles_changed"))  # a buyer signing up: not audited
    grant_role(user=buyer, role=roles.HOST, actor=world.operator)
    entry = _entries("accounts.roles_changed")[-1]
    assert (entry.actor, entry.subject_id) == (world.operator, str(buyer.pk))
    assert entry.before["roles"] == ["buyer"] and entry.after["roles"] == ["buyer", "host"]

    admin = make_admin()
    client.force_login(admin)
    staff = make_user(roles.COUNTY_OPERATOR, region=world.county)
    response = client.post(f"/admin/accounts/user/{staff.pk}/change/", {
        "username": staff.username, "display_name": "", "email": "", "phone": "",
        "groups": [Group.objects.get(name=roles.REGULATOR).pk], "region": world.village.pk,
        "is_active": "on", "is_staff": "on",
    }, REMOTE_ADDR="198.51.100.20")
    assert response.status_code == 302, response.content[:2000]
    roles_entry = _entries("accounts.roles_changed")[-1]
    assert (roles_entry.actor, roles_entry.address) == (admin, "198.51.100.20")
    assert (roles_entry.before["roles"], roles_entry.after["roles"]) == (["county_operator"], ["regulator"])
    created, region_entry = [e for e in _entries("accounts.region_changed") if e.subject_id == str(staff.pk)]
    assert (created.actor, created.before, created.after) == (None, {"region": None}, {"region": world.county.path})
    assert region_entry.before == {"region": world.county.path}
    assert region_entry.after == {"region": world.village.path}


@pytest.mark.django_db
def test_refunds_are_audited(world, buyer):  # noqa: ANN001
    import uuid

    from zhunong.orders import services as orders
    from zhunong.payments import services as payments
    from zhunong.payments.models import PaymentSession

    product = world.listed_product(stock=10, price="25.00")
    order = orders.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 2}],
                                idempotency_key=uuid.uuid4().hex)
    session = payments.start_checkout(order=order, actor=buyer)
    payments.apply_payment(session=PaymentSession.objects.get(pk=session.pk), amount=order.total,
                           payment_ref="pay-audit-1")
    order.refresh_from_db()
    line = order.lines.get()
    orders.refund(order=order, actor=world.operator, amounts={line.pk: Decimal("20.00")}, reason="坏果")
    [entry] = _entries("payments.refund")
    assert entry.actor == world.operator  # who decided it, passed along by orders' order_refunded signal
    assert entry.subject_type == "payments.refund" and entry.region == world.county
    assert entry.after["amount"] == "20.00" and entry.after["reason"] == "坏果"
    assert (entry.before, entry.after["refunded_total"]) == ({"refunded_total": "0.00"}, "20.00")


@pytest.mark.django_db
def test_after_sales_decisions_are_audited(world):  # noqa: ANN001
    from zhunong.fulfilment.services import after_sales
    from zhunong.fulfilment.tests.conftest import paid_order
    from zhunong.testing import make_user

    buyer = make_user()
    product = world.listed_product(price="25.00")
    order = paid_order(buyer, [(product, 2)])
    line = order.lines.get()
    request = after_sales.request_after_sales(actor=buyer, line=line, kind="refund_only", reason="quality",
                                              evidence="蓝莓有一半是软烂的", amount="10.00")
    after_sales.reject_after_sales(actor=world.operator, request=request, note="照片看不出问题")
    [entry] = _entries("fulfilment.after_sales_decided")
    assert (entry.actor, entry.region, entry.subject_id) == (world.operator, world.village, str(request.pk))
    assert (entry.before, entry.after["status"], entry.after["note"]) == (
        {"status": "requested"}, "rejected", "照片看不出问题")
    assert entry.after["order"] == order.number


@pytest.mark.django_db
def test_stream_key_rotations_are_audited_without_the_key(world):  # noqa: ANN001
    from zhunong.video import services as video

    room = world.live_room(1)
    before = video.ensure_ingest(stream=room.stream)
    old_key = before.stream_key
    ingest = video.rotate_key(stream=room.stream, actor=room.host.user)
    [entry] = _entries("live.stream_key_rotated")
    assert (entry.actor, entry.subject_type, entry.region) == (room.host.user, "live.stream", world.county)
    assert entry.before == {"key_digest": before.key_digest[:12]}
    assert entry.after == {"key_digest": ingest.key_digest[:12]}
    assert old_key not in str(entry.before) + str(entry.after) and ingest.stream_key not in str(entry.after)


@pytest.mark.django_db
def test_exports_of_households_incomes_are_audited(client, world):  # noqa: ANN001
    from django.urls import reverse

    client.force_login(world.operator)
    url = reverse("insights:income")
    response = client.get(url, {"region": world.county.code, "export": "csv", "table": "households"})
    assert response.status_code == 200 and "attachment;" in response["Content-Disposition"]
    [entry] = _entries("export.personal_data")
    assert entry.actor == world.operator and entry.after["table"] == "households" and entry.after["format"] == "csv"
    # Tables without people's names are not personal data: not audited.
    client.get(url, {"region": world.county.code, "export": "csv", "table": "regions"})
    assert len(_entries("export.personal_data")) == 1
