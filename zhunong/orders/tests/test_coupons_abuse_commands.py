from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from zhunong.orders import services
from zhunong.orders.errors import CouponNotApplicable, CouponNotClaimed, CouponUsed
from zhunong.orders.models import Order, OrderStatus
from zhunong.supervision.models import IntegrityFlag
from zhunong.testing import make_user


@pytest.fixture
def room_product(world):  # noqa: ANN001, ANN201
    product = world.listed_product(stock=50, price="40.00")
    return world.live_room([product], kind="county_head", pin=product), product


def test_coupon_in_an_order(room_product, django_capture_on_commit_callbacks):  # noqa: ANN001
    room, product = room_product
    coupon = services.release_coupon(actor=room.host_user, stream=room.stream, kind="amount", value="5",
                                     min_spend="50", total_quantity=10, valid_minutes=30)
    buyer = make_user()
    line = [{"product_id": product.pk, "quantity": 2}]
    with pytest.raises(CouponNotClaimed):
        services.create_order(buyer=buyer, lines=line, stream=room.stream, idempotency_key="a",
                              coupon_code=coupon.code)
    services.claim_coupon(buyer=buyer, coupon=coupon)
    with pytest.raises(CouponNotApplicable):  # 40 < 50 minimum spend
        services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}], stream=room.stream,
                              idempotency_key="b", coupon_code=coupon.code)
    with pytest.raises(CouponNotApplicable):  # only in its own stream
        services.create_order(buyer=buyer, lines=line, idempotency_key="c", coupon_code=coupon.code)
    order = services.create_order(buyer=buyer, lines=line, stream=room.stream, idempotency_key="d",
                                  coupon_code=coupon.code.lower())
    assert (order.subtotal, order.discount, order.total) == (Decimal("80.00"), Decimal("5.00"), Decimal("75.00"))
    assert order.lines.get().discount_share == Decimal("5.00")
    with pytest.raises(CouponUsed):
        services.create_order(buyer=buyer, lines=line, stream=room.stream, idempotency_key="e",
                              coupon_code=coupon.code)
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(order=order, actor=buyer, reason="")
    again = services.create_order(buyer=buyer, lines=line, stream=room.stream, idempotency_key="f",
                                  coupon_code=coupon.code)  # cancelled before paying: the coupon is back
    assert again.total == Decimal("75.00")
    percent = services.release_coupon(actor=room.host_user, stream=room.stream, kind="percent", value="10",
                                      total_quantity=1, valid_minutes=30)
    other = make_user()
    services.claim_coupon(buyer=other, coupon=percent)
    order = services.create_order(buyer=other, lines=[{"product_id": product.pk, "quantity": 3}],
                                  stream=room.stream, idempotency_key="g", coupon_code=percent.code)
    assert order.total == Decimal("108.00")


def test_abandoned_orders_raise_a_fake_order_flag(world, django_capture_on_commit_callbacks):  # noqa: ANN001
    product = world.listed_product(stock=50)
    buyer = make_user()
    for i in range(services.FAKE_ORDER_THRESHOLD):
        order = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}],
                                      idempotency_key=f"fake{i}")
        with django_capture_on_commit_callbacks(execute=True):
            services.cancel_order(order=order, actor=buyer, reason="")
    flags = IntegrityFlag.objects.filter(kind=IntegrityFlag.Kind.FAKE_ORDER, subject_id=str(buyer.pk))
    assert flags.count() == 1
    order = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}],
                                  idempotency_key="fake-more")
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(order=order, actor=buyer, reason="")
    assert flags.count() == 1  # one open flag a day, not one per order


def test_commands(world, buyer, settings, django_capture_on_commit_callbacks):  # noqa: ANN001
    product = world.listed_product(stock=5)
    order = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 2}],
                                  idempotency_key="cmd")
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    out = StringIO()
    call_command("expire_reservations", "--dry-run", stdout=out)
    assert "would expire 1" in out.getvalue()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RESERVED
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("expire_reservations", stdout=out)
    assert "expired 1" in out.getvalue()
    product.refresh_from_db()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED and product.stock == 5
    out = StringIO()
    call_command("reconcile_inventory", "--dry-run", stdout=out)
    assert "settled 0 flash sale(s)" in out.getvalue()
    out = StringIO()
    call_command("reconcile_payments", "--dry-run", stdout=out)
    assert "0 open session(s)" in out.getvalue()
    out = StringIO()
    call_command("reconcile_payments", "--older-than", "0", stdout=out)
    assert "checked=0" in out.getvalue()
