"""Fault-injection suite, part 2: kill -9 of one server process mid-sale (docs/reliability.md).

Real uvicorn worker processes (two, as `zhunong serve` runs them) on the fault suite's ports, sharing
PostgreSQL and Redis with this test; buyers over real HTTP; one worker is killed with SIGKILL while
purchases are in flight. The server's supervisor starts a new worker; buyers whose connection broke retry
with the same Idempotency-Key; the platform's sweeps recover; the suite's invariant holds.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.db import connection

from zhunong.bench import flash_sale_harness as harness
from zhunong.orders.tests import faults

pytestmark = [pytest.mark.postgres_redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PORTS = (19210, 19220)


def _test_database_env() -> dict:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return {"DATABASE_URL": f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
            "ZHUNONG_ORDERS_FAST_PATH": "1"}


def _workers(parent: int) -> list[int]:
    """The pids of the server's worker processes (children of uvicorn's supervisor), from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if b"resource_tracker" in f.read():  # multiprocessing's helper, not a worker
                        continue
                out.append(int(entry))
    return sorted(out)


def _connections(pid: int, port: int) -> int:
    """How many established connections to `port` the process `pid` holds (/proc/net/tcp and its fds)."""
    inodes = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for row in f.read().splitlines()[1:]:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # 01: ESTABLISHED
                    inodes.add(fields[9])
    held = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        held += target.startswith("socket:[") and target[8:-1] in inodes
    return held


def test_kill_9_of_a_server_process_mid_sale(world, settings):  # noqa: ANN001
    settings.INVENTORY_BACKEND = "redis"
    s = faults.flash_sale(world, quantity=60, buyers=200, limit=1, product_stock=100)
    port = harness.free_port(*PORTS)
    server = harness.start_server(port=port, processes=2, backend="redis", extra_env=_test_database_env())
    killed: list[int] = []
    try:
        workers = _workers(server.pid)
        assert len(workers) == 2, workers

        def kill_one() -> None:
            # The worker serving the buyers' connections (the kernel may hand them all to one), mid-load.
            victim = max(workers, key=lambda pid: _connections(pid, port))
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

        base = f"http://127.0.0.1:{port}"
        first = faults.buy_concurrently(s, faults.attempts(s, per_buyer=3, tag="k9"), fault=kill_one, after=30,
                                        base_url=base)
        # The supervisor replaces the dead worker; the buyers whose request died retry with the same key.
        deadline = time.monotonic() + 60
        while len(_workers(server.pid)) < 2:
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.1)
        broken = [(int(a.key.split("-")[1]), a.key) for a in first if a.status == 0 or a.status >= 500]
        retried = faults.buy_concurrently(s, broken, base_url=base)
        # A retry of a request that died in the killed process, inside its in-flight minute, is told to wait
        # (409 request_in_progress) unless the order had committed (then it is replayed).
        assert set(faults.statuses(first + retried)) <= {201, "sold_out", "limit_exceeded", "request_in_progress", 0}, \
            faults.statuses(first + retried)
        assert faults.statuses(retried)[0] == 0
        # The sweep (reconcile_redis) gives back the stock the dead process took for orders it never
        # recorded; the sale reopens and the buyers who try again buy those units.
        faults.recover()
        faults.assert_invariant(s, first + retried)
        again = faults.buy_concurrently(s, faults.attempts(s, per_buyer=1, tag="k9again"), base_url=base)
    finally:
        harness.stop_server(server)
    assert killed and broken, "the kill broke no request"
    faults.recover()
    books = faults.assert_invariant(s, first + retried + again)
    assert books["sold"] == 60, books
