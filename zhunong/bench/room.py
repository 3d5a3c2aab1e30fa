"""`zhunong bench room`: many viewers, chat, likes and pins in one live room, on real server processes.

It creates its own county, verified host, listed products, live stream and chatter accounts in the
configured database (point DATABASE_URL at a scratch database), starts P uvicorn processes on
loopback (sharing Redis when P > 1) unless --url is given, then runs the load in separate processes
(zhunong.bench.room_loadgen: asyncio + websockets). Output: one JSON object (see docs/benchmarks.md).

`--arrivals N` adds the crowd's arrival: N more viewers join within `--arrival-seconds` while the room is
measured (room page, websocket, `welcome`; see room_loadgen), reported under "arrival".

`--layer-baseline` instead measures what the room deliberately avoids: Channels' group fan-out
through the channel layer with one layer channel per viewer.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.accounts.idnumber import with_check_char
from zhunong.accounts.models import User
from zhunong.accounts.services import create_user
from zhunong.bench.room_loadgen import HIST_MS, percentiles
from zhunong.catalog import services as catalog
from zhunong.live import streams as services
from zhunong.live.models import Stream
from zhunong.live.store import forget_room
from zhunong.producers import services as producers
from zhunong.quality import services as quality
from zhunong.testing import make_regions

SCRIPT_ENV = {"PYTHONUNBUFFERED": "1"}


def add_arguments(parser) -> None:  # noqa: ANN001
    parser.add_argument("--viewers", type=int, default=200, help="websocket clients in the room (default 200)")
    parser.add_argument("--chat-rate", type=float, default=20.0, help="chat messages per second in (default 20)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the measured phase (default 20)")
    parser.add_argument("--processes", type=int, default=1, help="server processes to start (>1 needs REDIS_URL)")
    parser.add_argument("--url", help="use a running server (e.g. http://127.0.0.1:8000) sharing this database")
    parser.add_argument("--load-processes", type=int, default=0,
                        help="client processes generating the load (default: 1, or 2 above 1,000 viewers)")
    parser.add_argument("--pin-every", type=float, default=3.0, help="the host pins a product every N s")
    parser.add_argument("--host-every", type=float, default=5.0, help="the host replies in chat every N s")
    parser.add_argument("--likes-per-sec", type=float, default=5.0, help="like frames per second in")
    parser.add_argument("--port-base", type=int, default=18400, help="servers listen on port-base+1 … +P")
    parser.add_argument("--ws", default="auto", choices=["auto", "websockets", "websockets-sansio", "wsproto"],
                        help="uvicorn's websocket implementation")
    parser.add_argument("--arrivals", type=int, default=0,
                        help="viewers who join during the measurement (room page, websocket, welcome); default 0")
    parser.add_argument("--arrival-seconds", type=float, default=5.0, help="the arrivals are spread over N s")
    parser.add_argument("--arrival-after", type=float, default=3.0,
                        help="the arrival starts N s into the measured phase (default 3)")
    parser.add_argument("--page-url", action="append", default=[],
                        help="where arrivals GET the room page (repeatable; e.g. the nginx front); default: the "
                             "server the viewer's websocket goes to")
    parser.add_argument("--layer-baseline", action="store_true",
                        help="measure channel-layer group fan-out (one layer channel per viewer) instead")
    parser.add_argument("--messages", type=int, default=20, help="--layer-baseline: group sends to time")


def run(options: dict[str, Any], stdout) -> dict[str, Any]:  # noqa: ANN001
    if options["layer_baseline"]:
        return asyncio.run(layer_baseline(options["viewers"], options["messages"]))
    viewers, rate, seconds = options["viewers"], options["chat_rate"], options["seconds"]
    if not options["load_processes"]:
        # One Python client process cannot read thousands of sockets fast enough to measure anything else.
        options["load_processes"] = 1 if options["viewers"] <= 1000 else 2
    processes, loaders = options["processes"], options["load_processes"]
    if viewers < 1 or rate < 0 or seconds <= 0 or processes < 1 or loaders < 1:
        raise CommandError("--viewers, --processes and --load-processes must be ≥ 1, --seconds > 0, --chat-rate ≥ 0")
    if options["arrivals"] < 0 or options["arrival_seconds"] <= 0 or options["arrival_after"] < 0:
        raise CommandError("--arrivals must be ≥ 0, --arrival-seconds > 0 and --arrival-after ≥ 0")
    if options["arrivals"] and seconds < options["arrival_after"] + options["arrival_seconds"] + 2:
        raise CommandError("--seconds must cover the arrival: at least --arrival-after + --arrival-seconds + 2")
    if processes > 1 and not settings.REDIS_URL:
        raise CommandError("--processes > 1 needs REDIS_URL: the processes share the room through Redis.")
    if options.get("url") and processes != 1:
        raise CommandError("--url and --processes exclude each other.")
    # The rate limiter allows 3 messages per 2 s per user: spread the chat over enough accounts.
    chatters = min(viewers, max(1, math.ceil(rate / 1.0)))
    run_id = secrets.token_hex(3)
    # A scratch database may be empty: create the schema first, as `bench flash-sale` does.
    call_command("migrate", verbosity=0, interactive=False)
    stdout.write(f"setting up stream and {chatters} chatter accounts …\n")
    setup = _setup(run_id, chatters)
    servers: list[subprocess.Popen] = []
    try:
        if options.get("url"):
            urls = [options["url"].rstrip("/").replace("http://", "ws://").replace("https://", "wss://")]
        else:
            urls = []
            for i in range(processes):
                port = options["port_base"] + 1 + i
                servers.append(_start_server(port, options["ws"]))
                urls.append(f"ws://127.0.0.1:{port}")
            for url, proc in zip(urls, servers, strict=True):
                _wait_port(int(url.rsplit(":", 1)[1]), proc)
        stdout.write(f"servers: {', '.join(urls)}; opening {viewers} websockets …\n")
        result = _drive(setup, urls, servers, options, chatters, run_id, stdout)
    finally:
        for proc in servers:
            proc.terminate()
        for proc in servers:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        _teardown(setup)
    return result


# --- data ----------------------------------------------------------------------------------------


def _setup(run_id: str, chatters: int) -> dict[str, Any]:
    operator, products, county = _bench_county(run_id)
    channel = services.create_channel(actor=operator, county=county, name=f"压测频道 {run_id}")
    host_user = create_user(username=f"bench_host_{run_id}", password=secrets.token_urlsafe(16), role=roles.HOST)
    host = services.create_host(actor=operator, user=host_user, channel=channel, kind="villager", title="压测主播")
    # A checksum-valid ID number, random so that repeated runs on one database do not reuse one.
    id_number = with_check_char(f"370281{dt.date(1970, 1, 1) + dt.timedelta(days=secrets.randbelow(10_000)):%Y%m%d}"
                                f"{secrets.randbelow(1000):03d}")
    services.verify_host(actor=operator, host=host, method="video_call", note="benchmark", real_name="压测主播",
                         id_number=id_number)
    now = timezone.now()
    stream = services.schedule_stream(actor=operator, host=host, title=f"[bench] {run_id}",
                                      planned_start=now, planned_end=now + dt.timedelta(hours=2), products=products)
    forget_room(stream.pk)
    stream = services.start_stream(stream=stream, actor=host_user)
    # Chatter accounts log in through sessions made here; hashing a password for each would only
    # slow the setup (the accounts have no usable password).
    buyer_group, _ = Group.objects.get_or_create(name=roles.BUYER)
    joined = timezone.now() - dt.timedelta(days=30)
    users = User.objects.bulk_create([
        User(username=f"bench_{run_id}_{i}", display_name=f"观众{i}", password="!", date_joined=joined)
        for i in range(chatters)
    ])
    if not users[0].pk:  # backends without RETURNING
        users = list(User.objects.filter(username__startswith=f"bench_{run_id}_").order_by("pk"))
    User.groups.through.objects.bulk_create([User.groups.through(user_id=u.pk, group_id=buyer_group.pk) for u in users])

    def session(user: User) -> str:
        s = SessionStore()
        s[SESSION_KEY] = str(user.pk)
        s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        s[HASH_SESSION_KEY] = user.get_session_auth_hash()
        s.create()
        return s.session_key

    return {
        "stream_id": stream.pk,
        "products": [p.pk for p in products],
        "host_cookie": session(host_user),
        "chatter_cookies": [session(u) for u in users],
        "host_user_id": host_user.pk,
    }


def _bench_county(run_id: str) -> tuple[Any, list[Any], Any]:
    """A county of its own with three inspected, listed products, built through the real services."""

    regions = make_regions(f"BENCH{run_id}")
    county = regions["county"]
    password = secrets.token_urlsafe(16)
    operator = create_user(username=f"bench_op_{run_id}", password=password, role=roles.COUNTY_OPERATOR,
                           region=county)
    regulator = create_user(username=f"bench_reg_{run_id}", password=password, role=roles.REGULATOR, region=county)
    producer = producers.create_producer(actor=operator, name="压测合作社", village=regions["village"])
    plot = producers.create_plot(actor=operator, producer=producer, name="压测地块", area_mu="10", crop="蓝莓")
    products = []
    for i in range(3):
        batch = producers.create_batch(actor=operator, plot=plot, harvested_on=timezone.localdate(), quantity="1000")
        product = catalog.create_product(actor=operator, name=f"压测商品{i}", price="29.90", cost_floor="10.00",
                                         origin=county, producers=[producer], batches=[batch], stock=100000)
        catalog.submit_for_inspection(actor=operator, product=product)
        quality.record_inspection(actor=regulator, batch=batch, sample_code=f"BENCH-{run_id}-{i}", lab="压测实验室",
                                  sampled_on=timezone.localdate(), result="pass",
                                  items=[quality.ItemInput(name="农药残留", value="0.01", limit="0.05", unit="mg/kg")])
        product.refresh_from_db()
        products.append(product)
    return operator, products, county


def _teardown(setup: dict[str, Any]) -> None:
    stream = Stream.objects.filter(pk=setup["stream_id"]).first()
    if stream is not None and stream.status == "live":
        services.end_stream(stream=stream, actor=User.objects.get(pk=setup["host_user_id"]), reason="benchmark over")


# --- processes -----------------------------------------------------------------------------------


def _start_server(port: int, ws_impl: str) -> subprocess.Popen:
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            raise CommandError(f"port {port} is in use; choose --port-base")
    env = dict(os.environ, **SCRIPT_ENV)
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "zhunong.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--lifespan", "off", "--no-access-log", "--log-level", "warning", "--ws", ws_impl,
         "--backlog", "8192"],
        env=env,
    )


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CommandError(f"server on port {port} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise CommandError(f"server on port {port} did not start in {timeout:.0f} s")


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _drive(setup: dict[str, Any], urls: list[str], servers: list[subprocess.Popen], options: dict[str, Any],
           chatters: int, run_id: str, stdout) -> dict[str, Any]:  # noqa: ANN001
    viewers, loaders = options["viewers"], options["load_processes"]
    cookies = setup["chatter_cookies"]
    plans = []
    for i in range(loaders):
        share = viewers // loaders + (1 if i < viewers % loaders else 0)
        my_cookies = cookies[i::loaders]
        plans.append({
            "run_id": f"{run_id}L{i}",
            "urls": urls[i % len(urls):] + urls[: i % len(urls)],
            "stream_id": setup["stream_id"],
            "viewers": share,
            "chatters": len(my_cookies),
            "chatter_cookies": my_cookies,
            "host_cookie": setup["host_cookie"] if i == 0 else None,
            "products": setup["products"],
            "chat_rate": options["chat_rate"] / loaders,
            "likes_per_sec": options["likes_per_sec"] / loaders,
            "pin_every": options["pin_every"],
            "host_every": options["host_every"],
            "seconds": options["seconds"],
            "connect_concurrency": max(20, 200 // loaders),
            # Disjoint source addresses per load process (room_loadgen.source_address).
            "address_base": i * 1_000_000,
            "arrivals": options["arrivals"] // loaders + (1 if i < options["arrivals"] % loaders else 0),
            "arrival_seconds": options["arrival_seconds"],
            "arrival_after": options["arrival_after"],
            "page_urls": [u.rstrip("/") for u in options["page_url"]],
            "result_path": os.path.join(tempfile.gettempdir(), f"zhunong-bench-{run_id}-{i}.json"),
        })
    env = dict(os.environ, **SCRIPT_ENV)
    procs = [subprocess.Popen([sys.executable, "-m", "zhunong.bench.room_loadgen"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env) for _ in plans]
    for proc, plan in zip(procs, plans, strict=True):
        proc.stdin.write(json.dumps(plan) + "\n")
        proc.stdin.flush()
    connected = 0
    for proc in procs:
        line = proc.stdout.readline()
        if not line:
            raise CommandError("a load process died while connecting")
        connected += json.loads(line)["connected"]
    stdout.write(f"{connected} viewers connected; measuring for {options['seconds']:g} s …\n")
    cpu0 = {p.pid: _cpu_seconds(p.pid) for p in servers}
    t0 = time.monotonic()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    time.sleep(options["seconds"])
    wall = time.monotonic() - t0
    cpu1 = {p.pid: _cpu_seconds(p.pid) for p in servers if p.poll() is None}
    rss = sum(_rss_mb(p.pid) for p in servers if p.poll() is None)
    results = []
    for proc, plan in zip(procs, plans, strict=True):
        proc.communicate(timeout=options["seconds"] + 180)
        try:
            with open(plan["result_path"]) as f:
                results.append(json.load(f))
        except (OSError, ValueError):
            raise CommandError(f"a load process failed (exit {proc.returncode})")
        finally:
            with contextlib.suppress(OSError):
                os.unlink(plan["result_path"])
    return _merge(results, options, chatters, connected,
                  server_cpu=(sum(cpu1[p] - cpu0[p] for p in cpu1) / wall * 100) if servers else None,
                  server_rss=rss if servers else None, servers=len(servers))


def _cpu_pressure() -> float | None:
    try:
        with open("/proc/pressure/cpu") as f:
            first = f.readline().split()
    except OSError:
        return None
    values = dict(part.split("=") for part in first[1:] if "=" in part)
    return float(values["avg60"]) if "avg60" in values else None


def _merge(results: list[dict[str, Any]], options: dict[str, Any], chatters: int, connected: int, *,
           server_cpu: float | None, server_rss: float | None, servers: int) -> dict[str, Any]:
    hist: dict[int, int] = defaultdict(int)
    for r in results:
        for ms, n in r["latency_hist"].items():
            hist[int(ms)] += n
    total = sum(hist.values())
    pct: dict[str, int | None] = {}
    for p in (50, 95, 99):
        acc, pct[f"p{p}"] = 0, None
        for ms in sorted(hist):
            acc += hist[ms]
            if total and acc >= total * p / 100:
                pct[f"p{p}"] = ms
                break
    sent_important = set()
    for r in results:
        sent_important.update(r["important_sent"])
    got: dict[str, int] = defaultdict(int)
    for r in results:
        for k, n in r["important_received"].items():
            got[k] += n
    missed = {k: connected - got.get(k, 0) for k in sent_important}
    sent = sum(r["sent"] for r in results)
    delivered = sum(r["delivered"] for r in results)
    closed: dict[str, int] = defaultdict(int)
    for r in results:
        for code, n in r["closed_by_server"].items():
            closed[code] += n
    measure = max(r["measure_seconds"] for r in results)
    return {
        "viewers": connected,
        "sent": sent,
        "delivered": delivered,
        "sampled_out": sum(r["sampled_out_reported"] for r in results),
        "latency_ms": pct,
        "system_lost": sum(1 for n in missed.values() if n > 0),
        "server_cpu_percent": round(server_cpu, 1) if server_cpu is not None else None,
        "server_rss_mb": round(server_rss, 1) if server_rss is not None else None,
        # Context for reading the numbers above.
        "requested_viewers": options["viewers"],
        "chat_rate": options["chat_rate"],
        "seconds": measure,
        "processes": servers or None,
        "load_processes": options["load_processes"],
        "chatters": chatters,
        "expected_chat_deliveries": sent * connected,
        "system_messages": len(sent_important),
        "system_missed_deliveries": sum(missed.values()),
        "latency_samples": total,
        # How long one batch took to reach every viewer of one load process (first to last arrival).
        "fanout_spread_ms": [r.get("fanout_spread_ms") for r in results],
        "connect_failures": sum(r["connect_failures"] for r in results),
        "connect_seconds": max(r["connect_seconds"] for r in results),
        "closed_by_server": dict(closed),
        "frames_received": sum(r["frames_received"] for r in results),
        "load_cpu_seconds": sum(r["load_cpu_seconds"] for r in results),
        "host_errors": [e for r in results for e in r["host_errors"]][:20],
        "arrival": _merge_arrival(results, options) if options.get("arrivals") else None,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1m": round(os.getloadavg()[0], 2),
                    # Share of the last minute in which some task waited for a CPU (other jobs on the box).
                    "cpu_pressure_avg60": _cpu_pressure(),
                    "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                    "redis": bool(settings.REDIS_URL)},
    }


def _merge_arrival(results: list[dict[str, Any]], options: dict[str, Any]) -> dict[str, Any]:
    """The crowd's arrival over all load processes: joins per second, time from the tap to `welcome`
    (and to the room page's answer), refusals by reason, and the chat latency of the viewers already in
    the room for chat sent while the crowd arrived."""

    def hist(name: str) -> list[int]:
        h = [0] * (HIST_MS + 1)
        for r in results:
            for ms, n in r["arrival"][name].items():
                h[int(ms)] += n
        return h

    welcomed = sum(r["arrival"]["welcomed"] for r in results)
    refusals: dict[str, int] = defaultdict(int)
    for r in results:
        for reason, n in r["arrival"]["refusals"].items():
            refusals[reason] += n
    first = min(r["arrival"]["first_tap"] for r in results)
    last = max(r["arrival"]["last_tap"] for r in results)
    taps = options["arrivals"]
    return {
        "arrivals": taps,
        "welcomed": welcomed,
        "refused": sum(refusals.values()),
        "refusals": dict(refusals),
        "unanswered": taps - welcomed - sum(refusals.values()),
        "tap_seconds": round(last - first, 2),
        "joins_per_second": round(welcomed / max(last - first, options["arrival_seconds"]), 1),
        "welcome_ms": percentiles(hist("welcome_hist")),
        "page_ms": percentiles(hist("page_hist")),
        # How late the load processes started a join after its scheduled tap (their own lag).
        "start_lag_ms": percentiles(hist("start_lag_hist")),
        "chat_during_arrival_ms": percentiles(hist("chat_hist")),
    }


# --- the channel-layer baseline --------------------------------------------------------------------


async def layer_baseline(members: int, messages: int) -> dict[str, Any]:
    """Channels' usual room: every viewer's own layer channel joins the group, and each event is sent
    to the group. Times group_send and counts what arrives (channels_redis drops at channel capacity)."""

    layer = get_channel_layer()
    group = f"bench.baseline.{secrets.token_hex(3)}"
    channels = [await layer.new_channel() for _ in range(members)]
    t = time.perf_counter()
    for ch in channels:
        await layer.group_add(group, ch)
    join_s = time.perf_counter() - t
    received = [0] * members
    arrival: list[float] = []
    done = asyncio.Event()
    expected = members * messages

    async def receive(i: int, ch: str) -> None:
        while True:
            msg = await layer.receive(ch)
            received[i] += 1
            arrival.append(time.perf_counter() - msg["t0"])
            if sum(received) >= expected:
                done.set()

    # A receiver per channel is what a consumer per viewer amounts to.
    tasks = [asyncio.create_task(receive(i, ch)) for i, ch in enumerate(channels)]
    send_times = []
    start = time.perf_counter()
    for i in range(messages):
        t = time.perf_counter()
        await layer.group_send(group, {"type": "bench.msg", "i": i, "t0": t})
        send_times.append(time.perf_counter() - t)
    with_timeout = 30.0
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(done.wait(), with_timeout)
    elapsed = time.perf_counter() - start
    for task in tasks:
        task.cancel()
    # A direct send to one channel, for comparison.
    direct = []
    for i in range(messages):
        t = time.perf_counter()
        await layer.send(channels[0], {"type": "bench.direct", "i": i, "t0": t})
        direct.append(time.perf_counter() - t)
    for ch in channels:
        await layer.group_discard(group, ch)
    arrival.sort()
    got = sum(received)

    def q(p: float) -> float | None:
        return round(arrival[min(len(arrival) - 1, int(len(arrival) * p))] * 1000, 1) if arrival else None

    return {
        "layer": type(layer).__name__,
        "group_members": members,
        "messages": messages,
        "group_add_total_ms": round(join_s * 1000, 1),
        "group_send_ms_avg": round(sum(send_times) / len(send_times) * 1000, 2),
        "direct_send_ms_avg": round(sum(direct) / len(direct) * 1000, 3),
        "expected_deliveries": expected,
        "delivered": got,
        "lost": expected - got,
        "delivery_ms": {"p50": q(0.5), "p99": q(0.99)},
        "seconds_until_all_or_timeout": round(elapsed, 2),
    }
