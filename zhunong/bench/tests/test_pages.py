"""`zhunong bench pages`: reading wrk's report (the run itself needs nginx and wrk; docs/benchmarks.md)."""

from __future__ import annotations

import os
import time

import pytest

from zhunong.bench.pages import parse_wrk

WRK = """Running 10s test @ http://127.0.0.1:18630/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.10ms    9.38ms 204.00ms   90.12%
    Req/Sec     2.70k   402.11     3.61k    70.00%
  Latency Distribution
     50%   11.90ms
     75%   15.02ms
     90%   20.41ms
     99%    1.04s
  53785 requests in 10.06s, 1.03GB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:   5346.81
Transfer/sec:    105.12MB
"""


def test_figures_come_from_the_report() -> None:
    figures = parse_wrk(WRK)
    assert figures == {"rps": 5346.8, "p50_ms": 11.9, "p99_ms": 1040.0, "errors": 12, "requests": 53785,
                       "error_kinds": {"read": 2, "timeout": 3, "non_2xx_3xx": 7}}


def test_microseconds_and_a_clean_run() -> None:
    clean = WRK.replace("11.90ms", "850.00us").replace("  Socket errors: connect 0, read 2, write 0, timeout 3\n", "")
    clean = clean.replace("  Non-2xx or 3xx responses: 7\n", "")
    figures = parse_wrk(clean)
    assert figures["p50_ms"] == 0.85 and figures["errors"] == 0 and figures["error_kinds"] == {}


def test_a_report_without_figures_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="Requests/sec"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def test_cpu_per_request_from_proc() -> None:
    """This process's session is found in /proc and its CPU time only grows; per request is a division."""
    from zhunong.bench.pages import _cpu_ms, _proc_stats, session_cpu_s

    session = os.getsid(0)
    before = session_cpu_s(_proc_stats(), session)
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    after = session_cpu_s(_proc_stats(), session)
    assert after >= before + 0.04
    assert _cpu_ms(1.0, 1.5, 100) == 5.0
    assert _cpu_ms(None, 1.5, 100) is None and _cpu_ms(1.0, 1.5, 0) is None


def test_postgres_cpu_counts_the_postmaster_and_its_backends() -> None:
    from zhunong.bench.pages import postgres_cpu_s

    tick = os.sysconf("SC_CLK_TCK")
    stats = {1: (1, 0, 10, "systemd"), 100: (100, 1, 50, "postgres"), 101: (100, 100, 7, "postgres"),
             200: (200, 1, 3, "python")}
    assert postgres_cpu_s(stats) == (50 + 7) / tick
    assert postgres_cpu_s({1: (1, 0, 10, "systemd")}) is None
