"""`zhunong bench pages`: the storefront's busiest pages under a crowd, side by side in one invocation.

It builds its own county, products and live room (through the real services, in DATABASE_URL), starts the
app server (uvicorn, `--processes` workers; or uses `--app-url`), the HTTP front (nginx with the generated
configuration, core/front.py) in front of it, and a plain nginx serving each page's very bytes as a static
file. Then for each page it runs `wrk` (Debian's) for `--duration` seconds at `--connections`: against the
static copy, through the front, and directly against the app server (uncached). One JSON object:
`pages` lists, per path, the front's figures (`rps`, `p50_ms`, `p99_ms`, `errors`), the static copy's
`static_rps`, `ratio` = rps / static_rps, and the direct figures (`direct_rps`, `direct_p50_ms`,
`direct_p99_ms`, `direct_errors`). Goal (issue 16): ratio >= 0.3, p99 <= 50 ms, 0 errors through the front.

Requests/s depend on what else the machine runs; CPU per request much less so. For each run the command also
reads, from /proc, the CPU time (user + system) of the app server's processes (when it started them) and of
the local PostgreSQL server (the postmaster, the backends it has reaped and those still running: other
clients' queries included) and divides by the requests served: `direct_app_cpu_ms`, `direct_db_cpu_ms`
(null when not measurable).
"""

from __future__ import annotations

import dataclasses
import http.client
import itertools
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from django.conf import settings
from django.core.management import CommandError, call_command

from zhunong.bench import flash_sale_harness as harness
from zhunong.core import front

GOAL_RATIO = 0.3
GOAL_P99_MS = 50.0


def add_arguments(parser) -> None:  # noqa: ANN001
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per page and target (default 10)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--timeout", type=int, default=10,
                        help="seconds before wrk counts a request as an error (default 10; wrk's own is 2)")
    parser.add_argument("--processes", type=int, default=2, help="app server worker processes (default 2)")
    parser.add_argument("--front-workers", default="auto", help="nginx worker processes, front and static (default auto)")
    parser.add_argument("--app-url", default="",
                        help="use this running app server (http://host:port, same DATABASE_URL) instead of starting one")
    parser.add_argument("--port-base", type=int, default=18610,
                        help="first of the loopback ports tried for the servers it starts (default 18610)")
    parser.add_argument("--products", type=int, default=12, help="listed products in the room and on the home page")
    parser.add_argument("--only", action="append", default=[], metavar="PATH",
                        help="measure only this path (repeatable; default: home, product, room, search, API)")


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text).groups()
    return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit], 3)


def parse_wrk(output: str) -> dict:
    """Requests/s, p50/p99 latency and errors (socket errors + non-2xx/3xx answers) from `wrk --latency`."""
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    if rps is None:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{output}")
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    kinds = {"connect": 0, "read": 0, "write": 0, "timeout": 0, "non_2xx_3xx": 0}
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        kinds.update(zip(("connect", "read", "write", "timeout"), map(int, socket_errors.groups()), strict=True))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        kinds["non_2xx_3xx"] = int(non_2xx.group(1))
    errors = sum(kinds.values())
    requests = re.search(r"(\d+) requests in", output)
    return {"rps": round(float(rps.group(1)), 1), "p50_ms": _ms(p50.group(1)) if p50 else None,
            "p99_ms": _ms(p99.group(1)) if p99 else None, "errors": errors,
            "error_kinds": {k: v for k, v in kinds.items() if v}, "requests": int(requests.group(1)) if requests else None}


def run_wrk(url: str, *, connections: int, duration: int, threads: int, timeout: int) -> dict:
    proc = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout}s",
                           "--latency", url], capture_output=True, text=True, timeout=duration + timeout + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {proc.stderr or proc.stdout}")
    return parse_wrk(proc.stdout)


