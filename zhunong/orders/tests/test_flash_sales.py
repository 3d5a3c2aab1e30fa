from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from zhunong.catalog import services as catalog
from zhunong.catalog.errors import BelowCostWithoutReason
from zhunong.catalog.models import PriceChange
from zhunong.core.errors import ValidationFailed
from zhunong.orders import flashsales, selectors, services
from zhunong.orders.errors import (
    FakeDiscount,
    InsufficientStock,
    LimitExceeded,
    NotHostOfStream,
    ProductNotInStream,
    ProductNotPinned,
    SaleNotStarted,
    SoldOut,
)
from zhunong.orders.models import FlashSale, FlashSaleStatus, OrderStatus
from zhunong.supervision.models import IntegrityFlag
from zhunong.testing import make_user, start_sale


@pytest.fixture
def frames(monkeypatch):  # noqa: ANN001, ANN201
    sent = []
    monkeypatch.setattr(flashsales, "publish_room_event",
                        lambda stream_id, event, important=True: sent.append((stream_id, event, important)))
    return sent


@pytest.fixture
def room_product(world):  # noqa: ANN001, ANN201
    product = world.listed_product(stock=100, price="39.90", cost_floor="20.00")
    return world.live_room([product], kind="county_head", pin=product), product


def test_host_starts_sale_of_pinned_product(room_product, frames):  # noqa: ANN001
    room, product = room_product
    sale = start_sale(room, product, quantity=10, running=False)
    assert sale.status == FlashSaleStatus.SCHEDULED
    assert sale.reference_price == Decimal("39.90")
    product.refresh_from_db()
    assert product.stock == 90  # carved out of the product
    assert frames[0][1]["t"] == "sale" and frames[0][1]["event"] == "scheduled" and frames[0][2] is True


def test_only_the_host_and_only_the_pin(world, room_product):  # noqa: ANN001
    room, product = room_product
    with pytest.raises(NotHostOfStream):
        services.start_flash_sale(actor=world.operator, stream=room.stream, product=product, quantity=5,
                                  sale_price="19.90", per_buyer_limit=1, countdown_seconds=10, duration_minutes=1)
    other = world.listed_product(name="胶州白菜", stock=10)
    room.stream.products.add(other)
    with pytest.raises(ProductNotPinned):
        services.start_flash_sale(actor=room.host_user, stream=room.stream, product=other, quantity=5,
                                  sale_price="1.00", per_buyer_limit=1, countdown_seconds=10, duration_minutes=1,
                                  below_cost_reason="清仓")


@pytest.mark.parametrize("field,value", [("countdown_seconds", 9), ("countdown_seconds", 301),
                                         ("duration_minutes", 0), ("duration_minutes", 21),
                                         ("quantity", 0), ("per_buyer_limit", 0)])
def test_sale_bounds(room_product, field, value):  # noqa: ANN001
    room, product = room_product
    kwargs = {"quantity": 5, "per_buyer_limit": 1, "countdown_seconds": 10, "duration_minutes": 1, field: value}
    with pytest.raises(ValidationFailed):
        services.start_flash_sale(actor=room.host_user, stream=room.stream, product=product, sale_price="19.90",
                                  **kwargs)
    assert not FlashSale.objects.exists()


def test_no_fake_discount_against_30_day_low(world, room_product):  # noqa: ANN001
    room, product = room_product
    catalog.change_price(actor=world.operator, product=product, price="25.00")
    catalog.change_price(actor=world.operator, product=product, price="39.90")
    with pytest.raises(FakeDiscount) as info:
        start_sale(room, product, price="29.90")
    assert info.value.details["lowest_30_days"] == "25.00"
    # A low price older than 30 days does not count; the price in force when the window opened does.
    now = timezone.now()
    PriceChange.objects.filter(product=product, reason="created").update(at=now - dt.timedelta(days=40))
    PriceChange.objects.filter(product=product, price=Decimal("25.00")).update(at=now - dt.timedelta(days=35))
    PriceChange.objects.filter(product=product, price=Decimal("39.90"), reason="").update(
        at=now - dt.timedelta(days=32))
    assert flashsales.lowest_recent_price(product) == Decimal("39.90")
    PriceChange.objects.filter(product=product, price=Decimal("39.90"), reason="").update(
        at=now - dt.timedelta(days=29))
    assert flashsales.lowest_recent_price(product) == Decimal("25.00")  # 25 was in force 30 days ago


def test_below_cost_needs_reason_and_is_flagged(room_product):  # noqa: ANN001
    room, product = room_product
    with pytest.raises(BelowCostWithoutReason):
        start_sale(room, product, price="15.00")
    sale = start_sale(room, product, price="15.00", below_cost_reason="临期清仓")
    assert sale.below_cost_reason == "临期清仓"
    assert IntegrityFlag.objects.filter(kind=IntegrityFlag.Kind.BELOW_COST, subject_id=str(sale.pk)).exists()


def test_quantity_must_exist(room_product):  # noqa: ANN001
    room, product = room_product
    with pytest.raises(InsufficientStock):
        start_sale(room, product, quantity=101)


