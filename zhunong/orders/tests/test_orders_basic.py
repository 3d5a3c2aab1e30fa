from __future__ import annotations

from decimal import Decimal

import pytest

from zhunong.orders import services
from zhunong.orders.errors import (
    IdempotencyKeyReused,
    InvalidQuantity,
    LimitExceeded,
    ProductUnavailable,
    RefundExceedsPaid,
    SoldOut,
)
from zhunong.orders.models import OrderStatus
from zhunong.payments.models import LedgerEntry
from zhunong.testing import make_user


@pytest.fixture
def product(world):  # noqa: ANN001, ANN201
    return world.listed_product(stock=5, price="30.00")


def test_create_order_reserves_stock_and_replays(product, buyer):  # noqa: ANN001
    order = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 2}],
                                  idempotency_key="k1")
    assert order.status == OrderStatus.RESERVED
    assert order.total == Decimal("60.00")
    product.refresh_from_db()
    assert product.stock == 3
    again = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 2}],
                                  idempotency_key="k1")
    assert again.pk == order.pk and again.idempotent_replay
    product.refresh_from_db()
    assert product.stock == 3
    with pytest.raises(IdempotencyKeyReused):
        services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}], idempotency_key="k1")


def test_sold_out_changes_nothing(product, buyer):  # noqa: ANN001
    with pytest.raises(SoldOut):
        services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 6}], idempotency_key="x")
    product.refresh_from_db()
    assert product.stock == 5


@pytest.mark.parametrize("qty", [0, -1, 100, 10**12, True, "2"])
def test_bad_quantities(product, buyer, qty):  # noqa: ANN001
    with pytest.raises(InvalidQuantity):
        services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": qty}], idempotency_key="q")


def test_unknown_product(buyer):  # noqa: ANN001
    with pytest.raises(ProductUnavailable):
        services.create_order(buyer=buyer, lines=[{"product_id": 999999, "quantity": 1}], idempotency_key="u")


def test_pay_cancel_refund_flow(product, buyer, world, django_capture_on_commit_callbacks):  # noqa: ANN001
    order = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 2}],
                                  idempotency_key="p")
    services.mark_paid(order=order, amount="60.00", payment_ref="pi_1")
    services.mark_paid(order=order, amount="60.00", payment_ref="pi_1")  # idempotent
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert LedgerEntry.objects.filter(order_line__order=order).count() == 1
    line = order.lines.get()
    with pytest.raises(RefundExceedsPaid):
        services.refund(order=order, actor=world.operator, amounts={line.pk: Decimal("60.01")}, reason="x")
    with django_capture_on_commit_callbacks(execute=True):
        services.refund(order=order, actor=world.operator, amounts={line.pk: Decimal("10")}, reason="damaged")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.refunded_total == Decimal("10")
    with django_capture_on_commit_callbacks(execute=True):
        services.refund(order=order, actor=world.operator, reason="all")
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and order.refunded_total == Decimal("60")


def test_cancel_returns_stock_once(product, buyer):  # noqa: ANN001
    order = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 2}],
                                  idempotency_key="c")
    services.cancel_order(order=order, actor=buyer, reason="")
    product.refresh_from_db()
    assert product.stock == 5
    other = make_user()
    with pytest.raises(Exception):  # noqa: B017
        services.cancel_order(order=order, actor=other, reason="x")
    assert services.expire_reservations() == 0
    product.refresh_from_db()
    assert product.stock == 5
    assert LimitExceeded.code == "limit_exceeded"
