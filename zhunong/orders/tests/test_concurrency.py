"""Many threads buying the last items at once: never oversold, limits hold, one order per key.

Runs on every backend available: db and naive always, redis when REDIS_URL is set (the PostgreSQL +
Redis pass). On SQLite the threads share the file-backed test database.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings as django_settings
from django.db import connection

from zhunong.core.errors import DomainError
from zhunong.orders import inventory, services
from zhunong.orders.models import Order, OrderLine
from zhunong.testing import build_world, make_user, start_sale

BACKENDS = ["db", "naive"] + (["redis"] if django_settings.REDIS_URL else [])
THREADS = 12


def hammer(attempts: list[dict]) -> list[object]:
    """Run create_order for every attempt from THREADS threads released at the same moment."""
    gate = threading.Event()

    def run(attempt: dict) -> object:
        gate.wait()
        try:
            return services.create_order(**attempt)
        except DomainError as exc:
            return exc.code
        finally:
            connection.close()

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(run, a) for a in attempts]
        gate.set()
        return [f.result() for f in futures]


@pytest.fixture
def backend(request, settings):  # noqa: ANN001, ANN201
    settings.INVENTORY_BACKEND = request.param
    return inventory.get_backend(request.param)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_concurrent_buyers(backend):  # noqa: ANN001
    # One test per backend (each transactional test costs a full flush on PostgreSQL).
    world = build_world()
    flash_sale_last_items(backend, world)
    one_buyer_many_threads_respects_limit(backend, world)
    product_stock_and_same_key_race(backend, world)


def flash_sale_last_items(backend, world) -> None:  # noqa: ANN001
    product = world.listed_product(stock=100)
    room = world.live_room([product], kind="county_head", pin=product)
    sale = start_sale(room, product, quantity=12, limit=2)
    buyers = [make_user() for _ in range(15)]
    attempts = [{"buyer": buyers[i % 15], "lines": [{"product_id": product.pk, "quantity": 1}], "stream": room.stream,
                 "idempotency_key": f"a{i}"} for i in range(45)]
    results = hammer(attempts)
    orders = [r for r in results if isinstance(r, Order)]
    codes = Counter(r for r in results if isinstance(r, str))
    assert set(codes) <= {"sold_out", "limit_exceeded"}, codes
    sold = sum(OrderLine.objects.filter(flash_sale=sale).values_list("quantity", flat=True))
    remaining = backend.remaining(inventory.pool("sale", sale.pk))
    assert sold == len(orders) == 12 - remaining
    assert remaining == 0  # demand (15 buyers x 2) exceeds 12: it sells out, and not one unit more
    per_buyer = Counter(OrderLine.objects.filter(flash_sale=sale).values_list("order__buyer_id", flat=True))
    assert max(per_buyer.values()) <= 2


def one_buyer_many_threads_respects_limit(backend, world) -> None:  # noqa: ANN001
    product = world.listed_product(name="limited", stock=100)
    room = world.live_room([product], kind="county_head", pin=product)
    sale = start_sale(room, product, quantity=50, limit=3)
    buyer = make_user()
    results = hammer([{"buyer": buyer, "lines": [{"product_id": product.pk, "quantity": 1}], "stream": room.stream,
                       "idempotency_key": f"b{i}"} for i in range(24)])
    assert Counter(r if isinstance(r, str) else "ok" for r in results) == {"ok": 3, "limit_exceeded": 21}
    assert backend.remaining(inventory.pool("sale", sale.pk)) == 47
    assert backend.bought(inventory.pool("sale", sale.pk), buyer.pk) == 3


def product_stock_and_same_key_race(backend, world) -> None:  # noqa: ANN001
    product = world.listed_product(name="last seven", stock=7)
    buyers = [make_user() for _ in range(10)]
    results = hammer([{"buyer": buyers[i % 10], "lines": [{"product_id": product.pk, "quantity": 1}],
                       "idempotency_key": f"c{i}"} for i in range(30)])
    product.refresh_from_db()
    created = [r for r in results if isinstance(r, Order)]
    assert len(created) == 7 - product.stock == 7
    # The same key from 12 threads at once: one order, and every caller gets it.
    buyer = make_user()
    product2 = world.listed_product(name="胶州白菜", stock=20)
    same = hammer([{"buyer": buyer, "lines": [{"product_id": product2.pk, "quantity": 2}], "idempotency_key": "same"}
                   for _ in range(12)])
    assert {r.pk for r in same if isinstance(r, Order)} == {Order.objects.get(buyer=buyer).pk}
    assert all(isinstance(r, Order) for r in same), Counter(map(str, same))
    product2.refresh_from_db()
    assert product2.stock == 18
