"""Demand forecasts: model choice, backtest against seasonal naive, intervals, storage, jobs and pages."""

from __future__ import annotations

import datetime as dt
import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from zhunong.bench import forecast as bench
from zhunong.insights import forecast_core, forecasting, jobs
from zhunong.insights.models import DemandForecast, Job
from zhunong.testing_fixtures import _clean_redis_inventory, _huey_in_memory  # noqa: F401 - autouse, as in orders

from .centre_helpers import import_sales


def weekly(days: int = 120, level: float = 10, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    return rng.poisson(level * (1 + 0.5 * np.sin(2 * np.pi * t / 7))).astype(float)


def test_regular_series_get_ets_and_beat_the_baseline() -> None:
    y = weekly()
    result = forecast_core.forecast_one(1, y, 28)
    assert result.model.startswith("ETS(")
    assert len(result.mean) == 28
    assert all(lo <= m <= hi for lo, m, hi in zip(result.lo, result.mean, result.hi, strict=True))
    assert min(result.lo) >= 0
    bt = result.backtest
    assert bt["days"] == forecast_core.BACKTEST_DAYS and bt["mae"] < bt["baseline_mae"]
    assert 5 < np.mean(result.mean) < 15  # near the series' level of 10 a day


def test_intermittent_series_get_croston_or_tsb() -> None:
    rng = np.random.default_rng(3)
    y = ((rng.random(120) < 0.15) * rng.integers(1, 4, 120)).astype(float)
    result = forecast_core.forecast_one(2, y, 14)
    assert result.model in ("CrostonOptimized", "TSB")
    assert result.backtest["intermittent"] is True
    assert all(0 <= lo <= m <= hi for lo, m, hi in zip(result.lo, result.mean, result.hi, strict=True))


def test_short_or_empty_history_falls_back_to_the_mean() -> None:
    assert forecast_core.forecast_one(3, np.array([2.0, 4.0, 3.0]), 7).model == "Mean"
    empty = forecast_core.forecast_one(4, np.zeros(60), 7)
    assert empty.model == "Mean" and empty.mean == [0.0] * 7 and empty.backtest["reason"] == "no sales"


def test_seasonal_naive_repeats_the_last_week() -> None:
    y = np.arange(14, dtype=float)
    assert list(forecast_core.seasonal_naive(y, 9)) == [7, 8, 9, 10, 11, 12, 13, 7, 8]


def test_many_series_in_processes_equal_one_process() -> None:
    series = bench.synthetic_series(6, seed=5)
    seen = []
    one = forecast_core.forecast_many(series, h=7, workers=1)
    two = forecast_core.forecast_many(series, h=7, workers=2, chunk=2, progress=lambda d, t: seen.append((d, t)))
    assert {k: v.mean for k, v in one.items()} == {k: v.mean for k, v in two.items()}
    assert seen[-1] == (6, 6)
    summary = forecast_core.summarise_backtests(list(one.values()))
    assert summary["series"] == 6 and summary["backtested"] == 6


@pytest.mark.django_db
def test_forecasts_are_stored_per_product_from_imported_and_platform_orders(world) -> None:  # noqa: ANN001
    product = world.listed_product(name="洋河蓝莓")
    quiet = world.listed_product(name="洋河蓝莓礼盒")
    import_sales(world.county, product, [int(v) for v in weekly(90)])
    history = forecasting.demand_history([product.pk, quiet.pk], end=timezone.localdate(), days=90)
    assert history[product.pk].sum() == weekly(90).sum() and history[quiet.pk].sum() == 0
    summary = forecasting.run_forecasts(county=world.county, horizon=14, workers=1)
    assert summary["series"] == 2
    stored = DemandForecast.objects.get(product=product)
    assert stored.model_name.startswith("ETS(") and len(stored.points) == 14
    assert stored.points[0]["date"] == timezone.localdate().isoformat()
    assert stored.backtest["baseline_mae"] > 0
    assert DemandForecast.objects.get(product=quiet).model_name == "Mean"
    # Past the horizon, the last week's mean per day continues.
    last_week = sum(p["mean"] for p in stored.points[-7:]) / 7
    start = timezone.localdate() + dt.timedelta(days=14)
    assert forecasting.expected_demand(stored, start=start, days=7) == pytest.approx(7 * last_week)


@pytest.mark.django_db
def test_a_dry_run_stores_nothing(world) -> None:  # noqa: ANN001
    world.listed_product()
    out = io.StringIO()
    call_command("forecast", "--county", world.county.code, "--workers", "1", "--dry-run", stdout=out, stderr=io.StringIO())
    assert json.loads(out.getvalue())["dry_run"] is True
    assert not DemandForecast.objects.exists()
    call_command("forecast", "--county", world.county.code, "--workers", "1", stdout=out, stderr=io.StringIO())
    assert DemandForecast.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_job_started_from_the_page_runs_in_huey_with_progress(world) -> None:  # noqa: ANN001
    product = world.listed_product()
    import_sales(world.county, product, [int(v) for v in weekly(60)])
    client = Client()
    client.force_login(world.operator)
    page = client.post(reverse("insights:start_job", args=["forecast"]) + f"?region={world.county.code}")
    assert page.status_code == 302
    job = Job.objects.get()
    assert (job.status, job.done, job.total, job.percent) == (Job.Status.DONE, 1, 1, 100)  # Huey runs inline in tests
    assert job.result["series"] == 1 and DemandForecast.objects.filter(product=product).exists()
    panel = client.get(reverse("insights:job", args=[job.pk]))
    assert panel.status_code == 200 and 'value="100"' in panel.content.decode()
    assert "hx-trigger" not in panel.content.decode()  # a finished job is not polled


@pytest.mark.django_db
def test_a_running_job_is_polled_and_not_started_twice(world) -> None:  # noqa: ANN001
    job = Job.objects.create(kind=Job.Kind.FORECAST, region=world.county, status=Job.Status.RUNNING, done=3, total=10)
    assert jobs.start(kind=Job.Kind.FORECAST, region=world.county) == job
    client = Client()
    client.force_login(world.operator)
    body = client.get(reverse("insights:job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in body and 'value="30"' in body


@pytest.mark.django_db
def test_a_failed_job_says_why(world, monkeypatch) -> None:  # noqa: ANN001
    def boom(**kwargs):  # noqa: ANN003, ANN202
        raise RuntimeError("no data")

    monkeypatch.setattr(forecasting, "run_forecasts", boom)
    job = Job.objects.create(kind=Job.Kind.FORECAST, region=world.county)
    assert jobs.run(job.pk).status == Job.Status.FAILED
    job.refresh_from_db()
    assert job.message == "no data"


@pytest.mark.django_db
def test_the_product_forecast_page(world) -> None:  # noqa: ANN001
    product = world.listed_product()
    import_sales(world.county, product, [int(v) for v in weekly(60)])
    forecasting.run_forecasts(county=world.county, workers=1)
    client = Client()
    client.force_login(world.operator)
    body = client.get(reverse("insights:forecast", args=[product.pk])).content.decode()
    assert 'data-forecast-chart="forecast-chart"' in body and 'id="forecast-chart"' in body  # json_script data
    assert "vendor/echarts/echarts.min.js" in body and "insights/forecast.js" in body
    assert "<script>" not in body.replace('<script id="forecast-chart" type="application/json">', "")
    assert "区间下限" in body  # the table fallback
    listing = client.get(reverse("insights:forecasts")).content.decode()
    assert product.name in listing and "季节朴素MAE" in listing
    export = client.get(reverse("insights:forecasts") + "?export=csv&table=forecasts")
    assert export.status_code == 200 and product.name in export.content.decode("utf-8-sig")
    outsider = Client()
    from zhunong.testing import build_world

    outsider.force_login(build_world().operator)
    assert outsider.get(reverse("insights:forecast", args=[product.pk])).status_code == 403


def test_the_benchmark_runs_small() -> None:
    result = bench.run({"series": 8, "horizon": 7, "workers": 1, "seed": 2}, io.StringIO())
    assert result["series"] == 8 and result["backtest"]["backtested"] == 8 and result["seconds"] > 0


def test_components_that_cannot_fit_the_whole_history_give_way() -> None:
    # A multiplicative error fits a history without zero days, not one with them: a new search is made.
    y = weekly(60, level=20)
    result = forecast_core._final_fit("AutoETS", np.concatenate([y, [0.0, 0.0]]), 7, 80, "MNA")
    assert result.get("spec") and not result["spec"].startswith("M")
    assert forecast_core._final_fit("SeasonalNaive", y, 7, 80, "")["mean"].tolist() == y[-7:].tolist()
