"""`zhunong bench flash-sale`: purchase attempts against one flash sale, end to end over HTTP.

It starts N uvicorn processes itself (against DATABASE_URL / REDIS_URL), creates its own product, live
room, flash sale and buyers, and drives `POST /api/v1/orders` from a separate load process (asyncio,
raw HTTP/1.1 keep-alive). Then, in the same invocation, it repeats the run on the naive baseline
backend (SELECT ... FOR UPDATE per attempt) with the same stock, buyers and processes, so the ratio is
measured side by side. Afterwards it counts what was sold from the database: `oversold` must be 0.
"""

from __future__ import annotations

import os
import platform
import time

from django.conf import settings
from django.core.management import CommandError, call_command

from zhunong.bench import flash_sale_harness as loadtest

PORTS = (18510, 18560)


def add_arguments(parser) -> None:  # noqa: ANN001
    parser.add_argument("--backend", choices=["db", "redis"], default=None,
                        help="inventory backend under test (default: redis with REDIS_URL, else db)")
    parser.add_argument("--stock", type=int, default=1000, help="units in the flash sale (default 1000)")
    parser.add_argument("--buyers", type=int, default=5000, help="distinct buyers (default 5000)")
    parser.add_argument("--attempts-per-buyer", type=int, default=2,
                        help="purchase attempts per buyer, one unit each (default 2)")
    parser.add_argument("--limit", type=int, default=1, help="per-buyer limit of the sale (default 1)")
    parser.add_argument("--processes", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent client connections (default 64)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive baseline run")
    parser.add_argument("--cold-tokens", action="store_true",
                        help="buyers' API tokens not yet in the token cache (by default they are, as after "
                             "logging in before the sale), so the fast path looks each up on first use")
    parser.add_argument("--django-path", action="store_true",
                        help="also run the backend under test with the purchase fast path off "
                             "(ZHUNONG_ORDERS_FAST_PATH=0), every attempt through Django")
    parser.add_argument("--compare-redis-clients", action="store_true",
                        help="also run the fast path with redis-py's asyncio client "
                             "(ZHUNONG_FASTPATH_REDIS_CLIENT=redis-py) instead of core/resp.py, to decide "
                             "whether the hand-written client still earns its place (docs/decisions/0004)")
    parser.add_argument("--db-pool", type=int, default=8,
                        help="DB_POOL_SIZE of each server process on PostgreSQL (default 8; 0 = a connection "
                             "per request)")
    parser.add_argument("--context-cache", type=float, default=1.0,
                        help="seconds the servers may reuse product/sale rows when pricing (default 1; 0 = off)")


def _validate(options: dict) -> str:
    backend = options["backend"] or ("redis" if settings.REDIS_URL else "db")
    if backend == "redis" and not settings.REDIS_URL:
        raise CommandError("--backend redis needs REDIS_URL")
    if options["processes"] > 1 and not settings.REDIS_URL:
        raise CommandError("--processes > 1 needs REDIS_URL (processes share rooms and cache through Redis)")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and options["processes"] > 1:
        raise CommandError("several processes need PostgreSQL (DATABASE_URL)")
    for name, low, high in (("stock", 1, 1_000_000), ("buyers", 1, 1_000_000), ("attempts_per_buyer", 1, 100),
                            ("limit", 1, 99), ("processes", 1, 32), ("connections", 1, 2000)):
        if not low <= options[name] <= high:
            raise CommandError(f"--{name.replace('_', '-')} must be {low}-{high}")
    return backend


def _one_run(backend: str, options: dict, stdout, port_range: tuple[int, int], *,  # noqa: ANN001
             fast_path: bool = True, redis_client: str = "resp") -> dict:
    setup = loadtest.setup_sale(stock=options["stock"], buyers=options["buyers"], limit=options["limit"],
                                label=f"b{backend}", cache_tokens=not options["cold_tokens"])
    attempts = loadtest.attempts_for(setup, per_buyer=options["attempts_per_buyer"], key_prefix=f"{backend}{time.time_ns()}")
    port = loadtest.free_port(*port_range)
    # The fast path serves only the Redis backend (orders/fastpath.py); db and naive always go through Django.
    path = "fast" if fast_path and backend == "redis" else "django"
    stdout.write(f"[{backend}, {path} path] {options['processes']} server process(es) on :{port}, "
                 f"{len(attempts)} attempts for {setup.stock} units")
    # Both runs price orders from a 1-second per-process cache of the product and sale rows (see
    # ORDERS_CONTEXT_CACHE_SECONDS): the comparison is about taking stock, not re-reading the catalogue.
    server = loadtest.start_server(port=port, processes=options["processes"], backend=backend,
                                   extra_env={"ZHUNONG_ORDERS_CACHE_SECONDS": str(options["context_cache"]),
                                              "DB_POOL_SIZE": str(options["db_pool"]),
                                              "ZHUNONG_ORDERS_FAST_PATH": "1" if fast_path else "0",
                                              "ZHUNONG_FASTPATH_REDIS_CLIENT": redis_client})
    try:
        loadtest.warm_up(port)
        load = loadtest.run_load(port=port, attempts=attempts, connections=options["connections"], server=server)
    finally:
        loadtest.stop_server(server)
    books = loadtest.accounting(setup, backend)
    codes = load["codes"]
    errors = load["transport_errors"] + sum(v for k, v in load["statuses"].items() if k not in ("201", "409"))
    return {
        "backend": backend,
        "path": path,
        "attempts": load["attempts"],
        "attempts_per_s": load["attempts_per_s"],
        "latency_ms": load["latency_ms"],
        "orders": load["statuses"].get("201", 0),
        "sold_out": codes.get("sold_out", 0),
        "limit_exceeded": codes.get("limit_exceeded", 0),
        "oversold": books["oversold"],
        "errors": errors,
        "elapsed_s": load["elapsed_s"],
        "cpu_ms_per_attempt": load.get("cpu_ms_per_attempt"),
        "stock": setup.stock,
        "sold": books["sold"],
        "remaining": books["remaining"],
        "consistent": books["consistent"] and books["orders"] == load["statuses"].get("201", 0),
        "max_per_buyer": books["max_per_buyer"],
        "statuses": load["statuses"],
    }


def run(options: dict, stdout) -> dict:  # noqa: ANN001
    backend = _validate(options)
    call_command("migrate", verbosity=0, interactive=False)
    summary = ("backend", "path", "attempts", "attempts_per_s", "latency_ms", "orders", "sold_out",
               "limit_exceeded", "oversold", "errors", "consistent", "max_per_buyer", "cpu_ms_per_attempt")
    result = _one_run(backend, options, stdout, (PORTS[0], PORTS[0] + 20))
    if not options["no_baseline"]:
        baseline = _one_run("naive", options, stdout, (PORTS[1], PORTS[1] + 20))
        result["baseline"] = {k: baseline[k] for k in summary}
        if baseline["attempts_per_s"]:
            result["speedup_vs_baseline"] = round(result["attempts_per_s"] / baseline["attempts_per_s"], 2)
    if options["django_path"] and result["path"] == "fast":
        django = _one_run(backend, options, stdout, (PORTS[0] + 20, PORTS[0] + 30), fast_path=False)
        result["django_path"] = {k: django[k] for k in summary}
        if django["attempts_per_s"]:
            result["speedup_vs_django_path"] = round(result["attempts_per_s"] / django["attempts_per_s"], 2)
    if options["compare_redis_clients"] and result["path"] == "fast":
        redis_py = _one_run(backend, options, stdout, (PORTS[0] + 30, PORTS[0] + 40), redis_client="redis-py")
        result["redis_py_client"] = {k: redis_py[k] for k in summary}
        if redis_py["attempts_per_s"]:
            result["resp_vs_redis_py_attempts"] = round(result["attempts_per_s"] / redis_py["attempts_per_s"], 2)
        resp_cpu, redis_py_cpu = (run.get("cpu_ms_per_attempt") or {} for run in (result, redis_py))
        if resp_cpu.get("servers") and redis_py_cpu.get("servers"):  # the servers' CPU: the clients differ only there
            result["redis_py_vs_resp_server_cpu"] = round(redis_py_cpu["servers"] / resp_cpu["servers"], 2)
    result["processes"] = options["processes"]
    result["context_cache_s"] = options["context_cache"]
    result["db_pool"] = options["db_pool"]
    result["connections"] = options["connections"]
    result["machine"] = {"cpus": _cpus(), "python": platform.python_version(),
                         "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                         "redis": bool(settings.REDIS_URL)}
    return result


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 0)