def _get(base: str, path: str, *, headers: dict | None = None) -> tuple[int, dict, bytes]:
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def build_data(products: int) -> dict:
    """A county with `products` listed products, all on the shelf of one live room with one pinned."""
    from zhunong import testing

    # testing.py numbers usernames and codes from 1 per process; a benchmark database outlives processes.
    testing._seq = itertools.count(time.time_ns() // 1000 % 10**13)
    testing._id_seq = itertools.count(secrets.randbelow(7_000_000))  # host ID numbers: 7,300 days x 1,000
    world = testing.build_world(prefix=f"bp{secrets.token_hex(4)}")
    items = [world.listed_product(name=f"洋河蓝莓{i}号") for i in range(max(1, products))]
    room = world.live_room(items, pin=items[0])
    return {"product_id": items[0].pk, "stream_id": room.stream.pk}


def default_paths(data: dict) -> list[str]:
    return ["/", f"/p/{data['product_id']}/", f"/live/{data['stream_id']}/", "/search/?q=%E8%93%9D%E8%8E%93",
            "/api/v1/products"]


def _static_config(directory: Path, port: int, workers: str) -> str:
    return f"""daemon off;
worker_processes {workers};
{"user root;" if os.geteuid() == 0 else ""}
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {directory / "temp"};
    proxy_temp_path {directory / "temp"};
    fastcgi_temp_path {directory / "temp"};
    uwsgi_temp_path {directory / "temp"};
    scgi_temp_path {directory / "temp"};
    types {{ text/html html; application/json json; }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {directory / "files"};
    }}
}}
"""


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited with {proc.returncode}")
        try:
            _get(f"http://127.0.0.1:{port}", "/nothing-here")
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def _start_app(port: int, processes: int, log_path: Path) -> subprocess.Popen:
    """uvicorn as docs/deploy.md runs it; waits up to 5 minutes (a loaded machine starts slowly)."""
    env = dict(os.environ, LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="zhunong.settings")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "zhunong.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(processes), "--lifespan", "off", "--no-access-log", "--log-level", "warning",
             "--ws-per-message-deflate", "false"],
            env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        harness.wait_ready(port, proc, timeout=300)
    except RuntimeError as exc:
        harness.stop_server(proc)
        raise CommandError(f"the app server did not start: {exc}; {log_path.read_text()[-2000:]}")
    return proc


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is not None:
        harness.stop_server(proc)


def _proc_stats() -> dict[int, tuple[int, int, int, str]]:
    """pid -> (session id, parent pid, CPU ticks of itself and its reaped children, command name), from /proc."""
    stats = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        # Fields 4 (ppid), 6 (session), 14-17 (utime, stime, cutime, cstime) of proc(5), counted from `state` (3).
        ticks = sum(int(f) for f in fields[11:15])
        stats[int(entry)] = (int(fields[3]), int(fields[1]), ticks, name)
    return stats


def session_cpu_s(stats: dict, session: int) -> float:
    """CPU seconds of every process in a session (the app server started with start_new_session)."""
    return sum(ticks for sid, _ppid, ticks, _name in stats.values() if sid == session) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_s(stats: dict) -> float | None:
    """CPU seconds of the local PostgreSQL servers: each postmaster with its reaped backends, and the live ones."""
    masters = {pid for pid, (_sid, ppid, _ticks, name) in stats.items()
               if name in ("postgres", "postmaster") and stats.get(ppid, (0, 0, 0, ""))[3] not in ("postgres", "postmaster")}
    if not masters:
        return None
    ticks = sum(stats[pid][2] for pid in masters)
    ticks += sum(t for _sid, ppid, t, _name in stats.values() if ppid in masters)
    return ticks / os.sysconf("SC_CLK_TCK")


def _cpu_ms(before: float | None, after: float | None, requests: int | None) -> float | None:
    if before is None or after is None or not requests:
        return None
    return round((after - before) / requests * 1000, 2)


