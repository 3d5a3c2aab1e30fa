"""Every flash-sale unit comes home (issue 10): how stock moves between a product and its sales.

A sale's quantity leaves the product when the sale starts; what it has not sold goes back to the product
the moment it ends or is cancelled; a unit released later (cancel, expiry, a crashed request reconciled)
lands where it now belongs: the sale while it runs (a sold-out sale reopens), the product once it is over.
At every moment after recovery: product stock + every sale's remaining + units in live orders == what the
producer put up.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from django.db.models import Sum
from django.utils import timezone

from zhunong.orders import flashsales, inventory, services
from zhunong.orders.errors import SoldOut
from zhunong.orders.models import FlashSale, FlashSaleStatus, OrderLine, OrderStatus
from zhunong.testing import make_user, start_sale

PUT_UP = 10


def _buy(room, product, key: str, quantity: int = 1, buyer=None):  # noqa: ANN001, ANN202
    # Keys unique per run: refusals are remembered per (buyer, key) outside the rolled-back database.
    return services.create_order(buyer=buyer or make_user(), lines=[{"product_id": product.pk, "quantity": quantity}],
                                 stream=room.stream, idempotency_key=f"{key}-{uuid.uuid4().hex}")


def _sale_remaining(sale: FlashSale) -> int:
    """What the sale's pool holds (the Redis counter under the redis backend), settled or not."""
    return inventory.get_backend().remaining(inventory.pool("sale", sale.pk))


def _accounted(product) -> int:  # noqa: ANN001
    product.refresh_from_db()
    in_sales = sum(_sale_remaining(s) for s in FlashSale.objects.filter(product=product))
    in_orders = OrderLine.objects.filter(product=product).exclude(
        order__status=OrderStatus.CANCELLED).aggregate(n=Sum("quantity"))["n"] or 0
    return product.stock + in_sales + in_orders


