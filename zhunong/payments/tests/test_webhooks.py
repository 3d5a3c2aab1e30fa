from __future__ import annotations

import datetime as dt
import json
import random
import time
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from zhunong.orders import services as orders
from zhunong.orders.errors import AmountMismatch
from zhunong.orders.models import Order, OrderStatus
from zhunong.payments import services
from zhunong.payments.models import (
    LedgerEntry,
    PaymentEvent,
    PaymentSession,
    Refund,
    SandboxRefund,
    SandboxWebhook,
)
from zhunong.payments.providers import SIGNATURE_HEADER, deliver, get_provider, sign
from zhunong.testing import make_user

URL = "/api/v1/payments/sandbox/webhook"


@pytest.fixture
def client():  # noqa: ANN201
    return Client()


def send_via(client):  # noqa: ANN001, ANN201
    def send(url: str, body: bytes, headers: dict) -> int:
        extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Content-Type"}
        return client.post(URL, body, content_type="application/json", **extra).status_code
    return send


@pytest.fixture
def order(world, buyer):  # noqa: ANN001, ANN201
    product = world.listed_product(stock=10, price="25.00")
    return orders.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 2}], idempotency_key="o")


def checkout_and_pay(order, buyer):  # noqa: ANN001, ANN201
    session = services.start_checkout(order=order, actor=buyer)
    get_provider("sandbox").confirm(session_ref=session.session_ref)
    return session


def test_late_duplicate_out_of_order_webhooks_apply_once(order, buyer, client):  # noqa: ANN001
    checkout_and_pay(order, buyer)
    hooks = list(SandboxWebhook.objects.all())
    assert sorted(h.type for h in hooks) == ["payment.pending", "payment.succeeded", "payment.succeeded"]
    stale = next(h for h in hooks if h.type == "payment.pending")
    fresh = next(h for h in hooks if h.type == "payment.succeeded")
    assert json.loads(stale.body)["created"] <= json.loads(fresh.body)["created"]
    assert stale.send_after > fresh.send_after  # created first, sent last: out of order
    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED  # nothing until a webhook arrives
    random.Random(4).shuffle(hooks)
    for hook in hooks + hooks:  # every event delivered twice more
        assert deliver(hook, send=send_via(client)) == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payment_ref
    assert LedgerEntry.objects.filter(order_line__order=order).count() == 1
    assert LedgerEntry.objects.get().amount == Decimal("50.00")
    assert PaymentEvent.objects.get(type="payment.succeeded").deliveries == 4
    assert order.history.filter(to_status=OrderStatus.PAID).count() == 1


def test_forged_tampered_and_replayed_webhooks_change_nothing(order, buyer, client, caplog):  # noqa: ANN001
    checkout_and_pay(order, buyer)
    hook = SandboxWebhook.objects.filter(type="payment.succeeded").first()
    body = hook.body.encode()
    with caplog.at_level("WARNING", logger="zhunong.abuse"):
        r = client.post(URL, body, content_type="application/json",
                        **{"HTTP_" + SIGNATURE_HEADER.upper().replace("-", "_"): sign(body, secret="not-the-secret")})
    assert r.status_code == 400 and r.json()["code"] == "invalid_signature"
    assert "bad or stale signature" in caplog.text
    tampered = body.replace(b'"25.00"', b'"0.01"').replace(b'"50.00"', b'"0.01"')
    from django.conf import settings

    header = sign(body, secret=settings.PAYMENT_WEBHOOK_SECRET)
    r = client.post(URL, tampered, content_type="application/json",
                    **{"HTTP_" + SIGNATURE_HEADER.upper().replace("-", "_"): header})
    assert r.json()["code"] == "invalid_signature"
    old = sign(body, secret=settings.PAYMENT_WEBHOOK_SECRET, timestamp=int(time.time()) - 3600)
    r = client.post(URL, body, content_type="application/json",
                    **{"HTTP_" + SIGNATURE_HEADER.upper().replace("-", "_"): old})
    assert r.status_code == 400 and r.json()["code"] == "stale_signature"
    assert client.post(URL, body, content_type="application/json").json()["code"] == "invalid_signature"
    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED and not PaymentEvent.objects.exists()


