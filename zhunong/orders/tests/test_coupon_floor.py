"""A coupon never takes a line below the product's cost floor, unless its host recorded a reason when
releasing it (the below-cost price rule); then the order is flagged to the integrity office (issue 10)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from zhunong.orders import services
from zhunong.orders.errors import CouponBelowCost
from zhunong.orders.models import CouponClaim, FlashSale, Order
from zhunong.supervision.models import IntegrityFlag
from zhunong.testing import make_user, start_sale


@pytest.fixture
def room_product(world):  # noqa: ANN001, ANN201
    product = world.listed_product(stock=20, price="39.90", cost_floor="20.00")
    return world.live_room([product], kind="county_head", pin=product), product


def _coupon(room, *, kind: str = "amount", value: str = "9999", reason: str = ""):  # noqa: ANN001, ANN202
    buyer = make_user()
    coupon = services.release_coupon(actor=room.host_user, stream=room.stream, kind=kind, value=value,
                                     total_quantity=10, valid_minutes=30, below_cost_reason=reason)
    services.claim_coupon(buyer=buyer, coupon=coupon)
    return coupon, buyer


def _order(room, product, coupon, buyer):  # noqa: ANN001, ANN202
    return services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}], stream=room.stream,
                                 idempotency_key=uuid.uuid4().hex, coupon_code=coupon.code)


def test_a_huge_amount_coupon_on_a_flash_sale_is_refused_and_changes_nothing(room_product):  # noqa: ANN001
    room, product = room_product
    sale = start_sale(room, product, quantity=5, limit=1, price="29.90")
    coupon, buyer = _coupon(room)
    with pytest.raises(CouponBelowCost) as info:
        _order(room, product, coupon, buyer)
    assert info.value.code == "coupon_below_cost" and info.value.status == 409
    assert info.value.details == {"product_id": product.pk, "cost_floor": "20.00", "line_paid": "0.01",
                                  "quantity": 1}
    assert not Order.objects.exists()
    assert CouponClaim.objects.get(coupon=coupon, buyer=buyer).order_id is None
    assert FlashSale.objects.get(pk=sale.pk).remaining == 5
    assert not IntegrityFlag.objects.filter(kind=IntegrityFlag.Kind.BELOW_COST).exists()


@pytest.mark.parametrize("kind, value, allowed", [("percent", "50", False), ("percent", "49", True),
                                                  ("amount", "19.91", False), ("amount", "19.90", True)])
def test_the_floor_is_the_cost_floor(room_product, kind, value, allowed):  # noqa: ANN001
    room, product = room_product
    coupon, buyer = _coupon(room, kind=kind, value=value)
    if allowed:
        order = _order(room, product, coupon, buyer)
        assert order.total >= Decimal("20.00")
    else:
        with pytest.raises(CouponBelowCost):
            _order(room, product, coupon, buyer)


def test_a_coupon_released_with_a_reason_may_go_below_cost_and_raises_the_flag(room_product):  # noqa: ANN001
    room, product = room_product
    coupon, buyer = _coupon(room, reason="新品试吃，平台补贴")
    assert coupon.below_cost_reason == "新品试吃，平台补贴"
    order = _order(room, product, coupon, buyer)
    assert order.total == Decimal("0.01")
    released, ordered = IntegrityFlag.objects.filter(kind=IntegrityFlag.Kind.BELOW_COST).order_by("pk")
    assert released.subject == coupon and released.details["reason"] == "新品试吃，平台补贴"  # at release
    flag = ordered  # and for the order it took below cost
    assert flag.details["coupon_code"] == coupon.code and flag.details["reason"] == "新品试吃，平台补贴"
    assert flag.details["order"] == order.number
