"""Fault-injection suite, part 1: a running flash sale with concurrent buyers, one test per fault, each ending
with the same invariant (faults.assert_invariant; docs/reliability.md "Fault-injection suite").

The faults are real: a cache or channel layer pointed at a port nothing listens on, an event relay that is
down, Redis flushed, a throwaway redis-server killed and started again empty, a database connection
terminated inside a fast-path batch, request tasks cancelled after their batch committed, and (in
test_faults_processes.py) a server process killed with SIGKILL. The purchases go through the real ASGI
application; where Redis is configured (the postgres_redis pass) that is the purchase fast path.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import signal
import socket
import subprocess
import time

import pytest
from django.utils import timezone

from zhunong.orders import services
from zhunong.orders.models import Order, OrderStatus
from zhunong.orders.tests import faults

pytestmark = pytest.mark.django_db(transaction=True)

# Nothing listens on these (the fault suite's range, 19200-19299): connections are refused at once.
DEAD_REDIS = "redis://127.0.0.1:19299/0"
DEAD_RELAY = "http://127.0.0.1:19298/internal/events/"

ANSWERS = {201, "sold_out", "limit_exceeded"}  # what a buyer may see when nothing is wrong with the sale


def _sell_out(s: faults.SaleUnderFault, tag: str) -> list[faults.Answer]:
    """Every buyer tries three times at once: more demand than units, and more than the limit."""
    answers = faults.buy_concurrently(s, faults.attempts(s, per_buyer=3, tag=tag))
    assert set(faults.statuses(answers)) <= ANSWERS, faults.statuses(answers)
    return answers


def test_cache_redis_unreachable(world, settings):  # noqa: ANN001
    # The cache (stock frames' once-per-interval mark; without REDIS_URL also the remembered refusals)
    # points at a Redis nobody answers: buying goes on, nothing is lost.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": DEAD_REDIS}}
    s = faults.flash_sale(world, quantity=12, buyers=10, limit=2)
    answers = _sell_out(s, "cache")
    faults.recover()
    books = faults.assert_invariant(s, answers)
    assert books["sold"] == 12 and faults.statuses(answers)[201] == Order.objects.count()


def test_channel_layer_down(world, settings):  # noqa: ANN001
    # Room events (stock frames, sell-out) go to a channel layer whose Redis is unreachable.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [DEAD_REDIS]}}}
    s = faults.flash_sale(world, quantity=12, buyers=10, limit=2)
    answers = _sell_out(s, "layer")
    faults.recover()
    books = faults.assert_invariant(s, answers)
    assert books["sold"] == 12


def test_event_relay_down(world, settings):  # noqa: ANN001
    # The embedded setup (no Redis): the worker's events go through the web server's relay, which is down
    # (restarting). The worker's jobs that publish events - expiring unpaid orders, the sale sweep - still
    # do their work; the units of expired orders are sold again.
    settings.REDIS_URL = ""
    settings.INVENTORY_BACKEND = "db"
    settings.EVENT_RELAY_URL = DEAD_RELAY
    s = faults.flash_sale(world, quantity=12, buyers=10, limit=2)
    first = _sell_out(s, "relay1")
    unpaid = [a.body["id"] for a in first if a.status == 201][:4]
    Order.objects.filter(pk__in=unpaid).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert services.expire_reservations() == 4  # the worker's job, publishing through the dead relay
    faults.recover()
    second = _sell_out(s, "relay2")
    faults.recover()
    books = faults.assert_invariant(s, first + second, may_cancel=frozenset(unpaid))
    assert books["sold"] == 12 and faults.statuses(second)[201] >= 1
    assert Order.objects.filter(status=OrderStatus.CANCELLED).count() == 4


# ---------------------------------------------------------------------------------------------------
# Redis loses its data (postgres_redis: the purchase fast path in front of Django)


@pytest.fixture
def fast(settings):  # noqa: ANN001, ANN201
    settings.INVENTORY_BACKEND = "redis"
    settings.ORDERS_FAST_PATH = True
    return settings


def _flushdb() -> None:
    from zhunong.core import redis as core_redis

    core_redis.client().flushdb()  # everything: counters, reservations, sale records, cached tokens, records


def _cancel(order_ids: list[int]) -> None:
    for order in Order.objects.filter(pk__in=order_ids).select_related("buyer"):
        services.cancel_order(order=order, actor=order.buyer, reason="")


@pytest.mark.postgres_redis
def test_redis_flushed_mid_sale(world, fast):  # noqa: ANN001
    s = faults.flash_sale(world, quantity=12, buyers=10, limit=2)
    # The flush lands while the first wave is still being answered.
    first = faults.buy_concurrently(s, faults.attempts(s, per_buyer=3, tag="f1"), fault=_flushdb, after=8)
    assert set(faults.statuses(first)) <= ANSWERS, faults.statuses(first)
    faults.recover()
    faults.assert_invariant(s, first)
    # Sold out; three buyers cancel their unpaid orders after the flush: their units and limits come back
    # and are sold again.
    created = [a.body["id"] for a in first if a.status == 201]
    _cancel(created[:3])
    faults.recover()
    second = faults.buy_concurrently(s, faults.attempts(s, per_buyer=2, tag="f2"))
    assert set(faults.statuses(second)) <= ANSWERS, faults.statuses(second)
    faults.recover()
    books = faults.assert_invariant(s, first + second, may_cancel=frozenset(created[:3]))
    assert books["sold"] == 12 and faults.statuses(second)[201] >= 1


class ThrowawayRedis:
    """A redis-server of this test's own (the fault suite's port 19201), without persistence, so a restart
    comes back empty, as a Redis without an append-only file does."""

    PORT = 19201

    def __init__(self, tmp_path) -> None:  # noqa: ANN001
        self.dir = tmp_path
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.PORT}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed for the restart fault (CI installs it with Redis)"
        self.proc = subprocess.Popen([binary, "--port", str(self.PORT), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.PORT), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            assert time.monotonic() < deadline, "the throwaway redis-server did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def own_redis(fast, tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    from zhunong.core import redis as core_redis
    from zhunong.orders import inventory

    server = ThrowawayRedis(tmp_path)
    server.start()
    fast.REDIS_URL = server.url  # inventory, fast path, token cache, idempotency records
    monkeypatch.setattr(inventory, "_INSTANCES", {})
    core_redis.client.cache_clear()
    try:
        yield server
    finally:
        server.kill()
        core_redis.client.cache_clear()


@pytest.mark.postgres_redis
def test_redis_restarted_mid_sale(world, own_redis):  # noqa: ANN001
    s = faults.flash_sale(world, quantity=12, buyers=10, limit=2)

    async def restart() -> None:
        own_redis.kill()
        await asyncio.sleep(0.3)  # attempts arrive while Redis is down
        own_redis.start()  # empty

    first = faults.buy_concurrently(s, faults.attempts(s, per_buyer=3, tag="r1"), fault=restart, after=6)
    # While Redis is down a purchase cannot take stock: the buyer gets an error and retries.
    assert set(faults.statuses(first)) <= ANSWERS | {503}, faults.statuses(first)
    failed = [(i, a.key) for i, a in zip(range(len(first)), first, strict=True) if a.status == 503]
    faults.recover()
    faults.assert_invariant(s, first)
    retried = faults.buy_concurrently(s, [(int(key.split("-")[1]), key) for _, key in failed])
    assert set(faults.statuses(retried)) <= ANSWERS, faults.statuses(retried)
    created = [a.body["id"] for a in first + retried if a.status == 201]
    _cancel(created[:2])  # units held before the restart come back when their orders are cancelled
    second = faults.buy_concurrently(s, faults.attempts(s, per_buyer=2, tag="r2"))
    faults.recover()
    books = faults.assert_invariant(s, first + retried + second, may_cancel=frozenset(created[:2]))
    assert books["sold"] == 12 and faults.statuses(second)[201] >= 1


# ---------------------------------------------------------------------------------------------------
# the fast path's batches (postgres_redis)


@pytest.mark.postgres_redis
def test_database_error_inside_a_fast_path_batch(world, fast, monkeypatch):  # noqa: ANN001
    from django.db import connection

    from zhunong.orders import fastpath

    s = faults.flash_sale(world, quantity=12, buyers=10, limit=2)
    real = fastpath._persist
    broken: list[int] = []

    def dying(items):  # noqa: ANN001, ANN202
        orders = real(items)  # the batch's rows are written, not yet committed
        if not broken:
            broken.append(len(items))
            with connection.cursor() as cursor:  # the server ends this connection: the batch cannot commit
                cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return orders

    monkeypatch.setattr(fastpath, "_persist", dying)
    answers = _sell_out(s, "dberr")
    assert broken and broken[0] >= 1
    # The failed batch's buyers were answered by Django's path instead, after their stock was given back:
    # a 201, or sold_out when the batches that did commit had marked the sale sold out meanwhile; then
    # the sweep reopens the sale and those units are sold to the next buyers.
    faults.recover()
    faults.assert_invariant(s, answers)
    more = faults.buy_concurrently(s, faults.attempts(s, per_buyer=1, tag="dberr2"))
    faults.recover()
    books = faults.assert_invariant(s, answers + more)
    assert books["sold"] == 12 and faults.statuses(answers + more)[201] == Order.objects.count()


def _scope_and_body(s: faults.SaleUnderFault, index: int, key: str) -> tuple[dict, bytes]:
    import json

    from zhunong.orders import fastpath

    call = faults.request(s, index, key)
    headers = [(b"host", b"testserver")] + [(k.lower().encode(), v.encode()) for k, v in call["headers"].items()]
    return {"type": "http", "method": "POST", "path": fastpath.PATH, "headers": headers}, \
        json.dumps(call["json"]).encode()


@pytest.mark.postgres_redis
def test_request_tasks_cancelled_after_commit(world, fast, monkeypatch):  # noqa: ANN001
    # The clients of a whole batch go away (or the server is stopping) after the batch committed and
    # before they were answered; they retry with the same keys.
    import json
    import threading

    from zhunong.orders import fastpath

    s = faults.flash_sale(world, quantity=12, buyers=10, limit=2)
    committed = threading.Event()
    real = fastpath._persist_batch

    def answered_late(items):  # noqa: ANN001, ANN202
        out = real(items)
        committed.set()
        time.sleep(0.3)  # committed; the answers are not back yet
        return out

    monkeypatch.setattr(fastpath, "_persist_batch", answered_late)
    path = fastpath.PurchaseFastPath(app=None)  # type: ignore[arg-type]
    tries = faults.attempts(s, per_buyer=3, tag="cancel")

    async def scenario() -> list:
        tasks = [asyncio.get_running_loop().create_task(path.attempt(*_scope_and_body(s, i, k))) for i, k in tries]
        while not committed.is_set():
            await asyncio.sleep(0.005)
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        await asyncio.sleep(1.0)  # the batch settles meanwhile; nothing may undo its orders
        return tasks

    tasks = asyncio.run(scenario())
    answers, gone = [], []
    for (index, key), task in zip(tries, tasks, strict=True):
        if task.cancelled():
            gone.append((index, key))
        else:
            status, payload, _headers = task.result()
            body = json.loads(payload)
            answers.append(faults.Answer(buyer_id=s.buyers[index][0].pk, key=key, status=status, body=body))
    assert gone, "no request was cancelled"
    retried = faults.buy_concurrently(s, gone)
    assert set(faults.statuses(answers + retried)) <= ANSWERS, faults.statuses(answers + retried)
    faults.recover()
    books = faults.assert_invariant(s, answers + retried)
    # Every order a cancelled request committed reached its buyer on the retry: none was lost or doubled.
    told = {a.body["id"] for a in answers + retried if a.status == 201}
    assert told == set(Order.objects.values_list("pk", flat=True)) and books["sold"] == 12
