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


def _flush(backend) -> None:  # noqa: ANN001
    """Redis restarted empty (or was flushed): every key of ours is gone."""
    for key in backend.client.scan_iter(f"{backend.prefix.split(':inv:')[0]}:*", count=1000):
        backend.client.delete(key)


def test_after_a_flush_held_units_and_limits_come_back_from_the_database(world, settings,  # noqa: ANN001
                                                                         django_capture_on_commit_callbacks):
    settings.INVENTORY_BACKEND = "redis"
    product = world.listed_product(stock=50)
    room = world.live_room([product], kind="county_head", pin=product)
    sale = start_sale(room, product, quantity=6, limit=2)
    backend = inventory.get_backend("redis")
    pool = inventory.pool("sale", sale.pk)
    holder, payer = make_user(), make_user()
    with django_capture_on_commit_callbacks(execute=True):
        held = services.create_order(buyer=holder, lines=[{"product_id": product.pk, "quantity": 2}],
                                     stream=room.stream, idempotency_key="h")
        paid = services.create_order(buyer=payer, lines=[{"product_id": product.pk, "quantity": 1}],
                                     stream=room.stream, idempotency_key="p")
        services.mark_paid(order=paid, amount=paid.total, payment_ref="pay-1")
    assert backend.remaining(pool) == 3

    _flush(backend)
    with django_capture_on_commit_callbacks(execute=True):  # the next attempt rebuilds from the database
        services.create_order(buyer=make_user(), lines=[{"product_id": product.pk, "quantity": 1}],
                              stream=room.stream, idempotency_key="n")
    assert backend.remaining(pool) == 2
    assert backend.bought(pool, holder.pk) == 2 and backend.bought(pool, payer.pk) == 1

    # The unpaid order is cancelled after the flush: its units and its buyer's limit come back.
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(order=held, actor=holder, reason="")
    assert backend.remaining(pool) == 4 and backend.bought(pool, holder.pk) == 0
    # sold + remaining == the sale's quantity, in the database's reservations and in Redis
    held_or_sold = sum(i.quantity for i in inventory.ReservationItem.objects.filter(
        pool=pool, reservation__state__in=[ReservationState.HELD, ReservationState.COMMITTED]))
    assert held_or_sold + backend.remaining(pool) == 6
    with django_capture_on_commit_callbacks(execute=True):
        report = inventory.reconcile_redis(grace_seconds=0)
    assert report.orphans_released == 0 and backend.remaining(pool) == 4


def test_a_release_while_the_counter_is_missing_leaves_the_rebuild_to_the_database(world, settings,  # noqa: ANN001
                                                                                  django_capture_on_commit_callbacks):
    settings.INVENTORY_BACKEND = "redis"
    product = world.listed_product(stock=50)
    room = world.live_room([product], kind="county_head", pin=product)
    sale = start_sale(room, product, quantity=6, limit=2)
    backend = inventory.get_backend("redis")
    pool = inventory.pool("sale", sale.pk)
    buyer = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        order = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 2}],
                                      stream=room.stream, idempotency_key="h")
    # Redis lost the counters but (say, an eviction) not the reservation: a release must not invent a counter.
    backend.client.delete(backend.stock_key(pool), backend.buyers_key(pool))
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(order=order, actor=buyer, reason="")
    # Not 2 (a counter invented by the release): the sale's sweep after the release read the pool, which
    # rebuilt it from the database (docs/decisions/0014).
    assert backend.client.get(backend.stock_key(pool)) == b"6"
    assert backend.remaining(pool) == 6
    with django_capture_on_commit_callbacks(execute=True):
        services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}],
                              stream=room.stream, idempotency_key="again")
    assert backend.remaining(pool) == 5 and backend.bought(pool, buyer.pk) == 1


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-lru", "allkeys-random", "volatile-ttl"])
def test_the_redis_backend_refuses_a_redis_that_may_evict_keys(settings, monkeypatch, policy):  # noqa: ANN001
    from django.core.exceptions import ImproperlyConfigured

    from zhunong.core import redis as core_redis

    settings.INVENTORY_BACKEND = "redis"
    monkeypatch.setattr(inventory, "_INSTANCES", {})
    real = core_redis.client()
    monkeypatch.setattr(real, "info", lambda section=None: {"maxmemory_policy": policy})
    with pytest.raises(ImproperlyConfigured, match="maxmemory-policy") as refused:
        inventory.get_backend("redis")
    assert policy in str(refused.value) and "REDIS_URL" in str(refused.value)
    monkeypatch.setattr(real, "info", lambda section=None: {"maxmemory_policy": "noeviction"})
    assert isinstance(inventory.get_backend("redis"), inventory.RedisBackend)


def test_keys_that_grow_with_attempts_expire(world, settings, django_capture_on_commit_callbacks):  # noqa: ANN001
    from zhunong.orders.errors import LimitExceeded, SoldOut

    settings.INVENTORY_BACKEND = "redis"
    product = world.listed_product(stock=50)
    room = world.live_room([product], kind="county_head", pin=product)
    sale = start_sale(room, product, quantity=1, limit=1)
    backend = inventory.get_backend("redis")
    pool = inventory.pool("sale", sale.pk)
    first, late = make_user(), make_user()
    with django_capture_on_commit_callbacks(execute=True):
        services.create_order(buyer=first, lines=[{"product_id": product.pk, "quantity": 1}], stream=room.stream,
                              idempotency_key="ok")
    for buyer, key, error in [(late, "late", SoldOut), (first, "again", SoldOut), (late, "x" * 200, SoldOut)]:
        with pytest.raises((error, LimitExceeded)):
            services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}],
                                  stream=room.stream, idempotency_key=key)
    idem = list(backend.client.scan_iter(f"{settings.REDIS_PREFIX}:idem:*"))
    assert len(idem) == 3 and all(0 < backend.client.ttl(k) <= 24 * 3600 for k in idem)
    # A settled sale's counters do not stay forever either (a lost counter is rebuilt: 0 left once settled).
    backend.drain(pool=pool)
    for key in (backend.stock_key(pool), backend.buyers_key(pool)):
        assert 0 < backend.client.ttl(key) <= inventory.DRAINED_TTL_SECONDS
