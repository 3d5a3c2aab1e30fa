"""A stream that ends takes its flash sales and coupons with it: after the end an order through the stream
pays the storefront price, the sale is over and its stock back with the product, the room offers no coupon,
and the buy box shows the storefront price."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from zhunong.live import streams
from zhunong.orders import flashsales, selectors, services
from zhunong.orders.models import FlashSaleStatus
from zhunong.testing import make_user, start_sale

pytestmark = pytest.mark.django_db


@pytest.fixture
def room_product(world):  # noqa: ANN001, ANN201
    product = world.listed_product(stock=100, price="39.90", cost_floor="20.00")
    return world.live_room([product], kind="county_head", pin=product), product


def _end(room, capture) -> None:  # noqa: ANN001
    with capture(execute=True):
        streams.end_stream(stream=room.stream, actor=None)
    room.stream.refresh_from_db()


def test_an_order_after_the_end_pays_the_storefront_price(room_product, django_capture_on_commit_callbacks):  # noqa: ANN001
    room, product = room_product
    sale = start_sale(room, product, quantity=10, price="29.90", limit=2)
    _end(room, django_capture_on_commit_callbacks)
    sale.refresh_from_db()
    assert sale.status == FlashSaleStatus.ENDED and sale.settled_at is not None
    assert sale.ends_at <= room.stream.ended_at
    product.refresh_from_db()
    assert product.stock == 100  # the sale's units went home
    assert selectors.open_sale(stream_id=room.stream.pk, product_id=product.pk) is None
    order = services.create_order(buyer=make_user(), lines=[{"product_id": product.pk, "quantity": 1}],
                                  stream=room.stream, idempotency_key="after-end")
    line = order.lines.get()
    assert line.unit_price == Decimal("39.90") and line.flash_sale_id is None


def test_a_countdown_when_the_stream_ends_is_cancelled(room_product, django_capture_on_commit_callbacks):  # noqa: ANN001
    room, product = room_product
    sale = start_sale(room, product, quantity=10, running=False, countdown_seconds=300)
    _end(room, django_capture_on_commit_callbacks)
    sale.refresh_from_db()
    assert sale.status == FlashSaleStatus.CANCELLED and sale.settled_at is not None
    product.refresh_from_db()
    assert product.stock == 100


def test_the_sweep_finishes_when_the_after_commit_step_is_lost(room_product, django_capture_on_commit_callbacks):  # noqa: ANN001
    room, product = room_product
    sale = start_sale(room, product, quantity=10)
    with django_capture_on_commit_callbacks(execute=False):  # the process died right after the commit
        streams.end_stream(stream=room.stream, actor=None)
    assert selectors.open_sale(stream_id=room.stream.pk, product_id=product.pk) is None
    flashsales.sync_sales()
    sale.refresh_from_db()
    assert sale.status == FlashSaleStatus.ENDED and sale.settled_at is not None


def test_coupons_and_buy_box_after_the_end(room_product, django_capture_on_commit_callbacks):  # noqa: ANN001
    room, product = room_product
    flashsales.release_coupon(actor=room.host_user, stream=room.stream, kind="amount", value="5",
                              total_quantity=10, valid_minutes=60)
    start_sale(room, product, quantity=10, price="29.90")
    assert selectors.open_coupons(room.stream.pk).count() == 1
    _end(room, django_capture_on_commit_callbacks)
    assert selectors.open_coupons(room.stream.pk).count() == 0
    request = RequestFactory().get("/")
    request.user = make_user()
    html = Template('{% include "orders/_buy_box.html" %}').render(
        Context({"product": product, "stream": room.stream, "request": request}))
    assert "29.90" not in html and "秒杀" not in html and "39.90" in html
