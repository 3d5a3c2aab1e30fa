"""`zhunong bench supervise`: the integrity scan of a big event log, timed and measured.

A log of `--streams` streams is written first (not timed): `--orders` orders (with payments, lapsed unpaid
orders, refunds after the stream) and `--session-events` session events (joins, heartbeats every 30 s,
chat, likes, clicks, leaves), with a brushing ring, bot sessions and below-cost sales mixed in so that
every detector has work. Then `zhunong supervise scan` runs on it in a child process, as an office would
run it; the figure is the child's wall time and its peak memory (max RSS), with the count of flags.

    zhunong bench supervise [--orders 100000] [--session-events 1000000] [--streams 50] [--json]
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

from zhunong.supervision.eventlog import dumps, iso

T0 = 1_780_000_000.0


def add_arguments(parser) -> None:  # noqa: ANN001
    parser.add_argument("--orders", type=int, default=100_000, help="orders in the log (default 100000)")
    parser.add_argument("--session-events", type=int, default=1_000_000,
                        help="join/heartbeat/chat/like/click/leave events (default 1000000)")
    parser.add_argument("--streams", type=int, default=50, help="streams the log spans (default 50)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", help="write the log here and keep it (default: a temporary file)")


def write_log(path: str, *, orders: int, session_events: int, streams: int, seed: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    events: list[tuple[float, dict]] = []
    counts = {"session_events": 0, "orders": 0}
    accounts = max(1000, orders // 2)
    per_stream_events = session_events // streams
    per_stream_orders = orders // streams
    products = [f"p{i}" for i in range(40)]
    prices = {p: float(rng.choice([19.9, 39.9, 59.0, 88.0, 128.0])) for p in products}
    for i, p in enumerate(products):
        events.append((T0 - 86400 + i, {"type": "product", "product_id": p, "cost": round(prices[p] * 0.6, 2)}))
    ring = [f"ring{k}" for k in range(20)]
    sid_n = 0
    for s in range(streams):
        start = T0 + s * 7200.0
        end = start + 7200
        sid = f"s{s}"
        shelf = [products[int(k)] for k in rng.choice(len(products), 6, replace=False)]
        events.append((start, {"type": "stream", "stream_id": sid, "host_id": f"h{s % 5}", "official": s % 5 == 0,
                               "host_org": f"org{s % 5}", "end_ts": iso(end)}))
        made = 0
        bots = s % 10 == 1
        while made < per_stream_events:
            sid_n += 1
            session = f"v{sid_n}"
            joined = start + float(rng.uniform(0, 7000))
            length = min(float(rng.lognormal(np.log(300), 1.0)), end - joined)
            bot = bots and rng.random() < 0.2
            address = f"dc{sid_n % 8}" if bot else f"nat{int(rng.integers(3000))}"
            events.append((joined, {"type": "join", "stream_id": sid, "session_id": session,
                                    "device_hash": f"d{sid_n}", "address_hash": address}))
            made += 1
            for t in np.arange(joined + 30, joined + length, 30.0):
                events.append((float(t), {"type": "heartbeat", "session_id": session}))
                made += 1
            if not bot and rng.random() < 0.5:
                kind = ("chat", "like", "click")[int(rng.integers(3))]
                events.append((joined + length / 2, {"type": kind, "session_id": session}))
                made += 1
            events.append((joined + length, {"type": "leave", "session_id": session}))
            made += 1
        counts["session_events"] += made
        for k in range(per_stream_orders):
            oid = f"o{s}-{k}"
            in_ring = s % 5 == 2 and k < 15
            buyer = ring[k] if in_ring else f"a{int(rng.integers(accounts))}"
            product = shelf[int(rng.integers(len(shelf)))]
            qty = int(rng.integers(1, 4))
            price = prices[product] * (0.5 if s % 10 == 3 and k < 30 else 1.0)
            ts = start + float(rng.uniform(0, 7000))
            amount = round(price * qty, 2)
            events.append((ts, {"type": "order", "order_id": oid, "stream_id": sid,
                                "account": {"id": buyer, "created_at": iso(T0 - 400 * 86400)},
                                "items": [{"product_id": product, "quantity": qty, "unit_price": price}],
                                "amount": amount, "ship_to_hash": f"ship-{buyer}"}))
            if rng.random() < 0.06:
                events.append((ts + 900, {"type": "cancel", "order_id": oid}))
                continue
            events.append((ts + 60, {"type": "payment", "order_id": oid, "amount": amount}))
            if in_ring or rng.random() < 0.04:
                events.append((end + float(rng.uniform(0.2, 6)) * 86400, {"type": "refund", "order_id": oid,
                                                                         "amount": amount}))
        counts["orders"] += per_stream_orders
        for m in range(1, 120):
            events.append((start + 60 * m, {"type": "viewers", "stream_id": sid, "reported": 100}))
    events.sort(key=lambda e: e[0])
    with open(path, "w", encoding="utf-8") as fh:
        for n, (ts, ev) in enumerate(events):
            fh.write(dumps({"type": ev["type"], "event_id": f"e{n}", "ts": iso(ts),
                            **{k: v for k, v in ev.items() if k != "type"}}) + "\n")
    counts["lines"] = len(events)
    return counts


def run(options: dict[str, Any], stdout) -> dict[str, Any]:  # noqa: ANN001
    keep = options.get("keep")
    path = keep or tempfile.mkstemp(suffix=".jsonl", prefix="zhunong-supervise-")[1]
    try:
        t = time.perf_counter()
        counts = write_log(path, orders=options["orders"], session_events=options["session_events"],
                           streams=options["streams"], seed=options["seed"])
        written = time.perf_counter() - t
        stdout.write(f"wrote {counts['lines']} lines in {written:.1f} s; scanning\n")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t = time.perf_counter()
        child = subprocess.run([sys.executable, "-m", "zhunong.cli", "supervise", "scan", path],
                               capture_output=True, text=True, check=True, env={**os.environ})
        elapsed = time.perf_counter() - t
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        summary = json.loads(child.stderr.strip().splitlines()[-1])
        flags = [json.loads(line) for line in child.stdout.splitlines()]
        by_abuse: dict[str, int] = {}
        for f in flags:
            by_abuse[f["abuse"]] = by_abuse.get(f["abuse"], 0) + 1
        return {
            "benchmark": "supervise",
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
                       f"{platform.python_version()}",
            "log": {**counts, "bytes": os.path.getsize(path)},
            "scan_seconds": round(elapsed, 2),
            "scan_peak_rss_mb": round(peak_kb / 1024, 1) if peak_kb > before else None,
            "read": summary["summary"],
            "flags": by_abuse,
            "target": "100,000 orders and 1,000,000 session events in under 60 s",
        }
    finally:
        if not keep and os.path.exists(path):
            os.remove(path)
