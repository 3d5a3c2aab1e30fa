"""The dashboards benchmark at a small size: bulk generation, rebuilt rollups that reconcile, every page timed."""

from __future__ import annotations

import io

import pytest

from zhunong.bench import dashboards
from zhunong.insights.models import SalesDay
from zhunong.orders.models import OrderLine
from zhunong.payments.models import LedgerEntry


@pytest.mark.django_db(transaction=True)
def test_small_run_generates_reconciles_and_times_every_page():
    out = io.StringIO()
    result = dashboards.run({"lines": 500, "products": 6, "repeat": 1, "raw": True, "duckdb": True}, out)
    assert OrderLine.objects.filter(order__number__startswith="BENCH").count() == 500
    # One sale entry per line, a refund entry for every 50th.
    assert LedgerEntry.objects.filter(kind="sale").count() == 500
    assert LedgerEntry.objects.filter(kind="refund").count() == 10
    assert SalesDay.objects.exists()
    assert result["reconcile"]["difference"] == "0.00"
    assert set(result["pages"]) >= {"county home", "stream", "host (a year)", "product (a year)", "co-op (a year)",
                                    "region county (a year)", "income (a year)"}
    assert all(p["max_s"] > 0 for p in result["pages"].values())
    assert set(result["raw"]) == {"county home from lines (14 days)", "region from lines (a year)"}
    assert result["duckdb"]["write_parquet_s"] >= 0 and len(result["duckdb"]) == 5
    with pytest.raises(SystemExit):  # a second generation into the same database is refused
        dashboards.run({"lines": 10, "products": 2, "repeat": 1}, out)
    again = dashboards.run({"reuse": True, "repeat": 1}, out)
    assert again["lines"] == 500
