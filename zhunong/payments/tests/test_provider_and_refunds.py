"""The payment provider is a setting; the sandbox runs only where chosen, with DEBUG or in demo mode; refunds
that exhaust their retries are escalated to the county (an integrity flag and the operator's page)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client

from zhunong.orders import services as orders
from zhunong.payments import services
from zhunong.payments.checks import check_payment_provider
from zhunong.payments.errors import PaymentsUnavailable
from zhunong.payments.models import Refund
from zhunong.payments.providers import get_provider
from zhunong.supervision.models import IntegrityFlag
from zhunong.testing import api_auth, make_user


@pytest.fixture
def order(world, buyer):  # noqa: ANN001, ANN201
    product = world.listed_product(stock=10, price="25.00")
    # A fresh key: idempotency records outlive a test's transaction in the cache.
    return orders.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 2}],
                               idempotency_key=uuid.uuid4().hex)


def ids(settings_obj) -> list[str]:  # noqa: ANN001
    return [m.id for m in check_payment_provider()]


def test_sandbox_with_debug_off_outside_demo_mode_fails_the_checks(settings):  # noqa: ANN001
    settings.PAYMENT_PROVIDER, settings.DEBUG, settings.DEMO = "sandbox", False, False
    assert ids(settings) == ["payments.E001"]
    with pytest.raises(SystemCheckError, match="payments.E001"):
        call_command("check")
    settings.DEMO = True
    assert ids(settings) == []
    settings.DEMO, settings.DEBUG = False, True
    assert ids(settings) == []
    settings.PAYMENT_PROVIDER = "paypal"
    assert ids(settings) == ["payments.E002"]
    settings.PAYMENT_PROVIDER = ""
    assert ids(settings) == ["payments.W001"]
    settings.PAYMENT_PROVIDER, settings.ALIPAY_APP_ID = "alipay", ""
    assert ids(settings) == ["payments.E003"]


def test_sandbox_refuses_to_run_unless_allowed(settings, order, buyer):  # noqa: ANN001
    session = services.start_checkout(order=order, actor=buyer)  # the suite runs in demo mode
    settings.DEMO = False  # production settings that still name the sandbox (a server started without checks)
    client = Client()
    client.force_login(buyer)
    assert client.get(f"/pay/sandbox/{session.session_ref}/").status_code == 404
    assert client.post(f"/pay/sandbox/{session.session_ref}/confirm/").status_code == 404
    r = client.post("/api/v1/payments/sandbox/webhook", b"{}", content_type="application/json",
                    HTTP_ZHUNONG_SIGNATURE="t=1,v1=00")
    assert r.status_code == 503 and r.json()["code"] == "payments_unavailable"
    r = Client().post(f"/api/v1/orders/{order.pk}/pay", **api_auth(buyer))
    assert r.status_code == 503 and r.json()["code"] == "payments_unavailable"
    with pytest.raises(PaymentsUnavailable):
        get_provider("sandbox")


def test_without_a_provider_checkout_is_a_clear_503(settings, order, buyer):  # noqa: ANN001
    settings.PAYMENT_PROVIDER = ""
    r = Client().post(f"/api/v1/orders/{order.pk}/pay", **api_auth(buyer))
    assert r.status_code == 503 and r.json()["code"] == "payments_unavailable"
    assert not order.payment_sessions.exists()


def test_refund_that_exhausts_its_retries_is_flagged_and_shown_to_the_operator(world, order, buyer,  # noqa: ANN001
                                                                                 django_capture_on_commit_callbacks):
    orders.mark_paid(order=order, amount=order.total, payment_ref="pi_never_captured")  # the gateway never saw it
    line = order.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        orders.refund(order=order, actor=world.operator, amounts={line.pk: Decimal("20.00")}, reason="坏果")
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.FAILED and refund.attempts == 1 and "gateway_unknown_payment" in refund.last_error
    Refund.objects.filter(pk=refund.pk).update(created_at=refund.created_at - dt.timedelta(hours=1))
    for _ in range(services.REFUND_MAX_ATTEMPTS):
        services.reconcile_payments(older_than_seconds=0)
    refund.refresh_from_db()
    assert refund.attempts == services.REFUND_MAX_ATTEMPTS and refund.escalated_at is not None
    flag = IntegrityFlag.objects.get(kind="other")
    assert order.number in flag.summary and flag.details["refund"] == refund.reference
    assert flag.region == line.product.origin
    # Escalated once, and no longer retried by reconciliation.
    assert services.reconcile_payments(older_than_seconds=0)["refunds_retried"] == 0
    assert IntegrityFlag.objects.filter(kind="other").count() == 1
    # The county operator sees it on the fulfilment supervision page; a buyer does not get the page.
    client = Client()
    client.force_login(world.operator)
    html = client.get("/fulfilment/county/").content.decode()
    assert "退款失败，需人工处理" in html and order.number in html and "gateway_unknown_payment" in html
    outsider = make_user()
    assert Client().get("/fulfilment/county/").status_code == 302
    assert not services_escalated(outsider)
    # Once paid back (by the provider, or finished by hand), it leaves the page.
    Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.SUCCEEDED)
    assert order.number not in client.get("/fulfilment/county/").content.decode()


def services_escalated(user):  # noqa: ANN001, ANN201
    from zhunong.payments.selectors import escalated_refunds

    return list(escalated_refunds(user))