def run(options: dict, stdout) -> dict:  # noqa: ANN001, C901, PLR0915
    if shutil.which("wrk") is None:
        raise CommandError("wrk is not installed (Debian: apt-get install wrk)")
    if not front.nginx_installed():
        raise CommandError("nginx is not installed (Debian: apt-get install nginx)")
    for name, low, high in (("connections", 1, 10000), ("duration", 1, 600), ("processes", 1, 32), ("threads", 1, 64),
                            ("timeout", 1, 120)):
        if not low <= options[name] <= high:
            raise CommandError(f"--{name} must be {low}-{high}")
    if options["processes"] > 1 and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and not options["app_url"]:
        stdout.write("note: several server processes on SQLite; the issue's figures are on PostgreSQL (DATABASE_URL)")
    load_before = _loadavg()
    call_command("migrate", verbosity=0, interactive=False)
    data = build_data(options["products"])
    paths = options["only"] or default_paths(data)
    base_port = options["port_base"]
    work = Path(tempfile.mkdtemp(prefix="zhunong-bench-pages-"))
    app = front_proc = static_proc = None
    try:
        if options["app_url"]:
            app_url = options["app_url"].rstrip("/")
        else:
            app_port = harness.free_port(base_port, base_port + 20)
            stdout.write(f"app server: {options['processes']} uvicorn process(es) on :{app_port}")
            app = _start_app(app_port, options["processes"], work / "app.log")
            app_url = f"http://127.0.0.1:{app_port}"
        upstream = urllib.parse.urlsplit(app_url)
        front_port = harness.free_port(base_port + 20, base_port + 40)
        fs = dataclasses.replace(front.front_settings(), listen="127.0.0.1", port=front_port,
                                 upstreams=(f"{upstream.hostname}:{upstream.port}",), directory=work / "front",
                                 workers=options["front_workers"], tls_certificate="", tls_key="")
        front_proc = front.start(fs, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _wait_port(front_port, front_proc)
        front_url = f"http://127.0.0.1:{front_port}"

        # The static copy: each page's bytes as the app answers them, served by a plain nginx.
        static_dir = work / "static"
        (static_dir / "files").mkdir(parents=True)
        (static_dir / "temp").mkdir()
        static_names = {}
        for i, path in enumerate(paths):
            status, headers, body = _get(app_url, path)
            if status != 200:
                raise CommandError(f"{path}: the app answers {status}")
            suffix = "json" if headers.get("content-type", "").startswith("application/json") else "html"
            static_names[path] = f"/page{i}.{suffix}"
            (static_dir / "files" / f"page{i}.{suffix}").write_bytes(body)
        static_port = harness.free_port(base_port + 40, base_port + 60)
        conf = static_dir / "nginx.conf"
        conf.write_text(_static_config(static_dir, static_port, options["front_workers"]))
        static_proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(static_dir)], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, start_new_session=True)
        _wait_port(static_port, static_proc)
        static_url = f"http://127.0.0.1:{static_port}"

        load = {"connections": options["connections"], "duration": options["duration"], "threads": options["threads"],
            "timeout": options["timeout"]}
        results = []
        for path in paths:
            status, headers, _body = _get(front_url, path)
            again = _get(front_url, path)[1]
            if status != 200:
                raise CommandError(f"{path}: the front answers {status}")
            cached = headers.get("x-cache") in ("HIT", "MISS", "EXPIRED", "UPDATING", "STALE")
            stdout.write(f"{path}: static, front, direct ({options['duration']} s each)")
            static = run_wrk(static_url + static_names[path], **load)
            through = run_wrk(front_url + path, **load)
            before = _proc_stats()
            direct = run_wrk(app_url + path, **load)
            after = _proc_stats()
            app_cpu = (_cpu_ms(session_cpu_s(before, app.pid), session_cpu_s(after, app.pid), direct["requests"])
                       if app is not None else None)
            db_cpu = _cpu_ms(postgres_cpu_s(before), postgres_cpu_s(after), direct["requests"])
            ratio = round(through["rps"] / static["rps"], 3) if static["rps"] else None
            results.append({
                "path": path, "rps": through["rps"], "p50_ms": through["p50_ms"], "p99_ms": through["p99_ms"],
                "errors": through["errors"], "error_kinds": through["error_kinds"], "static_rps": static["rps"], "ratio": ratio,
                "direct_rps": direct["rps"], "direct_p50_ms": direct["p50_ms"], "direct_p99_ms": direct["p99_ms"],
                "direct_errors": direct["errors"], "direct_error_kinds": direct["error_kinds"],
                "direct_app_cpu_ms": app_cpu, "direct_db_cpu_ms": db_cpu,
                "direct_ratio": round(direct["rps"] / static["rps"], 4) if static["rps"] else None,
                "front_vs_direct": round(through["rps"] / direct["rps"], 1) if direct["rps"] else None,
                "static_p99_ms": static["p99_ms"], "cached_by_front": cached and again.get("x-cache") == "HIT",
                "goal_met": bool(ratio is not None and ratio >= GOAL_RATIO and through["p99_ms"] is not None
                                 and through["p99_ms"] <= GOAL_P99_MS and through["errors"] == 0),
            })
    finally:
        _stop(static_proc)
        _stop(front_proc)
        _stop(app)
        shutil.rmtree(work, ignore_errors=True)
    return {
        "pages": results,
        "goal": {"ratio": GOAL_RATIO, "p99_ms": GOAL_P99_MS, "errors": 0,
                 "met": all(page["goal_met"] for page in results)},
        "connections": options["connections"],
        "duration_s": options["duration"],
        "wrk_timeout_s": options["timeout"],
        "processes": None if options["app_url"] else options["processes"],
        # The app server's connection pool per process (settings.DB_POOL_SIZE; 0: a connection per request).
        "db_pool_size": settings.DATABASES["default"].get("OPTIONS", {}).get("pool", {}).get("max_size", 0),
        "front_workers": options["front_workers"],
        "load_generator": "wrk " + _wrk_version(),
        "nginx": _nginx_version(),
        "load_before": load_before,
        "load_after": _loadavg(),
        "machine": {"cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
                    "python": platform.python_version(),
                    "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                    "redis": bool(settings.REDIS_URL)},
    }


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _wrk_version() -> str:
    proc = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    match = re.search(r"wrk (\S+)", proc.stdout + proc.stderr)
    return match.group(1) if match else "?"


def _nginx_version() -> str:
    proc = subprocess.run(["nginx", "-v"], capture_output=True, text=True)
    match = re.search(r"nginx/(\S+)", proc.stdout + proc.stderr)
    return match.group(1) if match else "?"
