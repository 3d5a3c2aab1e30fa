"""Real server processes sharing PostgreSQL + Redis: two servers sell one flash sale; a server killed with
SIGKILL in the middle of a sale loses nothing and duplicates nothing. (postgres_redis: CI's second pass.)"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.db import connection

from zhunong.bench import flash_sale_harness as loadtest
from zhunong.orders import inventory
from zhunong.orders.models import IdempotencyRecord, Order, OrderLine, ReservationItem

pytestmark = [pytest.mark.postgres_redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PORTS = (18520, 18540)


def _test_database_env() -> dict:
    """The servers must use the test database this test writes to."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return {"DATABASE_URL": f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"}


def test_two_servers_sell_one_flash_sale_without_oversell():
    setup = loadtest.setup_sale(stock=40, buyers=90, limit=1, label="two")
    attempts = loadtest.attempts_for(setup, per_buyer=1, key_prefix="two")
    ports = [loadtest.free_port(PORTS[0], PORTS[0] + 10), loadtest.free_port(PORTS[0] + 10, PORTS[0] + 20)]
    servers = [loadtest.start_server(port=p, processes=1, backend="redis", extra_env=_test_database_env())
               for p in ports]
    try:
        loads = [loadtest.start_load(port=p, attempts=attempts[i::2], connections=16)
                 for i, p in enumerate(ports)]
        results = [loadtest.finish_load(load) for load in loads]
    finally:
        for server in servers:
            loadtest.stop_server(server)
    created = sum(r["statuses"].get("201", 0) for r in results)
    assert all(r["statuses"].get("201", 0) > 0 for r in results), results  # both servers sold
    books = loadtest.accounting(setup, "redis")
    assert books["oversold"] == 0 and books["consistent"], books
    assert books["sold"] == created == 40 and books["remaining"] == 0
    assert books["max_per_buyer"] == 1
    assert sum(r["transport_errors"] for r in results) == 0


def test_kill_9_mid_sale_then_restart_loses_and_duplicates_nothing():
    setup = loadtest.setup_sale(stock=120, buyers=300, limit=1, label="crash")
    attempts = loadtest.attempts_for(setup, per_buyer=1, key_prefix="crash")
    port = loadtest.free_port(PORTS[1], PORTS[1] + 20)
    env = _test_database_env()
    server = loadtest.start_server(port=port, processes=2, backend="redis", extra_env=env)
    load = loadtest.start_load(port=port, attempts=attempts, connections=24, detail=True)
    try:
        deadline = time.monotonic() + 120
        while OrderLine.objects.filter(flash_sale_id=setup.sale_id).count() < 15:
            assert time.monotonic() < deadline, "no orders were created"
            time.sleep(0.05)
        loadtest.stop_server(server, kill=True)  # SIGKILL to every server process, mid-sale
        first = loadtest.finish_load(load, timeout=120)
    finally:
        loadtest.stop_server(server, kill=True)
    assert first["transport_errors"] > 0 or first["attempts"] < len(attempts)

    # Restart, and every client retries everything with the same Idempotency-Key.
    server = loadtest.start_server(port=port, processes=2, backend="redis", extra_env=env)
    try:
        second = loadtest.run_load(port=port, attempts=attempts, connections=24, detail=True)
    finally:
        loadtest.stop_server(server)

    # Stock Redis took for requests that died before their order was recorded is neither sold nor left:
    # reconciliation finds those reservations and releases them.
    pool = inventory.pool("sale", setup.sale_id)
    left_before = inventory.get_backend("redis").remaining(pool)
    report = inventory.reconcile_redis(grace_seconds=0)
    released = sum(ReservationItem.objects.filter(pool=pool, reservation__state="released")
                   .values_list("quantity", flat=True))
    assert released == report.orphans_released  # one unit each (limit 1)

    before = {key: order_id for key, status, order_id, _ in first["results"] if status == 201}
    after = {key: (status, order_id) for key, status, order_id, _ in second["results"]}
    for key, order_id in before.items():  # an order a client saw created is the one it gets again
        assert after[key] == (201, order_id), key
    orders = Order.objects.filter(lines__flash_sale_id=setup.sale_id)
    assert Counter(IdempotencyRecord.objects.filter(order__in=orders).values_list("order_id", flat=True)) \
        == Counter({pk: 1 for pk in orders.values_list("pk", flat=True)})
    assert {oid for status, oid in after.values() if status == 201} == set(orders.values_list("pk", flat=True))

    books = loadtest.accounting(setup, "redis")
    assert books["oversold"] == 0
    # Every unit is an order, still in the sale, or a released reservation; then released units are back.
    assert books["sold"] + left_before + released == setup.stock, (books, left_before, report.as_dict())
    assert books["sold"] + books["remaining"] == setup.stock
    assert books["max_per_buyer"] == 1
