"""Harness shared by the flash-sale benchmark and the multi-process tests: a live room with a running
flash sale built through the real services, buyers with API tokens, uvicorn server processes, the
separate load process, and the stock accounting afterwards.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.db.models import Sum

from zhunong import testing
from zhunong.accounts import roles, tokencache
from zhunong.accounts.models import ApiToken, User
from zhunong.orders import inventory
from zhunong.orders.models import (
    InventoryReservation,
    OrderLine,
    OrderStatus,
    ReservationItem,
    ReservationState,
)
from zhunong.testing import build_world, start_sale


@dataclass
class SaleSetup:
    sale_id: int
    stream_id: int
    product_id: int
    stock: int
    tokens: list[str] = field(default_factory=list)
    buyer_ids: list[int] = field(default_factory=list)


def make_buyers(count: int, *, label: str, cache_tokens: bool = True) -> tuple[list[int], list[str]]:
    """Buyers with API tokens, inserted in bulk (thousands of password hashes would dominate the setup).

    `cache_tokens`: as `accounts.services.issue_token` does when a buyer logs in, so the buyers arrive at
    the sale the way real ones do, logged in during the countdown; False leaves the purchase fast path to
    find every token in the database on its first use (`bench flash-sale --cold-tokens`).
    """

    tag = f"{label}{secrets.token_hex(3)}"
    users = User.objects.bulk_create([User(username=f"{tag}_{i}", password="!") for i in range(count)])
    group, _ = Group.objects.get_or_create(name=roles.BUYER)
    User.groups.through.objects.bulk_create([User.groups.through(user_id=u.pk, group_id=group.pk) for u in users])
    raws = [secrets.token_urlsafe(32) for _ in users]
    tokens = ApiToken.objects.bulk_create([ApiToken(user=u, key_hash=ApiToken.hash(r), prefix=r[:8])
                                           for u, r in zip(users, raws, strict=True)])
    if cache_tokens:
        tokencache.remember({t.key_hash: t.user_id for t in tokens})
    return [u.pk for u in users], raws


def setup_sale(*, stock: int, buyers: int, limit: int = 1, label: str = "bench",
               cache_tokens: bool = True) -> SaleSetup:
    # testing.py numbers usernames and codes from 1 per process; a benchmark database outlives processes.
    testing._seq = itertools.count(time.time_ns() // 1000 % 10**13)
    world = build_world(prefix=f"{label}{secrets.token_hex(4)}")
    product = world.listed_product(name="洋河蓝莓（秒杀）", stock=stock, price="39.90", cost_floor="20.00")
    room = world.live_room([product], kind="county_head", pin=product)
    sale = start_sale(room, product, quantity=stock, price="29.90", limit=limit, duration_minutes=20)
    ids, tokens = make_buyers(buyers, label=label, cache_tokens=cache_tokens)
    return SaleSetup(sale_id=sale.pk, stream_id=room.stream.pk, product_id=product.pk, stock=stock, tokens=tokens,
                     buyer_ids=ids)


def accounting(setup: SaleSetup, backend_name: str) -> dict:
    """What the database and the inventory backend say after a run."""

    pool = inventory.pool("sale", setup.sale_id)
    lines = OrderLine.objects.filter(flash_sale_id=setup.sale_id)
    held = lines.exclude(order__status=OrderStatus.CANCELLED)
    sold = held.aggregate(n=Sum("quantity"))["n"] or 0
    remaining = inventory.get_backend(backend_name).remaining(pool)
    released = ReservationItem.objects.filter(pool=pool, reservation__state=ReservationState.RELEASED) \
        .aggregate(n=Sum("quantity"))["n"] or 0
    per_buyer = held.values("order__buyer_id").annotate(n=Sum("quantity")).order_by("-n").first()
    tokens = set(held.values_list("order__reservation_token", flat=True))
    return {
        "orders": held.values("order_id").distinct().count(),
        "sold": sold,
        "remaining": remaining,
        "released": released,
        "oversold": max(0, sold - setup.stock),
        "consistent": sold + remaining == setup.stock,
        "max_per_buyer": per_buyer["n"] if per_buyer else 0,
        "reservations_recorded": InventoryReservation.objects.filter(token__in=tokens).count(),
    }


def free_port(start: int, end: int) -> int:
    for port in range(start, end):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError(f"no free port in {start}-{end}")


def start_server(*, port: int, processes: int, backend: str, extra_env: dict | None = None,
                 log_path: str | None = None) -> subprocess.Popen:
    env = dict(os.environ)
    env.update({"ZHUNONG_INVENTORY_BACKEND": backend, "LOG_LEVEL": "WARNING",
                "DJANGO_SETTINGS_MODULE": "zhunong.settings"})
    env.update(extra_env or {})
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - the child owns it
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "zhunong.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(processes), "--lifespan", "off", "--no-access-log", "--log-level", "warning"],
        env=env, stdout=log, stderr=log, start_new_session=True)
    wait_ready(port, proc)
    return proc


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/flash-sales/1")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def warm_up(port: int, *, requests: int = 40) -> None:
    """Every worker imports the API and opens its connections before anything is measured."""

    for _ in range(requests):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/v1/flash-sales/1")
        conn.getresponse().read()
        conn.close()


def stop_server(proc: subprocess.Popen, *, kill: bool = False) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def attempts_for(setup: SaleSetup, *, per_buyer: int, key_prefix: str) -> list[dict]:
    """Round-robin: every buyer's first attempt, then every buyer's second, ..."""
    body = {"lines": [{"product_id": setup.product_id, "quantity": 1}], "stream_id": setup.stream_id}
    return [{"token": token, "key": f"{key_prefix}-{i}-{j}", "body": body}
            for j in range(per_buyer) for i, token in enumerate(setup.tokens)]


def load_job(*, port: int, attempts: list[dict], connections: int, detail: bool = False) -> bytes:
    return json.dumps({"host": "127.0.0.1", "port": port, "path": "/api/v1/orders", "connections": connections,
                       "attempts": attempts, "detail": detail}).encode()


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) of the live processes of one process group, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after "(comm)": state, ppid, pgrp, ..., utime(11), stime(12)
            total += int(fields[11]) + int(fields[12])
    return total / tick


def run_load(*, port: int, attempts: list[dict], connections: int, detail: bool = False,
             server: subprocess.Popen | None = None) -> dict:
    """Run the load process to the end. With `server`, also the CPU both sides spent per attempt: a figure
    that, unlike attempts/s, hardly moves when something else is using the machine."""

    server_cpu = group_cpu_seconds(server.pid) if server is not None else 0.0
    load_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([sys.executable, "-m", "zhunong.bench.flash_sale_loadgen"],
                         input=load_job(port=port, attempts=attempts, connections=connections, detail=detail),
                         capture_output=True, check=True, timeout=1800)
    result = json.loads(out.stdout)
    if server is not None and result["attempts"]:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        load_s = (after.ru_utime - load_cpu.ru_utime) + (after.ru_stime - load_cpu.ru_stime)
        server_s = group_cpu_seconds(server.pid) - server_cpu
        result["cpu_ms_per_attempt"] = {"servers": round(server_s * 1000 / result["attempts"], 3),
                                        "load": round(load_s * 1000 / result["attempts"], 3)}
    return result


def start_load(*, port: int, attempts: list[dict], connections: int, detail: bool = False) -> subprocess.Popen:
    """The load process in the background; `finish_load` collects its result."""
    proc = subprocess.Popen([sys.executable, "-m", "zhunong.bench.flash_sale_loadgen"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    proc.stdin.write(load_job(port=port, attempts=attempts, connections=connections, detail=detail))
    proc.stdin.close()
    return proc


def finish_load(proc: subprocess.Popen, *, timeout: float = 600) -> dict:
    out = proc.stdout.read()
    proc.wait(timeout=timeout)
    return json.loads(out)
