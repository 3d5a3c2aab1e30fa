"""Demand forecasts of many products at once: what `zhunong insights forecast` does per county, at scale.

Synthetic daily series of 180 days stand in for products (so the run needs no database): 60% regular
sellers (weekly season, slow trend, Poisson noise), 40% intermittent (a sale on 5-40% of days). Every
series goes through insights.forecast_core exactly as the stored forecasts do: model choice, the 14-day
backtest against seasonal naive, the final fit and its interval. The target: 1,000 series in under 60 s.

    zhunong bench forecast [--series 1000] [--workers 2] [--json]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from typing import Any

import numpy as np

from zhunong.insights import forecast_core
from zhunong.insights.progress import ProgressBar

DAYS = 180


def synthetic_series(count: int, *, seed: int = 1) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(seed)
    out: dict[int, np.ndarray] = {}
    t = np.arange(DAYS)
    for key in range(count):
        if rng.random() < 0.6:
            level = rng.uniform(2, 40)
            weekly = 1 + rng.uniform(0, 0.5) * np.sin(2 * np.pi * (t + rng.integers(7)) / 7)
            trend = 1 + rng.uniform(-0.3, 0.3) * t / DAYS
            out[key] = rng.poisson(np.clip(level * weekly * trend, 0.1, None)).astype(float)
        else:
            share = rng.uniform(0.05, 0.4)
            out[key] = ((rng.random(DAYS) < share) * rng.poisson(rng.uniform(1, 6), DAYS)).astype(float)
    return out


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the worker processes), user and system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--series", type=int, default=1000, help="product series to forecast")
    parser.add_argument("--horizon", type=int, default=28, help="days forecast")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes")
    parser.add_argument("--seed", type=int, default=1)


def run(options: dict[str, Any], stdout: Any = sys.stdout) -> dict[str, Any]:  # noqa: ANN401
    series = synthetic_series(options.get("series", 1000), seed=options.get("seed", 1))
    started = time.perf_counter()
    cpu_before = _cpu()
    results = forecast_core.forecast_many(series, h=options.get("horizon", 28), workers=options.get("workers", 2),
                                          progress=ProgressBar("forecasting"))
    seconds = time.perf_counter() - started
    cpu = _cpu() - cpu_before
    summary = forecast_core.summarise_backtests(list(results.values()))
    return {"series": len(series), "days": DAYS, "horizon": options.get("horizon", 28),
            "workers": options.get("workers", 2), "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "series_per_second": round(len(series) / seconds, 1), "target_seconds": 60,
            "met": seconds < 60, "backtest": summary}
