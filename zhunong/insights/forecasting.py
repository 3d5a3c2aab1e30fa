"""Daily demand per product: the history (platform orders and imported ones), forecasts stored per product.

Demand is units ordered per day (the order's local date): every platform order line whose order was paid
at some point (not reserved, not cancelled unpaid) — refunded orders count, the demand was there — plus
the lines imported from other platforms (imports.py). forecast_core.py chooses the model and backtests it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from zhunong.catalog.models import Product
from zhunong.orders.models import OrderLine, OrderStatus
from zhunong.producers.models import Region

from . import forecast_core
from .models import DemandForecast, ImportedOrderLine

HORIZON = 28
HISTORY_DAYS = 180
LEVEL = 80
DEMAND_STATUSES = [OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED,
                   OrderStatus.REFUND_REQUESTED, OrderStatus.REFUNDED]


def today() -> date:
    return timezone.localdate()


def products_of(county: Region | None):  # noqa: ANN201
    qs = Product.objects.all()
    if county is not None:
        qs = qs.filter(origin__path__startswith=county.path)
    return qs.order_by("pk")


def demand_history(product_ids: list[int], *, end: date, days: int = HISTORY_DAYS) -> dict[int, np.ndarray]:
    """Units ordered per day for each product over the `days` days ending the day before `end`."""
    start = end - timedelta(days=days)
    series = {pid: np.zeros(days) for pid in product_ids}
    tz = timezone.get_current_timezone()
    platform = (OrderLine.objects.filter(product_id__in=product_ids, order__status__in=DEMAND_STATUSES,
                                         order__created_at__date__gte=start, order__created_at__date__lt=end)
                .annotate(day=TruncDate("order__created_at", tzinfo=tz)).values("product_id", "day")
                .annotate(units=Sum("quantity")))
    imported = (ImportedOrderLine.objects.filter(product_id__in=product_ids, ordered_at__date__gte=start,
                                                 ordered_at__date__lt=end)
                .annotate(day=TruncDate("ordered_at", tzinfo=tz)).values("product_id", "day")
                .annotate(units=Sum("quantity")))
    for row in [*platform, *imported]:
        index = (row["day"] - start).days
        if 0 <= index < days:
            series[row["product_id"]][index] += row["units"]
    return series


def _trim_leading_zeros(y: np.ndarray) -> np.ndarray:
    """A product listed a month ago has no demand before that: its history starts at its first sale."""
    nonzero = np.flatnonzero(y)
    return y[nonzero[0]:] if len(nonzero) else y[-forecast_core.MIN_HISTORY:]


def run_forecasts(*, county: Region | None = None, horizon: int = HORIZON, workers: int | None = None,
                  progress: Callable[[int, int], None] | None = None, end: date | None = None,
                  store: bool = True) -> dict:
    """Forecast every product (of one county, or all) and store each forecast; returns the backtest summary.

    With `store=False` nothing is written (the command's --dry-run)."""
    end = end or today()
    ids = list(products_of(county).values_list("pk", flat=True))
    history = demand_history(ids, end=end)
    series = {pid: _trim_leading_zeros(y) for pid, y in history.items()}
    results = forecast_core.forecast_many(series, h=horizon, level=LEVEL, workers=workers, progress=progress)
    with transaction.atomic():
        for pid, result in results.items() if store else ():
            points = [{"date": (end + timedelta(days=i)).isoformat(), "mean": result.mean[i], "lo": result.lo[i],
                       "hi": result.hi[i]} for i in range(horizon)]
            DemandForecast.objects.update_or_create(product_id=pid, defaults={
                "model_name": result.model, "start": end, "points": points, "level": result.level,
                "history_days": len(series[pid]), "mean_daily": float(np.mean(series[pid])) if len(series[pid]) else 0.0,
                "backtest": result.backtest})
    summary = forecast_core.summarise_backtests(list(results.values()))
    summary["end"] = end.isoformat()
    return summary


# --- reads ---------------------------------------------------------------------------------------


@dataclass
class ForecastView:
    forecast: DemandForecast
    history: list[dict]  # [{"date", "units"}] the last weeks, for the chart

    @property
    def total(self) -> float:
        return round(sum(p["mean"] for p in self.forecast.points), 1)


def forecast_of(product: Product, *, history_days: int = 42) -> ForecastView | None:
    forecast = DemandForecast.objects.filter(product=product).first()
    if forecast is None:
        return None
    end = forecast.start
    y = demand_history([product.pk], end=end, days=history_days)[product.pk]
    history = [{"date": (end - timedelta(days=history_days - i)).isoformat(), "units": float(v)} for i, v in enumerate(y)]
    return ForecastView(forecast=forecast, history=history)


def expected_demand(forecast: DemandForecast | None, *, start: date, days: int) -> float:
    """Units expected from `start` over `days` days; beyond the horizon, the last week's mean per day."""
    if forecast is None or days <= 0:
        return 0.0
    if not forecast.points:
        return 0.0
    by_date = {p["date"]: p["mean"] for p in forecast.points}
    first, last = forecast.points[0], forecast.points[-1]
    tail = [p["mean"] for p in forecast.points[-7:]]
    per_day_after = sum(tail) / len(tail)
    total = 0.0
    for i in range(days):
        day = (start + timedelta(days=i)).isoformat()
        if day in by_date:
            total += by_date[day]
        elif day < first["date"]:
            total += first["mean"]
        else:
            total += per_day_after if day > last["date"] else 0.0
    return total


def backtest_table(*, county: Region | None = None) -> list[dict]:
    """Per product: model, backtest error and the baseline's, for docs and the data centre."""
    rows = []
    qs = DemandForecast.objects.select_related("product").order_by("product__name")
    if county is not None:
        qs = qs.filter(product__origin__path__startswith=county.path)
    for f in qs:
        rows.append({"product": f.product.name, "product_id": f.product_id, "model": f.model_name, **f.backtest})
    return rows
