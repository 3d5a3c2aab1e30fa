"""The room benchmark's load process: N websocket clients in one asyncio loop (websockets library).

Run by `zhunong bench room` as `python -m zhunong.bench.room_loadgen` with a JSON plan on stdin; prints one
JSON result on stdout. Kept free of Django so its own CPU goes to the clients, not to imports.

Clients: `viewers` anonymous watchers, `chatters` logged-in viewers who send chat (and likes) at
`chat_rate` messages per second in total, and one host connection that pins a product every
`pin_every` seconds and replies in chat every `host_every` seconds. Every client records what it
received; identical frames (each batch is the same string for every viewer) are parsed once.

Arrival (`arrivals` > 0): once the measurement has run `arrival_after` seconds, `arrivals` new viewers join
evenly over `arrival_seconds`, each as a phone does after tapping a link: GET the room page (`page_url`), then
open the room's websocket, then wait for the first frame, which must be `welcome`. Each is timed from its
scheduled tap; anything else (an HTTP status other than 200, an error frame, a close, a timeout) is a refusal.

Every anonymous connection comes from its own loopback address (127.x.y.z, `address_base` + its number),
as a crowd of phones would: the room caps anonymous connections per address (docs/decisions/0009).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

HIST_MS = 20000  # latency histogram: 1 ms buckets up to 20 s
JOIN_TIMEOUT = 30.0  # an arrival not welcomed within this is a refusal ("timeout")


def source_address(n: int) -> str:
    """The n-th loopback source address (127.0.0.0/8 is all local on Linux), skipping .0 and .255."""
    return f"127.{1 + n // 64_000 % 250}.{n // 250 % 256}.{n % 250 + 1}"


def percentiles(hist: list[int]) -> dict[str, int | None]:
    total = sum(hist)
    out: dict[str, int | None] = {}
    for p in (50, 95, 99):
        acc, out[f"p{p}"] = 0, None
        for ms, count in enumerate(hist):
            acc += count
            if total and acc >= total * p / 100:
                out[f"p{p}"] = ms
                break
    return out


async def http_get(url: str, local_addr: str | None) -> tuple[int, int]:
    """GET url over a fresh HTTP/1.1 connection (as a new visitor); (status, body bytes)."""
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port),
                                                   local_addr=(local_addr, 0) if local_addr else None)
    try:
        writer.write(f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nAccept: text/html\r\n"
                     f"Accept-Language: zh-CN,zh;q=0.9\r\nConnection: close\r\n\r\n".encode())
        data = await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    try:
        return int(head.split(b" ", 2)[1]), len(body)
    except (IndexError, ValueError):
        return 0, 0


@dataclass
class Client:
    idx: int
    url: str
    origin: str
    cookie: str | None = None
    local_addr: str | None = None
    ws: Any = None
    connected_at: float = 0.0
    closed_code: int | None = None
    chat_received: int = 0
    important_ids: set = field(default_factory=set)
    sampled_reported: int = 0
    frames: int = 0


class Run:
    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.hist = [0] * (HIST_MS + 1)
        self.parse_cache: dict[str, list[tuple[str, Any]]] = {}
        self.sent_chat = 0
        self.chat_acked = 0
        self.chat_errors: dict[str, int] = {}
        self.important_sent: dict[str, float] = {}  # key -> time sent
        self.stop_sending = asyncio.Event()
        self.connect_failures = 0
        self.host_errors: list[str] = []
        self.hb_tasks: list[asyncio.Task] = []
        # For each distinct frame (a batch is one string for every viewer): first and last arrival here,
        # i.e. how long one batch takes to reach all of this process's viewers.
        self.spread: dict[str, list[float]] = {}
        # Chat latency of the viewers already in the room, for messages sent while the crowd arrives.
        self.hist_arrival = [0] * (HIST_MS + 1)
        self.arrival_window = (0.0, 0.0)
        self.welcome_hist = [0] * (HIST_MS + 1)
        self.page_hist = [0] * (HIST_MS + 1)
        self.start_lag_hist = [0] * (HIST_MS + 1)
        self.refusals: dict[str, int] = {}
        self.arrived: list[Any] = []
        self.arrival_span = (0.0, 0.0)

    # Each distinct batch frame is parsed once; per client we only look up the digest.
    def digest(self, text: str) -> list[tuple[str, Any]]:
        cached = self.parse_cache.get(text)
        if cached is not None:
            return cached
        out: list[tuple[str, Any]] = []
        try:
            frame = json.loads(text)
        except ValueError:
            return out
        events = frame.get("events", [frame]) if isinstance(frame, dict) else []
        for e in events:
            t = e.get("t")
            if t == "chat":
                body = e.get("text", "")
                if e.get("host"):
                    out.append(("important", f"chat:{e.get('id')}"))
                elif body.startswith("bench "):
                    try:
                        out.append(("chat", float(body.split()[2])))
                    except (IndexError, ValueError):
                        out.append(("chat", None))
                else:
                    out.append(("chat", None))
            elif t == "pin":
                out.append(("important", f"pin:{e['pin']['id']}"))
            elif t == "sampled":
                out.append(("sampled", e.get("n", 0)))
            elif t == "error":
                out.append(("error", e.get("code")))
        if frame.get("t") == "batch" and len(self.parse_cache) < 50000:
            self.parse_cache[text] = out
        return out

    async def reader(self, c: Client) -> None:
        hist = self.hist
        spread = self.spread
        try:
            async for text in c.ws:
                now = time.time()
                c.frames += 1
                if text.startswith('{"t":"batch"'):  # batches are unique (seq); replies like hb are not
                    first_last = spread.get(text)
                    if first_last is None:
                        if len(spread) < 50000:
                            spread[text] = [now, now]
                    else:
                        first_last[1] = now
                for kind, value in self.digest(text):
                    if kind == "chat":
                        c.chat_received += 1
                        if value is not None:
                            ms = int((now - value) * 1000)
                            hist[ms if 0 <= ms < HIST_MS else HIST_MS] += 1
                            if self.arrival_window[0] <= value <= self.arrival_window[1]:
                                self.hist_arrival[ms if 0 <= ms < HIST_MS else HIST_MS] += 1
                    elif kind == "important":
                        c.important_ids.add(value)
                    elif kind == "sampled":
                        c.sampled_reported += value
        except ConnectionClosed as exc:
            c.closed_code = exc.rcvd.code if exc.rcvd else 1006
        except Exception:
            c.closed_code = -1

    async def open(self, c: Client, sem: asyncio.Semaphore) -> bool:
        async with sem:
            headers = {"Cookie": f"sessionid={c.cookie}"} if c.cookie else {}
            for attempt in range(3):
                try:
                    c.ws = await connect(c.url, origin=c.origin, additional_headers=headers, compression=None,
                                         open_timeout=60, ping_interval=None, max_queue=None,
                                         close_timeout=2,
                                         local_addr=(c.local_addr, 0) if c.local_addr else None)
                    welcome = json.loads(await asyncio.wait_for(c.ws.recv(), 60))
                    if welcome.get("t") != "welcome":
                        raise RuntimeError(welcome)
                    c.connected_at = time.time()
                    self.hb_tasks.append(asyncio.create_task(self.heartbeat(c)))
                    return True
                except Exception:
                    await asyncio.sleep(0.5 * (attempt + 1))
            self.connect_failures += 1
            return False

    async def arrive(self, plan: dict[str, Any], t_start: float) -> None:
        """The crowd: `arrivals` joins spread evenly over `arrival_seconds` from t_start (time.time())."""
        n, span = plan["arrivals"], plan["arrival_seconds"]
        urls, page_urls = plan["urls"], plan.get("page_urls") or []
        base = plan.get("address_base", 0) + 500_000
        tasks = []
        for i in range(n):
            at = t_start + span * i / n
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            url = urls[i % len(urls)]
            page = (page_urls[i % len(page_urls)] if page_urls else url.replace("ws://", "http://")).rstrip("/")
            tasks.append(asyncio.create_task(self.join(
                ws_url=f"{url}/ws/rooms/{plan['stream_id']}/?vid=arr{plan['run_id']}x{i}",
                origin=url.replace("ws://", "http://"), page_url=f"{page}/live/{plan['stream_id']}/",
                local_addr=source_address(base + i), at=at)))
        self.arrival_span = (t_start, time.time())
        await asyncio.gather(*tasks, return_exceptions=True)

    def _refuse(self, reason: str) -> None:
        self.refusals[reason] = self.refusals.get(reason, 0) + 1

    async def join(self, *, ws_url: str, origin: str, page_url: str, local_addr: str, at: float) -> None:
        started = time.time()
        lag = int((started - at) * 1000)
        self.start_lag_hist[lag if 0 <= lag < HIST_MS else HIST_MS] += 1
        try:
            status, _size = await asyncio.wait_for(http_get(page_url, local_addr), JOIN_TIMEOUT)
        except TimeoutError:
            return self._refuse("page_timeout")
        except OSError as exc:
            return self._refuse(f"page_{type(exc).__name__}")
        ms = int((time.time() - at) * 1000)
        self.page_hist[ms if 0 <= ms < HIST_MS else HIST_MS] += 1
        if status != 200:
            return self._refuse(f"page_http_{status}")
        try:
            ws = await connect(ws_url, origin=origin, compression=None, open_timeout=JOIN_TIMEOUT,
                               ping_interval=None, max_queue=None, close_timeout=2, local_addr=(local_addr, 0))
        except Exception as exc:  # noqa: BLE001 - the kind of failure is the result
            code = getattr(getattr(exc, "response", None), "status_code", None)
            return self._refuse(f"ws_http_{code}" if code else f"ws_{type(exc).__name__}")
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, at + JOIN_TIMEOUT - time.time())))
        except TimeoutError:
            await ws.close()
            return self._refuse("welcome_timeout")
        except ConnectionClosed as exc:
            return self._refuse(f"closed_{exc.rcvd.code if exc.rcvd else 1006}")
        if not isinstance(frame, dict) or frame.get("t") != "welcome":
            await ws.close()
            return self._refuse(f"error_{frame.get('code') if isinstance(frame, dict) else '?'}")
        ms = int((time.time() - at) * 1000)
        self.welcome_hist[ms if 0 <= ms < HIST_MS else HIST_MS] += 1
        # Now a viewer like the others: read (and drop) what the room sends until the end.
        self.arrived.append(ws)
        with contextlib.suppress(Exception):
            async for _ in ws:
                pass

    async def heartbeat(self, c: Client) -> None:
        """Each client says hb every 15 s from the moment it is connected (as the browser client does)."""
        await asyncio.sleep(random.uniform(0, 15.0))
        while not self.stop_sending.is_set() and c.closed_code is None:
            with contextlib.suppress(Exception):
                await c.ws.send('{"t":"hb"}')
            await asyncio.sleep(15.0)

    async def chatters(self, chatters: list[Client], rate: float, likes_per_sec: float) -> None:
        if not chatters or rate <= 0:
            return
        interval = 1.0 / rate
        n = 0
        start = time.monotonic()
        like_every = max(1, int(rate / likes_per_sec)) if likes_per_sec > 0 else 0
        while not self.stop_sending.is_set():
            c = chatters[n % len(chatters)]
            n += 1
            if c.closed_code is None:
                try:
                    await c.ws.send(json.dumps({"t": "chat", "text": f"bench {n} {time.time():.4f}", "ref": n}))
                    self.sent_chat += 1
                    if like_every and n % like_every == 0:
                        await c.ws.send(json.dumps({"t": "like", "n": random.randint(1, 3)}))
                except Exception:
                    pass
            delay = start + n * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

    async def host(self, h: Client, products: list[int], pin_every: float, host_every: float) -> None:
        """The host pins a product every few seconds and replies in chat; acks give the ids to expect."""
        pending: dict[Any, str] = {}
        ref = 0
        next_pin = time.monotonic() + pin_every
        next_chat = time.monotonic() + host_every
        i = 0

        async def read() -> None:
            try:
                async for text in h.ws:
                    frame = json.loads(text)
                    if frame.get("t") == "ack" and frame.get("ref") in pending:
                        kind = pending.pop(frame["ref"])
                        self.important_sent[f"{kind}:{frame['id']}"] = time.time()
                    elif frame.get("t") == "error":
                        self.host_errors.append(frame.get("code", "?"))
            except Exception:
                pass

        reader = asyncio.create_task(read())
        while not self.stop_sending.is_set():
            now = time.monotonic()
            if now >= next_pin:
                ref += 1
                pending[ref] = "pin"
                await h.ws.send(json.dumps({"t": "pin", "product_id": products[i % len(products)], "ref": ref}))
                i += 1
                next_pin += pin_every
            if now >= next_chat:
                ref += 1
                pending[ref] = "chat"
                await h.ws.send(json.dumps({"t": "chat", "text": f"主播回复 {ref}", "ref": ref}))
                next_chat += host_every
            await asyncio.sleep(0.05)
        await asyncio.sleep(self.plan.get("drain", 10.0))
        reader.cancel()


async def main(plan: dict[str, Any]) -> dict[str, Any]:
    run = Run(plan)
    urls = plan["urls"]
    clients: list[Client] = []
    cookies = plan["chatter_cookies"]
    for i in range(plan["viewers"]):
        url = urls[i % len(urls)]
        cookie = cookies[i] if i < len(cookies) else None
        vid = None if cookie else f"bench{plan['run_id']}v{i}"
        full = f"{url}/ws/rooms/{plan['stream_id']}/" + (f"?vid={vid}" if vid else "")
        origin = url.replace("ws://", "http://")
        clients.append(Client(idx=i, url=full, origin=origin, cookie=cookie,
                              local_addr=None if cookie else source_address(plan.get("address_base", 0) + i)))
    host_url = urls[0]
    host = None
    if plan.get("host_cookie"):
        host_url = urls[0]
        host = Client(idx=-1, url=f"{host_url}/ws/rooms/{plan['stream_id']}/",
                      origin=host_url.replace("ws://", "http://"), cookie=plan["host_cookie"])
    sem = asyncio.Semaphore(plan.get("connect_concurrency", 100))
    t0 = time.time()
    ok = await asyncio.gather(*(run.open(c, sem) for c in clients))
    connected = [c for c, good in zip(clients, ok, strict=True) if good]
    connect_seconds = time.time() - t0
    if host is not None and not await run.open(host, sem):
        return {"error": "host could not connect"}
    readers = [asyncio.create_task(run.reader(c)) for c in connected]
    if plan.get("arrivals"):
        # The viewers already in the room loaded its page when they came: so has any cache in front.
        for page in plan.get("page_urls") or []:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(http_get(f"{page}/live/{plan['stream_id']}/", None), JOIN_TIMEOUT)
    # Tell the bench we are connected, and wait for everyone's go (so all processes measure together).
    print(json.dumps({"phase": "connected", "connected": len(connected)}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    # The clients' own garbage collection would show up as delivery stalls: keep it out of the measurement.
    gc.collect()
    gc.freeze()
    gc.disable()
    measure_start = time.time()
    chatters = [c for c in connected if c.cookie][: plan["chatters"]]
    tasks = [
        asyncio.create_task(run.chatters(chatters, plan["chat_rate"], plan.get("likes_per_sec", 5.0))),
    ]
    if host is not None:
        tasks.append(asyncio.create_task(run.host(host, plan["products"], plan["pin_every"], plan["host_every"])))
    arrival = None
    if plan.get("arrivals"):
        t_arrive = measure_start + plan["arrival_after"]
        # Chat sent from the first tap until a second after the last counts as "during the arrival".
        run.arrival_window = (t_arrive, t_arrive + plan["arrival_seconds"] + 1.0)
        arrival = asyncio.create_task(run.arrive(plan, t_arrive))
    await asyncio.sleep(plan["seconds"])
    run.stop_sending.set()
    measure_end = time.time()
    await asyncio.gather(*tasks, return_exceptions=True)
    if arrival is not None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(arrival), JOIN_TIMEOUT)
        for ws in run.arrived:
            with contextlib.suppress(Exception):
                await ws.close()
        arrival.cancel()
    for t in run.hb_tasks:
        t.cancel()
    if host is None:
        await asyncio.sleep(plan.get("drain", 10.0))
    # How many of this process's viewers got each important message (the bench adds processes up).
    received: dict[str, int] = {}
    for c in connected:
        for k in c.important_ids:
            received[k] = received.get(k, 0) + 1
    for c in connected + ([host] if host else []):
        with contextlib.suppress(Exception):
            await c.ws.close()
    for r in readers:
        r.cancel()
    total = sum(run.hist)
    pct = {}
    for p in (50, 95, 99):
        target = total * p / 100
        acc = 0
        for ms, count in enumerate(run.hist):
            acc += count
            if acc >= target and total:
                pct[f"p{p}"] = ms
                break
        else:
            pct[f"p{p}"] = None
    closed = {}
    for c in connected:
        if c.closed_code is not None:
            closed[str(c.closed_code)] = closed.get(str(c.closed_code), 0) + 1
    return {
        "connected": len(connected),
        "connect_failures": run.connect_failures,
        "connect_seconds": round(connect_seconds, 2),
        "measure_seconds": round(measure_end - measure_start, 2),
        "sent": run.sent_chat,
        "delivered": sum(c.chat_received for c in connected),
        "sampled_out_reported": sum(c.sampled_reported for c in connected),
        "latency_samples": total,
        "latency_ms": pct,
        "important_sent": sorted(run.important_sent),
        "important_received": received,
        "host_errors": run.host_errors[:20],
        "chat_received_min": min((c.chat_received for c in connected), default=0),
        "latency_hist": {str(ms): n for ms, n in enumerate(run.hist) if n},
        "fanout_spread_ms": _spread(run.spread),
        "closed_by_server": closed,
        "frames_received": sum(c.frames for c in connected),
        "arrival": {
            "arrivals": plan.get("arrivals", 0),
            "welcomed": sum(run.welcome_hist),
            "refusals": run.refusals,
            "first_tap": run.arrival_span[0],
            "last_tap": run.arrival_span[1],
            "welcome_hist": {str(ms): n for ms, n in enumerate(run.welcome_hist) if n},
            "page_hist": {str(ms): n for ms, n in enumerate(run.page_hist) if n},
            "start_lag_hist": {str(ms): n for ms, n in enumerate(run.start_lag_hist) if n},
            "chat_hist": {str(ms): n for ms, n in enumerate(run.hist_arrival) if n},
        },
        "load_cpu_seconds": round(resource.getrusage(resource.RUSAGE_SELF).ru_utime
                                  + resource.getrusage(resource.RUSAGE_SELF).ru_stime, 2),
    }


def _spread(spread: dict[str, list[float]]) -> dict[str, float | None]:
    values = sorted((last - first) * 1000 for first, last in spread.values() if last > first)
    if not values:
        return {"p50": None, "p99": None, "batches": 0}
    return {"p50": round(values[len(values) // 2], 1), "p99": round(values[int(len(values) * 0.99)], 1),
            "batches": len(values)}


if __name__ == "__main__":
    try:  # uvloop is optional: a faster event loop when it is installed
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(65536, resource.getrlimit(resource.RLIMIT_NOFILE)[1]),) * 2)
    plan = json.loads(sys.stdin.readline())
    result = asyncio.run(main(plan))
    # The result can be large (latency histogram); a file avoids any pipe-size surprises.
    with open(plan["result_path"], "w") as f:
        json.dump(result, f)
    print(json.dumps({"phase": "done"}), flush=True)
