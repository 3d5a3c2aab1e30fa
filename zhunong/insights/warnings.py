"""Unsold-produce warnings (滞销预警) and produce-to-demand plans (以销定产), from the stored forecasts.

For each harvest batch still within its shelf life:

- stock: the batch's quantity less what its products sold since the harvest. A product selling from several
  batches sells them first-in first-out (oldest harvest first); product units are converted to the batch's
  unit when both are weights (斤, 千克; a product's unit_size or name such as "5斤装" or "125克×4盒" says
  how much one unit weighs), else one product unit is one batch unit.
- demand: the forecast units of the batch's products from today to the batch's last good day (past the
  forecast's horizon, the horizon's last week repeats), again first-in first-out across a product's batches.
- expected unsold = stock - demand. A batch whose shelf life ends within WARN_WITHIN_DAYS warns when that is
  more than WARN_SHARE of its stock (and at least one unit); "high" when half or more would go unsold or
  three days or fewer are left.

Suggested actions, each with its figures: schedule a stream when none is planned before the produce
expires; a flash sale of the surplus when time is short or the surplus large; a price cut sized by an
assumed price elasticity of demand of ELASTICITY (never below the product's cost floor, never more than
MAX_CUT). The elasticity is an assumption, stated on the page, not a measurement.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, Sum

from zhunong.catalog.models import Product
from zhunong.live.models import Stream, StreamStatus
from zhunong.orders.models import OrderLine
from zhunong.producers.models import HarvestBatch, Producer, Region

from .feedback import unmet_requests
from .forecasting import DEMAND_STATUSES, expected_demand, today
from .models import DemandForecast, ImportedOrderLine

WARN_SHARE = 0.10
# Only batches whose shelf life ends within this many days are judged: far beyond the forecast's horizon the
# figures say little, and a warning a year ahead is noise (tea and rice keep for years).
WARN_WITHIN_DAYS = 60
HIGH_SHARE = 0.5
SHORT_DAYS = 3
FLASH_SALE_DAYS = 7
ELASTICITY = 1.5  # |%Δquantity / %Δprice|, assumed for fresh produce
MAX_CUT = 0.30
_WEIGHT_IN_JIN = {"jin": Decimal(1), "kg": Decimal(2)}
_UNIT_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(千克|公斤|kg|斤|克|g)(?:\s*[×xX*]\s*(\d+))?", re.IGNORECASE)
_JIN_PER = {"千克": Decimal(2), "公斤": Decimal(2), "kg": Decimal(2), "斤": Decimal(1), "克": Decimal("0.002"),
            "g": Decimal("0.002")}


def weight_in_jin(product: Product) -> Decimal | None:
    """How many 斤 one unit of the product holds, when that can be told."""
    if product.unit in _WEIGHT_IN_JIN:
        return _WEIGHT_IN_JIN[product.unit]
    m = _UNIT_SIZE.search(product.unit_size or "") or _UNIT_SIZE.search(product.name or "")
    if m:
        count = Decimal(m.group(3)) if m.group(3) else Decimal(1)
        return Decimal(m.group(1)) * _JIN_PER[m.group(2).lower()] * count
    return None


def product_units_to_batch(product: Product, batch: HarvestBatch, units: float) -> float:
    per_unit = weight_in_jin(product)
    if per_unit is not None and batch.unit in _WEIGHT_IN_JIN:
        return float(Decimal(str(units)) * per_unit / _WEIGHT_IN_JIN[batch.unit])
    return float(units)


@dataclass
class Action:
    kind: str  # "stream", "flash_sale", "price"
    text: str


@dataclass
class BatchWarning:
    batch: HarvestBatch
    products: list[Product]
    unit: str
    stock: float
    demand: float
    unsold: float
    expires_on: date
    days_left: int
    severity: str
    actions: list[Action] = field(default_factory=list)

    @property
    def unsold_share(self) -> float:
        return self.unsold / self.stock if self.stock else 0.0

    @property
    def unsold_percent(self) -> int:
        return round(100 * self.unsold_share)


def _batches_in(county: Region | None, on: date):  # noqa: ANN202
    qs = (HarvestBatch.objects.filter(shelf_life_days__isnull=False, harvested_on__lte=on)
          .select_related("plot__producer__village").prefetch_related("products"))
    if county is not None:
        qs = qs.filter(plot__producer__village__path__startswith=county.path)
    return [b for b in qs.order_by("harvested_on", "pk") if b.harvested_on + timedelta(days=b.shelf_life_days) > on]


def _judged(batch: HarvestBatch, on: date) -> bool:
    return (batch.harvested_on + timedelta(days=batch.shelf_life_days) - on).days <= WARN_WITHIN_DAYS


def _sold_since(product_ids: list[int], since: date) -> dict[int, float]:
    sold: dict[int, float] = defaultdict(float)
    for row in (OrderLine.objects.filter(product_id__in=product_ids, order__status__in=DEMAND_STATUSES,
                                         order__created_at__date__gte=since)
                .values("product_id").annotate(units=Sum("quantity"))):
        sold[row["product_id"]] += row["units"]
    for row in (ImportedOrderLine.objects.filter(product_id__in=product_ids, ordered_at__date__gte=since)
                .values("product_id").annotate(units=Sum("quantity"))):
        sold[row["product_id"]] += row["units"]
    return sold


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _actions(warning: BatchWarning, on: date) -> list[Action]:
    actions: list[Action] = []
    names = "、".join(p.name for p in warning.products)
    unsold = f"{warning.unsold:.0f}{warning.batch.get_unit_display()}"
    planned = Stream.objects.filter(products__in=warning.products, status__in=[StreamStatus.SCHEDULED, StreamStatus.LIVE],
                                    planned_start__date__lte=warning.expires_on).exists()
    if not planned:
        by = min(warning.expires_on - timedelta(days=1), on + timedelta(days=max(1, warning.days_left // 3)))
        actions.append(Action("stream", f"{by:%m月%d日}前安排一场直播讲解{names}，目前到期前没有排期的直播。"))
    if warning.days_left <= FLASH_SALE_DAYS or warning.unsold_share >= HIGH_SHARE:
        actions.append(Action("flash_sale", f"开一场秒杀，放出约{unsold}，在{warning.expires_on:%m月%d日}到期前卖完。"))
    need = warning.stock / warning.demand if warning.demand > 0 else None
    for product in warning.products:
        if need is None:
            cut = MAX_CUT
        else:
            # Constant elasticity: sales scale with price^(-ELASTICITY); the cut that lifts demand by `need`.
            cut = min(MAX_CUT, 1 - need ** (-1 / ELASTICITY))
        if cut <= 0.01:
            continue
        price = _money(product.price * (1 - Decimal(str(round(cut, 4)))))
        floored = price < product.cost_floor
        price = max(price, product.cost_floor)
        if price >= product.price:
            continue
        note = "（已到成本底价）" if floored else ""
        actions.append(Action("price", f"{product.name}由{product.price}元调到{price}元{note}"
                                       f"（按价格弹性{ELASTICITY}估算，降{(1 - price / product.price) * 100:.0f}%）。"))
    return actions


def batch_warnings(*, county: Region | None = None, on: date | None = None) -> list[BatchWarning]:
    """The batches expected to go partly unsold before they expire, most urgent first."""
    on = on or today()
    batches = [b for b in _batches_in(county, on) if b.products.all()]
    product_ids = sorted({p.pk for b in batches for p in b.products.all()})
    earliest = min((b.harvested_on for b in batches), default=on)
    sold = _sold_since(product_ids, earliest)
    forecasts = {f.product_id: f for f in DemandForecast.objects.filter(product_id__in=product_ids)}
    remaining = {b.pk: float(b.quantity) for b in batches}
    demand = {b.pk: 0.0 for b in batches}
    by_product: dict[int, list[HarvestBatch]] = defaultdict(list)
    products: dict[int, Product] = {}
    for b in batches:
        for p in b.products.all():
            by_product[p.pk].append(b)
            products[p.pk] = p
    for pid, own in by_product.items():
        product = products[pid]
        pool = sold.get(pid, 0.0)  # sales take the oldest batch first
        for b in own:
            take = min(remaining[b.pk], product_units_to_batch(product, b, pool))
            remaining[b.pk] -= take
            per_unit = product_units_to_batch(product, b, 1.0) or 1.0
            pool = max(0.0, pool - take / per_unit)
        taken = 0.0  # forecast demand, in product units, already given to earlier batches
        for b in sorted(own, key=lambda x: (x.harvested_on + timedelta(days=x.shelf_life_days), x.pk)):
            days_left = (b.harvested_on + timedelta(days=b.shelf_life_days) - on).days
            available = max(0.0, expected_demand(forecasts.get(pid), start=on, days=days_left) - taken)
            per_unit = product_units_to_batch(product, b, 1.0) or 1.0
            need_units = max(0.0, remaining[b.pk] - demand[b.pk]) / per_unit
            give = min(available, need_units)
            demand[b.pk] += give * per_unit
            taken += give
    out: list[BatchWarning] = []
    for b in batches:
        stock = remaining[b.pk]
        unsold = max(0.0, stock - demand[b.pk])
        if not _judged(b, on) or stock <= 0 or unsold < 1 or unsold <= WARN_SHARE * stock:
            continue
        expires_on = b.harvested_on + timedelta(days=b.shelf_life_days)
        days_left = (expires_on - on).days
        severity = "high" if unsold >= HIGH_SHARE * stock or days_left <= SHORT_DAYS else "medium"
        warning = BatchWarning(batch=b, products=list(b.products.all()), unit=b.get_unit_display(),
                               stock=round(stock, 1), demand=round(demand[b.pk], 1), unsold=round(unsold, 1),
                               expires_on=expires_on, days_left=days_left, severity=severity)
        warning.actions = _actions(warning, on)
        out.append(warning)
    out.sort(key=lambda w: (w.severity != "high", w.days_left, -w.unsold))
    return out


# --- produce to demand -------------------------------------------------------------------------------


@dataclass
class PlanRow:
    product: Product
    sold_last_season: float
    forecast_next_season: float
    harvested_last_season: float
    unit: str
    suggestion: str  # "expand", "keep", "reduce"
    suggested_quantity: float


@dataclass
class SeasonPlan:
    cooperative: Producer
    rows: list[PlanRow]
    requests: list[tuple[str, int]]
    season_days: int


def cooperatives_in(county: Region | None):  # noqa: ANN201
    qs = Producer.objects.filter(kind=Producer.Kind.COOPERATIVE)
    if county is not None:
        qs = qs.filter(village__path__startswith=county.path)
    return qs.order_by("name", "pk")


def season_plan(cooperative: Producer, *, season_days: int = 90, on: date | None = None,
                safety: float = 0.1) -> SeasonPlan:
    """What the co-op (with its members) should plan to harvest next season, product by product.

    Next season's demand is the forecast over `season_days` (its horizon's last week repeated beyond it);
    the suggestion compares that, plus a `safety` margin, with what the co-op harvested over the last
    `season_days`. Requests: products the county's buyers asked for that nobody sells yet.
    """
    on = on or today()
    producers = [cooperative.pk, *cooperative.members.values_list("pk", flat=True)]
    products = list(Product.objects.filter(Q(producers__in=producers) | Q(batches__plot__producer__in=producers))
                    .distinct().order_by("name"))
    since = on - timedelta(days=season_days)
    sold = _sold_since([p.pk for p in products], since)
    forecasts = {f.product_id: f for f in DemandForecast.objects.filter(product__in=products)}
    rows: list[PlanRow] = []
    for product in products:
        batches = list(HarvestBatch.objects.filter(products=product, plot__producer__in=producers,
                                                   harvested_on__gte=since, harvested_on__lte=on))
        unit_batch = batches[0] if batches else None
        convert = (lambda units, b=unit_batch, p=product: product_units_to_batch(p, b, units)) if unit_batch else float
        harvested = float(sum(b.quantity for b in batches))
        demand = convert(expected_demand(forecasts.get(product.pk), start=on, days=season_days))
        target = demand * (1 + safety)
        if harvested == 0:
            suggestion = "expand" if target > 0 else "keep"
        elif target > harvested * 1.1:
            suggestion = "expand"
        elif target < harvested * 0.9:
            suggestion = "reduce"
        else:
            suggestion = "keep"
        rows.append(PlanRow(product=product, sold_last_season=round(convert(sold.get(product.pk, 0.0)), 1),
                            forecast_next_season=round(demand, 1), harvested_last_season=round(harvested, 1),
                            unit=unit_batch.get_unit_display() if unit_batch else product.get_unit_display(),
                            suggestion=suggestion, suggested_quantity=round(target, 1)))
    county = cooperative.village.ancestor_at(Region.Level.COUNTY)
    requests: list[tuple[str, int]] = []
    if county is not None:
        requests = [(r.name, r.count) for r in unmet_requests(county, days=365, limit=10)]
    return SeasonPlan(cooperative=cooperative, rows=rows, requests=requests, season_days=season_days)
