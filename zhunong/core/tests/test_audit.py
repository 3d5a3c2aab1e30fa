"""The audit log: record_action writes one entry with who, from where, what, region, before/after; nothing in
the code can change or remove an entry; PostgreSQL refuses it too (trigger)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError
from django.test import RequestFactory, override_settings

from zhunong.core.audit import ACTIONS, record_action
from zhunong.core.clientaddr import client_address
from zhunong.core.models import AppendOnly, AuditEntry
from zhunong.testing import make_user


def _request(remote: str = "203.0.113.9", forwarded: str | None = None):  # noqa: ANN202
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/x", **extra)


@pytest.mark.django_db
def test_an_entry_names_who_what_where_region_and_values(world):  # noqa: ANN001
    product = world.listed_product()
    record_action(actor=world.operator, action="catalog.price_changed", subject=product,
                  before={"price": Decimal("10.00")}, after={"price": Decimal("12.50")}, request=_request())
    entry = AuditEntry.objects.get(action="catalog.price_changed")
    assert entry.actor == world.operator and entry.actor_label == world.operator.username
    assert entry.address == "203.0.113.9"
    assert (entry.subject_type, entry.subject_id) == ("catalog.product", str(product.pk))
    assert entry.region == product.origin  # from the product's permission scope
    assert entry.before == {"price": "10.00"} and entry.after == {"price": "12.50"}
    assert entry.outcome == "done" and entry.at is not None


@pytest.mark.django_db
def test_system_actions_refusals_and_subjects_given_as_keys(world):  # noqa: ANN001
    record_action(actor=None, action="payments.refund", subject=("orders.order", 987), region=world.county,
                  outcome="refused", after={"code": "gateway_failed"})
    entry = AuditEntry.objects.get(action="payments.refund")
    assert entry.actor is None and entry.actor_label == "" and entry.address is None
    assert (entry.subject_type, entry.subject_id, entry.region) == ("orders.order", "987", world.county)
    assert entry.outcome == "refused"


@pytest.mark.django_db
def test_unknown_actions_and_outcomes_are_programming_errors():
    user = make_user()
    with pytest.raises(ValueError):
        record_action(actor=user, action="catalog.whatever")
    with pytest.raises(ValueError):
        record_action(actor=user, action="catalog.price_changed", outcome="maybe")
    with pytest.raises(TypeError):
        record_action(actor=user, action="catalog.price_changed", subject="product 3")
    assert not AuditEntry.objects.exists()
    assert all(name.count(".") == 1 for name in ACTIONS)


@pytest.mark.django_db
def test_the_entry_rolls_back_with_the_change():
    user = make_user()
    with pytest.raises(RuntimeError), transaction.atomic():
        record_action(actor=user, action="accounts.roles_changed", subject=user, after={"roles": ["host"]})
        raise RuntimeError("the change failed")
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_no_update_or_delete_path_in_the_code():
    user = make_user()
    record_action(actor=user, action="accounts.roles_changed", subject=user, after={"roles": ["host"]})
    entry = AuditEntry.objects.get()
    entry.action = "accounts.region_changed"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(outcome="refused")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.bulk_update([entry], ["action"])
    assert AuditEntry.objects.get().action == "accounts.roles_changed"


@pytest.mark.django_db
def test_a_user_an_entry_names_cannot_be_hard_deleted():
    from django.db.models import ProtectedError

    user = make_user()
    record_action(actor=user, action="accounts.roles_changed", subject=user)
    with pytest.raises((ProtectedError, IntegrityError)):
        user.delete()
    assert AuditEntry.objects.filter(actor=user).exists()


def test_client_address_honours_the_trusted_proxy_count():
    with override_settings(TRUSTED_PROXY_COUNT=0):
        # Without a trusted proxy the forwarded header is the client's own claim: ignored.
        assert client_address(_request("198.51.100.1", "10.9.9.9")) == "198.51.100.1"
    with override_settings(TRUSTED_PROXY_COUNT=1):
        # The proxy appended the address it saw; whatever the client put on the left is forged.
        assert client_address(_request("127.0.0.1", "6.6.6.6, 198.51.100.7")) == "198.51.100.7"
        assert client_address(_request("127.0.0.1")) == "127.0.0.1"
        assert client_address(_request("127.0.0.1", "not-an-ip")) == "127.0.0.1"
    assert client_address(_request("garbage")) is None


@pytest.mark.postgres_redis
@pytest.mark.django_db
def test_postgresql_refuses_update_and_delete_whatever_the_client():
    user = make_user()
    record_action(actor=user, action="accounts.roles_changed", subject=user, after={"roles": ["host"]})
    pk = AuditEntry.objects.get().pk
    for sql in ("UPDATE core_auditentry SET outcome = 'refused' WHERE id = %s",
                "DELETE FROM core_auditentry WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [pk])
    assert AuditEntry.objects.get(pk=pk).outcome == "done"


@pytest.mark.django_db
def test_services_record_the_address_of_the_request_being_served():
    from zhunong.core.audit import RequestAddressMiddleware

    user = make_user()

    def view(request):  # noqa: ANN001, ANN202
        record_action(actor=user, action="accounts.roles_changed", subject=user)  # as a service would, no request
        return "ok"

    assert RequestAddressMiddleware(view)(_request("192.0.2.44")) == "ok"
    record_action(actor=user, action="accounts.roles_changed", subject=user)  # outside a request: a task
    assert list(AuditEntry.objects.order_by("id").values_list("address", flat=True)) == ["192.0.2.44", None]


def test_every_action_named_in_the_code_has_a_label():
    # record_action refuses an action without a label: a scan of the code finds one before production does.
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    named = set()
    for path in root.rglob("*.py"):
        if "tests" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        named |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', text))
        named |= set(re.findall(r'refusals_recorded\(\s*"([a-z_]+\.[a-z_]+)"', text))
    assert len(named) > 10, "the scan found too few audited actions: has the way they are named changed?"
    assert sorted(named - set(ACTIONS)) == []
