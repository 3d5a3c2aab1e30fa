"""Reconciliation of the Redis inventory with the database (postgres_redis: needs Redis)."""

from __future__ import annotations

import time

import pytest

from zhunong.orders import inventory, services
from zhunong.orders.models import InventoryReservation, ReservationState
from zhunong.testing import make_user, start_sale

pytestmark = pytest.mark.postgres_redis


def test_orphans_are_released_and_lost_releases_replayed(world, settings, django_capture_on_commit_callbacks):  # noqa: ANN001
    settings.INVENTORY_BACKEND = "redis"
    product = world.listed_product(stock=50)
    room = world.live_room([product], kind="county_head", pin=product)
    sale = start_sale(room, product, quantity=5, limit=3)
    backend = inventory.get_backend("redis")
    pool = inventory.pool("sale", sale.pk)
    buyer = make_user()

    # A process took stock in Redis and died before recording the order.
    backend.reserve_outside(token="orphan-1", buyer_id=buyer.pk, takes=[inventory.Take(pool, 2, 3)])
    assert backend.remaining(pool) == 3 and backend.bought(pool, buyer.pk) == 2
    assert inventory.reconcile_redis(grace_seconds=3600).orphans_released == 0  # still within its grace
    with django_capture_on_commit_callbacks(execute=True):
        report = inventory.reconcile_redis(grace_seconds=0)
    assert report.orphans_released == 1
    assert backend.remaining(pool) == 5 and backend.bought(pool, buyer.pk) == 0
    assert InventoryReservation.objects.get(token="orphan-1").state == ReservationState.RELEASED

    # An order cancelled in the database whose Redis release was lost (the process died after commit).
    order = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 3}], stream=room.stream,
                                  idempotency_key="k")
    assert backend.remaining(pool) == 2
    with django_capture_on_commit_callbacks(execute=False):
        services.cancel_order(order=order, actor=buyer, reason="")
    assert backend.remaining(pool) == 2
    with django_capture_on_commit_callbacks(execute=True):
        report = inventory.reconcile_redis(grace_seconds=0)
    assert report.released_replayed == 1 and report.orphans_released == 0
    assert backend.remaining(pool) == 5
    with django_capture_on_commit_callbacks(execute=True):
        assert inventory.reconcile_redis(grace_seconds=0).released_replayed == 0  # exactly once

    # Redis lost the counter altogether: it is rebuilt from the database on the next attempt.
    backend.client.delete(backend.stock_key(pool), backend.buyers_key(pool))
    time.sleep(0.01)
    services.create_order(buyer=make_user(), lines=[{"product_id": product.pk, "quantity": 1}], stream=room.stream,
                          idempotency_key="after-loss")
    assert backend.remaining(pool) == 4
