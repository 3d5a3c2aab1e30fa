"""Fault-injection suite, the payment part: webhooks delivered twice, late and out of order around a
cancellation, during a running flash sale; ends with the suite's invariant (orders/tests/faults.py,
docs/reliability.md "Fault-injection suite"). The sandbox gateway sends what a real one does: each event
late, twice, and a stale `payment.pending` last (docs/decisions/0007).
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.test import Client
from django.utils import timezone

from zhunong.orders import services as orders
from zhunong.orders.models import Order, OrderStatus
from zhunong.orders.tests import faults
from zhunong.payments import services
from zhunong.payments.models import PaymentEvent, Refund, SandboxWebhook
from zhunong.payments.providers import deliver, get_provider

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/payments/sandbox/webhook"


def _send(url: str, body: bytes, headers: dict) -> int:
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Content-Type"}
    return Client().post(URL, body, content_type="application/json", **extra).status_code


def _deliver_all(rng: random.Random, times: int = 2) -> list[int]:
    """Every webhook the gateway has queued so far, `times` over, in a shuffled order."""
    hooks = list(SandboxWebhook.objects.all()) * times
    rng.shuffle(hooks)
    return [deliver(hook, send=_send) for hook in hooks]


def test_webhooks_twice_late_and_out_of_order_around_a_cancellation(world):  # noqa: ANN001
    rng = random.Random(10)
    s = faults.flash_sale(world, quantity=6, buyers=9, limit=1)
    first = faults.buy_concurrently(s, faults.attempts(s, per_buyer=1, tag="pay"))
    assert faults.statuses(first) == {201: 6, "sold_out": 3}, faults.statuses(first)
    users = {u.pk: u for u, _raw in s.buyers}
    placed = [Order.objects.get(pk=a.body["id"]) for a in first if a.status == 201]
    paid, late, cancelled = placed[0], placed[1], placed[2]
    gateway = get_provider("sandbox")

    # 1. paid: its events arrive late, twice each, out of order (the stale "pending" among them)
    gateway.confirm(session_ref=services.start_checkout(order=paid, actor=users[paid.buyer_id]).session_ref)
    # 2. late: paid at the gateway, but the webhooks are late and the reservation expires meanwhile
    gateway.confirm(session_ref=services.start_checkout(order=late, actor=users[late.buyer_id]).session_ref)
    Order.objects.filter(pk=late.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert orders.expire_reservations() == 1
    # 3. cancelled: the buyer opened the pay page, cancelled the order in the app, then paid on that page
    session = services.start_checkout(order=cancelled, actor=users[cancelled.buyer_id])
    orders.cancel_order(order=cancelled, actor=users[cancelled.buyer_id], reason="")
    gateway.confirm(session_ref=session.session_ref)

    assert set(_deliver_all(rng)) == {200}
    faults.recover()  # the two cancelled orders' units are back in the sale, which reopens
    # Other buyers buy those units; then every webhook (and the refunds' own) arrives once more.
    second = faults.buy_concurrently(s, faults.attempts(s, per_buyer=1, tag="pay2"))
    assert faults.statuses(second)[201] == 2, faults.statuses(second)
    assert set(_deliver_all(rng)) == {200}
    services.reconcile_payments(older_than_seconds=0)
    faults.recover()

    books = faults.assert_invariant(s, first + second, may_cancel=frozenset({late.pk, cancelled.pk}))
    assert books["sold"] == 6 and books["paid_sessions"] == 3
    paid.refresh_from_db()
    assert paid.status == OrderStatus.PAID and paid.history.filter(to_status=OrderStatus.PAID).count() == 1
    for order in (late, cancelled):
        order.refresh_from_db()
        assert order.status == OrderStatus.CANCELLED and not order.payment_ref
    # The money of the two orders that could not take it went back, once each, and the gateway confirmed it.
    refunds = Refund.objects.filter(unapplied=True)
    assert sorted(r.order_id for r in refunds) == sorted([late.pk, cancelled.pk])
    assert {r.status for r in refunds} == {Refund.Status.SUCCEEDED}
    events = PaymentEvent.objects.filter(type="payment.succeeded")
    assert events.count() == 3 and {e.deliveries for e in events} == {8}  # 2 hooks x 2 rounds x 2 waves