def test_reconciliation_applies_payments_whose_webhooks_were_lost(order, buyer, client):  # noqa: ANN001
    checkout_and_pay(order, buyer)
    report = services.reconcile_payments(older_than_seconds=0)
    assert report["applied"] == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert services.reconcile_payments(older_than_seconds=0)["checked"] == 0
    for hook in SandboxWebhook.objects.all():  # the webhooks arrive after all: nothing more happens
        assert deliver(hook, send=send_via(client)) == 200
    assert LedgerEntry.objects.count() == 1
    assert order.history.filter(to_status=OrderStatus.PAID).count() == 1


def test_payment_after_expiry_is_refunded_not_applied(order, buyer, client, settings,  # noqa: ANN001
                                                      django_capture_on_commit_callbacks):
    checkout_and_pay(order, buyer)  # paid at the gateway just in time…
    later = timezone.now() + dt.timedelta(minutes=settings.RESERVATION_MINUTES + 1)
    assert orders.expire_reservations(now=later) == 1  # …but the webhook is late and the order expired
    hook = SandboxWebhook.objects.filter(type="payment.succeeded").first()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(hook, send=send_via(client))
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    refund = Refund.objects.get()
    assert refund.unapplied and refund.amount == Decimal("50.00") and refund.status == Refund.Status.SUCCEEDED
    assert SandboxRefund.objects.get().amount == Decimal("50.00")
    assert not LedgerEntry.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        for h in SandboxWebhook.objects.filter(type="payment.succeeded"):
            deliver(h, send=send_via(client))
    assert Refund.objects.count() == 1 and SandboxRefund.objects.count() == 1


def test_refunds_go_through_the_gateway_and_debit_producers(order, buyer, world, client,  # noqa: ANN001
                                                            django_capture_on_commit_callbacks):
    checkout_and_pay(order, buyer)
    services.reconcile_payments(older_than_seconds=0)
    order.refresh_from_db()
    line = order.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        orders.refund(order=order, actor=world.operator, amounts={line.pk: Decimal("20.00")}, reason="坏果")
    gateway_refund = SandboxRefund.objects.get()
    assert gateway_refund.amount == Decimal("20.00")
    assert services.producer_balance(world.producer) == Decimal("30.00")
    from zhunong.orders.errors import RefundExceedsPaid

    with pytest.raises(RefundExceedsPaid):
        orders.refund(order=order, actor=world.operator, amounts={line.pk: Decimal("30.01")}, reason="x")
    assert SandboxRefund.objects.count() == 1
    for hook in SandboxWebhook.objects.filter(type="refund.succeeded"):
        deliver(hook, send=send_via(client))
    assert Refund.objects.get().status == Refund.Status.SUCCEEDED


def test_amount_mismatch_changes_nothing(order):  # noqa: ANN001
    with pytest.raises(AmountMismatch):
        orders.mark_paid(order=order, amount="0.01", payment_ref="pi_x")
    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED and not order.payment_ref


def test_public_servant_host_is_never_paid(world):  # noqa: ANN001
    product = world.listed_product(stock=10, price="40.00")
    room = world.live_room([product], kind="county_head", pin=product)
    assert room.host.is_public_servant
    buyer = make_user()
    order = orders.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}], stream=room.stream,
                                idempotency_key="ps")
    orders.mark_paid(order=order, amount=order.total, payment_ref="pi_ps")
    entries = list(LedgerEntry.objects.all())
    assert [e.producer_id for e in entries] == [world.producer.pk]
    assert sum(e.amount for e in entries) == order.total
    assert not {f.name for f in LedgerEntry._meta.get_fields()} & {"host", "user", "stream"}


def test_session_is_reused_and_reported_expired(order, buyer):  # noqa: ANN001
    first = services.start_checkout(order=order, actor=buyer)
    assert services.start_checkout(order=order, actor=buyer).pk == first.pk
    PaymentSession.objects.filter(pk=first.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    from zhunong.payments.models import SandboxPayment

    SandboxPayment.objects.filter(session_ref=first.session_ref).update(expires_at=timezone.now())
    assert services.reconcile_payments(older_than_seconds=0)["expired"] == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RESERVED