def test_buying_through_a_sale(world, room_product, frames, django_capture_on_commit_callbacks):  # noqa: ANN001
    room, product = room_product
    sale = start_sale(room, product, quantity=3, limit=2, running=False)
    buyer = make_user()
    with pytest.raises(SaleNotStarted):
        services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}], stream=room.stream,
                              idempotency_key="early")
    FlashSale.objects.filter(pk=sale.pk).update(starts_at=timezone.now() - dt.timedelta(seconds=1))
    services.sync_sale(sale_id=sale.pk)
    with pytest.raises(LimitExceeded):
        services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 3}], stream=room.stream,
                              idempotency_key="a")
    with django_capture_on_commit_callbacks(execute=True):
        order = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 2}],
                                      stream=room.stream, idempotency_key="b")
    assert order.total == Decimal("59.80") and order.lines.get().flash_sale_id == sale.pk
    with pytest.raises(LimitExceeded):
        services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}], stream=room.stream,
                              idempotency_key="c")
    with django_capture_on_commit_callbacks(execute=True):
        services.create_order(buyer=make_user(), lines=[{"product_id": product.pk, "quantity": 1}],
                              stream=room.stream, idempotency_key="d")
    with pytest.raises(SoldOut):
        services.create_order(buyer=make_user(), lines=[{"product_id": product.pk, "quantity": 1}],
                              stream=room.stream, idempotency_key="e")
    sale.refresh_from_db()
    assert sale.status == FlashSaleStatus.SOLD_OUT
    events = [e for _, e, _ in frames]
    assert {"t": "stock", "flash_sale_id": sale.pk, "product_id": product.pk, "remaining": 0, "quantity": 3} in events
    assert any(e["t"] == "sale" and e["event"] == "sold_out" for e in events)
    # Outside the stream the product sells at its own price from its own stock.
    order = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}],
                                  idempotency_key="f")
    assert order.total == Decimal("39.90")


def test_product_not_in_stream(world, room_product):  # noqa: ANN001
    room, _ = room_product
    other = world.listed_product(name="胶州大白菜", stock=10)
    with pytest.raises(ProductNotInStream):
        services.create_order(buyer=make_user(), lines=[{"product_id": other.pk, "quantity": 1}], stream=room.stream,
                              idempotency_key="x")


def test_stock_frames_are_throttled(room_product, frames, django_capture_on_commit_callbacks):  # noqa: ANN001
    room, product = room_product
    sale = start_sale(room, product, quantity=60, limit=1)
    frames.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(60):
            services.create_order(buyer=make_user(), lines=[{"product_id": product.pk, "quantity": 1}],
                                  stream=room.stream, idempotency_key=f"t{i}")
    stock = [e for _, e, _ in frames if e["t"] == "stock"]
    # 60 sales in well under a second: one throttled frame for the first 50, then each of the last 10 exactly.
    assert len(stock) <= 1 + 1 + flashsales.STOCK_FRAME_TAIL
    assert [e["remaining"] for e in stock[-10:]] == list(range(9, -1, -1))
    sale.refresh_from_db()
    assert sale.status == FlashSaleStatus.SOLD_OUT


def test_expiry_returns_units_to_sale_and_settle_returns_to_product(room_product, settings,  # noqa: ANN001
                                                                    django_capture_on_commit_callbacks):
    room, product = room_product
    sale = start_sale(room, product, quantity=5, limit=5)
    order = services.create_order(buyer=make_user(), lines=[{"product_id": product.pk, "quantity": 4}],
                                  stream=room.stream, idempotency_key="x")
    later = timezone.now() + dt.timedelta(minutes=settings.RESERVATION_MINUTES + 1)
    with django_capture_on_commit_callbacks(execute=True):  # Redis gives stock back after commit
        assert services.expire_reservations(now=later) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    from zhunong.orders.selectors import sale_remaining

    assert sale_remaining(sale) == 5
    later = sale.ends_at + dt.timedelta(minutes=settings.RESERVATION_MINUTES + 5)
    assert services.settle_sales(now=later, dry_run=True) == [(sale.pk, 5)]
    assert services.settle_sales(now=later) == [(sale.pk, 5)]
    assert services.settle_sales(now=later) == []
    product.refresh_from_db()
    assert product.stock == 100


def test_another_sale_after_a_sell_out_is_the_one_that_sells(world, django_capture_on_commit_callbacks):  # noqa: ANN001
    """"再来1000单": once a sale has sold out the host may start another of the same product; buyers get the
    new one, not the old sale's sold-out answer for the rest of its time."""
    product = world.listed_product(stock=50, price="39.90", cost_floor="10.00")
    room = world.live_room([product], kind="county_head", pin=product)
    first = start_sale(room, product, quantity=1, limit=1, price="29.90")
    with django_capture_on_commit_callbacks(execute=True):
        services.create_order(buyer=make_user(), lines=[{"product_id": product.pk, "quantity": 1}],
                              stream=room.stream, idempotency_key="first")
    first.refresh_from_db()
    assert first.status == FlashSaleStatus.SOLD_OUT
    second = start_sale(room, product, quantity=5, limit=1, price="28.80")
    assert selectors.open_sale(stream_id=room.stream.pk, product_id=product.pk) == second
    order = services.create_order(buyer=make_user(), lines=[{"product_id": product.pk, "quantity": 1}],
                                  stream=room.stream, idempotency_key="second")
    line = order.lines.get()
    assert line.flash_sale_id == second.pk and line.unit_price == Decimal("28.80")