def _end(sale: FlashSale) -> FlashSale:
    """The sale's time is up: the timer (sync_sale) fires."""
    FlashSale.objects.filter(pk=sale.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
    flashsales.sync_sale(sale_id=sale.pk)
    sale.refresh_from_db()
    return sale


@pytest.fixture
def room_product(world):  # noqa: ANN001, ANN201
    product = world.listed_product(stock=PUT_UP, price="39.90", cost_floor="10.00")
    return world.live_room([product], kind="county_head", pin=product), product


def test_unsold_units_go_back_to_the_product_when_the_sale_ends(room_product, django_capture_on_commit_callbacks):  # noqa: ANN001
    room, product = room_product
    with django_capture_on_commit_callbacks(execute=True):
        sale = start_sale(room, product, quantity=4, limit=4)
    product.refresh_from_db()
    assert product.stock == 6
    with django_capture_on_commit_callbacks(execute=True):
        sale = _end(sale)
    assert sale.status == FlashSaleStatus.ENDED and sale.settled_at is not None
    product.refresh_from_db()
    assert product.stock == PUT_UP and sale.returned_to_product == 4
    assert _accounted(product) == PUT_UP


def test_a_cancelled_sale_returns_at_once_and_a_later_release_lands_in_the_product(  # noqa: ANN201
        room_product, django_capture_on_commit_callbacks):  # noqa: ANN001
    room, product = room_product
    sale = start_sale(room, product, quantity=4, limit=4)
    with django_capture_on_commit_callbacks(execute=True):
        order = _buy(room, product, "a", quantity=1)
    with django_capture_on_commit_callbacks(execute=True):
        flashsales.cancel_flash_sale(actor=room.host_user, sale=sale, reason="主播口误")
    product.refresh_from_db()
    assert product.stock == 9
    assert _accounted(product) == PUT_UP
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(order=order, actor=order.buyer, reason="")
    product.refresh_from_db()
    assert product.stock == PUT_UP and _sale_remaining(sale) == 0
    sale.refresh_from_db()
    assert sale.returned_to_product == 4
    assert _accounted(product) == PUT_UP


def test_expiry_after_the_sale_ended_refills_the_product_not_the_sale(room_product, settings,  # noqa: ANN001
                                                                      django_capture_on_commit_callbacks):
    room, product = room_product
    sale = start_sale(room, product, quantity=4, limit=4)
    with django_capture_on_commit_callbacks(execute=True):
        _buy(room, product, "a", quantity=2)
    with django_capture_on_commit_callbacks(execute=True):
        sale = _end(sale)
    product.refresh_from_db()
    assert product.stock == 8
    later = timezone.now() + dt.timedelta(minutes=settings.RESERVATION_MINUTES + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_reservations(now=later) == 1
    product.refresh_from_db()
    assert product.stock == PUT_UP and _sale_remaining(sale) == 0
    assert _accounted(product) == PUT_UP


def test_a_sold_out_sale_reopens_when_a_unit_comes_back(room_product, django_capture_on_commit_callbacks):  # noqa: ANN001
    room, product = room_product
    sale = start_sale(room, product, quantity=1, limit=1)
    with django_capture_on_commit_callbacks(execute=True):
        order = _buy(room, product, "a")
    sale.refresh_from_db()
    assert sale.status == FlashSaleStatus.SOLD_OUT
    with pytest.raises(SoldOut):
        _buy(room, product, "b")
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(order=order, actor=order.buyer, reason="")
    sale.refresh_from_db()
    assert sale.status == FlashSaleStatus.LIVE and _sale_remaining(sale) == 1
    with django_capture_on_commit_callbacks(execute=True):
        second = _buy(room, product, "c")
    assert second.lines.get().flash_sale_id == sale.pk
    sale.refresh_from_db()
    assert sale.status == FlashSaleStatus.SOLD_OUT
    assert _accounted(product) == PUT_UP


def test_the_sweep_reopens_a_sold_out_sale_and_settles_one_whose_time_is_up(  # noqa: ANN201
        room_product, django_capture_on_commit_callbacks):  # noqa: ANN001
    """Units that came back without the after-commit hooks (a process died) are found by the minutely sweep."""
    room, product = room_product
    sale = start_sale(room, product, quantity=2, limit=2)
    with django_capture_on_commit_callbacks(execute=True):
        order = _buy(room, product, "a", quantity=2)
    sale.refresh_from_db()
    assert sale.status == FlashSaleStatus.SOLD_OUT
    with django_capture_on_commit_callbacks(execute=False):  # the process dies before its hooks run
        services.cancel_order(order=order, actor=order.buyer, reason="")
    if inventory.get_backend().name == "redis":  # the lost Redis release is replayed by reconciliation
        with django_capture_on_commit_callbacks(execute=True):
            inventory.reconcile_redis(grace_seconds=0)
    with django_capture_on_commit_callbacks(execute=True):
        flashsales.sync_sales()
    sale.refresh_from_db()
    assert sale.status == FlashSaleStatus.LIVE
    FlashSale.objects.filter(pk=sale.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        flashsales.sync_sales()
    sale.refresh_from_db()
    assert sale.status == FlashSaleStatus.ENDED and sale.settled_at is not None
    product.refresh_from_db()
    assert product.stock == PUT_UP
    assert _accounted(product) == PUT_UP


def _lifecycle(room, product, settings, capture) -> None:  # noqa: ANN001
    """start → buys → cancels / expiry → sold out and reopened → end, and a second sale cancelled; the
    invariant is checked after every step."""
    def check() -> None:
        assert _accounted(product) == PUT_UP

    with capture(execute=True):
        sale = start_sale(room, product, quantity=4, limit=2)
    check()
    buyers = [make_user() for _ in range(4)]
    orders = []
    for i, buyer in enumerate(buyers[:3]):
        with capture(execute=True):
            orders.append(_buy(room, product, f"b{i}", quantity=1 if i else 2, buyer=buyer))
        check()
    sale.refresh_from_db()
    assert sale.status == FlashSaleStatus.SOLD_OUT
    with capture(execute=True):
        services.cancel_order(order=orders[1], actor=orders[1].buyer, reason="")
    check()
    sale.refresh_from_db()
    assert sale.status == FlashSaleStatus.LIVE
    with capture(execute=True):
        services.mark_paid(order=orders[0], amount=orders[0].total, payment_ref="pay-0")
    check()
    with capture(execute=True):
        sale = _end(sale)
    check()
    later = timezone.now() + dt.timedelta(minutes=settings.RESERVATION_MINUTES + 1)
    with capture(execute=True):
        assert services.expire_reservations(now=later) == 1  # orders[2], after the sale ended
    check()
    product.refresh_from_db()
    assert product.stock == PUT_UP - 2  # only the paid order's two units are out
    with capture(execute=True):
        second = start_sale(room, product, quantity=3, limit=1)
    with capture(execute=True):
        late = _buy(room, product, "late", buyer=buyers[3])
    check()
    with capture(execute=True):
        flashsales.cancel_flash_sale(actor=room.host_user, sale=second, reason="停播")
    check()
    with capture(execute=True):
        services.cancel_order(order=late, actor=late.buyer, reason="")
    check()
    product.refresh_from_db()
    assert product.stock == PUT_UP - 2
    with capture(execute=True):
        assert flashsales.settle_sales() == []  # nothing was left behind
    check()


def test_the_stock_invariant_holds_through_a_sale_db(room_product, settings, django_capture_on_commit_callbacks):  # noqa: ANN001
    settings.INVENTORY_BACKEND = "db"
    _lifecycle(*room_product, settings, django_capture_on_commit_callbacks)


@pytest.mark.postgres_redis
def test_the_stock_invariant_holds_through_a_sale_redis(room_product, settings,  # noqa: ANN001
                                                         django_capture_on_commit_callbacks):
    settings.INVENTORY_BACKEND = "redis"
    _lifecycle(*room_product, settings, django_capture_on_commit_callbacks)


@pytest.mark.postgres_redis
def test_redis_units_of_a_killed_request_come_home_after_the_sale(room_product, settings,  # noqa: ANN001
                                                                   django_capture_on_commit_callbacks):
    """A process took a unit in Redis and died before recording its order; the sale then ended. After
    reconciliation and the sweep, the unit is back on the product."""
    settings.INVENTORY_BACKEND = "redis"
    room, product = room_product
    with django_capture_on_commit_callbacks(execute=True):
        sale = start_sale(room, product, quantity=4, limit=2)
    backend = inventory.get_backend("redis")
    backend.reserve_outside(token="killed-1", buyer_id=make_user().pk,
                            takes=[inventory.Take(inventory.pool("sale", sale.pk), 1, 2)])
    with django_capture_on_commit_callbacks(execute=True):
        sale = _end(sale)
    product.refresh_from_db()
    assert product.stock == PUT_UP - 1  # the unit is still in flight
    time.sleep(0.01)
    with django_capture_on_commit_callbacks(execute=True):
        assert inventory.reconcile_redis(grace_seconds=0).orphans_released == 1
    with django_capture_on_commit_callbacks(execute=True):
        flashsales.settle_sales()
    product.refresh_from_db()
    assert product.stock == PUT_UP and _sale_remaining(sale) == 0
    assert _accounted(product) == PUT_UP
