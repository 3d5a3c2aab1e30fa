"""Per-buyer hoarding caps: unpaid orders holding ordinary stock, and units of one product held unpaid."""

from __future__ import annotations

import pytest
from django.test import Client

from zhunong.accounts.services import issue_token
from zhunong.orders import services
from zhunong.orders.errors import HoldingCapExceeded, TooManyOpenOrders
from zhunong.orders.models import IdempotencyRecord, Order, OrderStatus
from zhunong.testing import PASSWORD, make_user, start_sale, unique

pytestmark = pytest.mark.django_db


def buy(buyer, product, quantity=1, *, stream=None):  # noqa: ANN001, ANN201
    return services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": quantity}],
                                 stream=stream, idempotency_key=unique("k-"))


def test_defaults(settings):  # noqa: ANN001
    assert settings.MAX_OPEN_ORDERS_PER_BUYER == 5 and settings.MAX_UNITS_PER_PRODUCT_PER_BUYER == 20


def test_open_unpaid_orders_are_capped_and_paying_or_cancelling_frees_a_slot(world, buyer, settings):  # noqa: ANN001
    settings.MAX_OPEN_ORDERS_PER_BUYER = 2
    product = world.listed_product(stock=50, price="30.00")
    first, _ = buy(buyer, product), buy(buyer, product)
    with pytest.raises(TooManyOpenOrders) as exc:
        buy(buyer, product)
    assert exc.value.status == 409 and exc.value.code == "too_many_open_orders"
    assert exc.value.details == {"open_orders": 2, "max": 2}
    product.refresh_from_db()
    assert product.stock == 48 and Order.objects.filter(buyer=buyer).count() == 2
    assert buy(make_user(), product).status == OrderStatus.RESERVED  # another buyer is not affected
    services.cancel_order(order=first, actor=buyer, reason="")
    assert buy(buyer, product).status == OrderStatus.RESERVED


def test_units_of_one_product_held_unpaid_are_capped(world, buyer, settings):  # noqa: ANN001
    settings.MAX_UNITS_PER_PRODUCT_PER_BUYER = 5
    product, other = world.listed_product(stock=50, price="30.00"), world.listed_product(stock=50, price="32.00")
    buy(buyer, product, 3)
    with pytest.raises(HoldingCapExceeded) as exc:
        buy(buyer, product, 3)
    assert exc.value.status == 409 and exc.value.code == "units_cap_exceeded"
    assert exc.value.details == {"product_id": product.pk, "held": 3, "requested": 3, "max": 5}
    with pytest.raises(HoldingCapExceeded):
        buy(buyer, product, 6)  # one order alone over the cap
    buy(buyer, product, 2)
    buy(buyer, other, 5)
    product.refresh_from_db()
    assert product.stock == 45


def test_the_api_refuses_with_the_documented_code_and_changes_nothing(world, buyer, settings, caplog):  # noqa: ANN001
    settings.MAX_OPEN_ORDERS_PER_BUYER = 1
    product = world.listed_product(stock=50, price="30.00")
    _, raw = issue_token(username=buyer.username, password=PASSWORD)
    api = Client()

    def post(key: str):  # noqa: ANN202
        return api.post("/api/v1/orders", {"lines": [{"product_id": product.pk, "quantity": 1}]},
                        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_IDEMPOTENCY_KEY=key)

    assert post(unique("a-")).status_code == 201
    with caplog.at_level("INFO", logger="zhunong.abuse"):
        r = post(unique("b-"))
    assert (r.status_code, r.json()["code"]) == (409, "too_many_open_orders"), r.content
    assert any("open" in rec.getMessage() for rec in caplog.records)
    product.refresh_from_db()
    assert product.stock == 49 and Order.objects.count() == 1 and IdempotencyRecord.objects.count() == 1


def test_flash_sale_lines_keep_their_own_limit_and_are_not_capped(world, buyer, settings):  # noqa: ANN001
    settings.MAX_OPEN_ORDERS_PER_BUYER = 1
    settings.MAX_UNITS_PER_PRODUCT_PER_BUYER = 1
    product = world.listed_product(stock=50, price="39.90", cost_floor="10.00")
    room = world.live_room([product], kind="county_head", pin=product)
    start_sale(room, product, quantity=10, limit=3, price="29.90")
    # The sale's per-buyer limit (3) decides, on either purchase path (the fast path serves only such lines).
    buy(buyer, product, 2, stream=room.stream)
    buy(buyer, product, 1, stream=room.stream)
    assert Order.objects.filter(buyer=buyer, status=OrderStatus.RESERVED).count() == 2
    # An order of ordinary stock counts every unpaid order, the flash-sale ones too.
    plain = world.listed_product(stock=50, price="30.00")
    with pytest.raises(TooManyOpenOrders):
        buy(buyer, plain)
