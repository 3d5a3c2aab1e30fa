"""Sales and income rollups, kept as orders change (docs/decisions/0018-dashboard-rollups.md).

`SalesDay` adds up, per day, source, product, paying producer and stream, what the payments ledger credits
and debits; `IncomeDay` divides each payer's net of a product and day among the households it reaches
(`allocate`). The receivers of orders' signals (`on_order_transitioned`, `on_order_refunded`, connected in
InsightsConfig.ready) update both inside the order's transaction; `rebuild` recomputes them from the ledger
(and imported lines) and gives the same rows, because the allocation of a (day, source, product, payer)
depends only on that group's net and the share scheme of that day, never on the order events came in.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from zhunong.catalog.models import Product
from zhunong.orders.models import Order, OrderLine, OrderStatus
from zhunong.payments.models import LedgerEntry
from zhunong.producers import selectors as producer_selectors
from zhunong.producers.models import Producer

from .models import PLATFORM, ImportedOrderLine, IncomeDay, SalesDay

log = logging.getLogger(__name__)

Group = tuple[dt.date, str, int, int]  # (day, source, product id, payer id)


def to_fen(amount: Decimal | str | int) -> int:
    """Yuan (two decimals) to fen, exactly."""
    return int((Decimal(amount) * 100).to_integral_value())


def allocate(amount_fen: int, weights: Mapping[int, Decimal | int]) -> dict[int, int]:
    """Divide `amount_fen` by `weights` to the fen: every key gets the floor of its exact share, then the fen
    left over go one each to the largest remainders, ties to the smaller key (largest-remainder method).
    The parts always add up to the amount. A negative amount is divided as its absolute value and negated,
    so a refund of a whole day undoes its sales exactly."""
    weights = {k: Fraction(w) for k, w in weights.items() if w > 0}
    if not weights or amount_fen == 0:
        return {}
    sign, whole = (1 if amount_fen > 0 else -1), abs(amount_fen)
    total = sum(weights.values())
    parts: dict[int, int] = {}
    remainders = []
    for key in sorted(weights):
        exact = whole * weights[key] / total
        parts[key] = exact.numerator // exact.denominator
        remainders.append((-(exact - parts[key]), key))
    for _, key in sorted(remainders)[: whole - sum(parts.values())]:
        parts[key] += 1
    return {k: sign * v for k, v in parts.items() if v}


def recipients(payer: Producer, *, day: dt.date, product_id: int) -> tuple[dict[int, Decimal], bool]:
    """Who the payer's money reaches, with weights, and whether the payer keeps it (a co-op nobody in which
    can be credited that day)."""
    if payer.kind == Producer.Kind.COOPERATIVE:
        batch_ids = [b for b in Product.objects.filter(pk=product_id).values_list("batches", flat=True) if b]
        weights = producer_selectors.share_weights(coop_id=payer.pk, day=day, batch_ids=batch_ids)
        if weights:
            return weights, False
        return {payer.pk: Decimal(1)}, True
    return {payer.pk: Decimal(1)}, False


def _income_rows(group: Group, payer: Producer, net_fen: int) -> list[IncomeDay]:
    day, source, product_id, _ = group
    weights, retained = recipients(payer, day=day, product_id=product_id)
    return [IncomeDay(day=day, source=source, product_id=product_id, payer_id=payer.pk, recipient_id=recipient,
                      amount_fen=amount, retained=retained)
            for recipient, amount in allocate(net_fen, weights).items()]


def reallocate(groups: Iterable[Group]) -> None:
    """Recompute the IncomeDay rows of each (day, source, product, payer) from its SalesDay net."""
    payers: dict[int, Producer] = {}
    for group in sorted(set(groups)):
        day, source, product_id, payer_id = group
        if payer_id not in payers:
            payers[payer_id] = Producer.objects.get(pk=payer_id)
        net = (SalesDay.objects.filter(day=day, source=source, product_id=product_id, producer_id=payer_id)
               .aggregate(g=Sum("gross_fen"), r=Sum("refunded_fen")))
        IncomeDay.objects.filter(day=day, source=source, product_id=product_id, payer_id=payer_id).delete()
        IncomeDay.objects.bulk_create(_income_rows(group, payers[payer_id], (net["g"] or 0) - (net["r"] or 0)))


def _bump(*, day: dt.date, source: str, product_id: int, producer_id: int, stream_id: int | None,
          **deltas: int) -> None:
    key = {"day": day, "source": source, "product_id": product_id, "producer_id": producer_id,
           "stream_id": stream_id}
    changes = {field: F(field) + value for field, value in deltas.items()}
    if SalesDay.objects.filter(**key).update(**changes):
        return
    try:
        with transaction.atomic():  # a savepoint: a concurrent insert of the same key must not spoil ours
            SalesDay.objects.create(**key, **deltas)
    except IntegrityError:
        SalesDay.objects.filter(**key).update(**changes)


def _lock_payers(producer_ids: Iterable[int]) -> None:
    # One writer per payer at a time, in id order: reallocate reads a payer's net across streams and
    # rewrites its rows, which two concurrent payments to the same payer must not interleave.
    list(Producer.objects.select_for_update().filter(pk__in=set(producer_ids)).order_by("pk").values_list("pk"))


def record_sale(*, order: Order) -> None:
    """An order was paid: each line's paid amount on the payment's day (the ledger's sale entries)."""
    lines = list(order.lines.values("product_id", "producer_id", "quantity", "line_total", "discount_share"))
    day = timezone.localdate(order.paid_at or timezone.now())
    _lock_payers(line["producer_id"] for line in lines)
    groups = []
    for line in lines:
        _bump(day=day, source=PLATFORM, product_id=line["product_id"], producer_id=line["producer_id"],
              stream_id=order.stream_id, gross_fen=to_fen(line["line_total"] - line["discount_share"]),
              units=line["quantity"], lines=1)
        groups.append((day, PLATFORM, line["product_id"], line["producer_id"]))
    reallocate(groups)


def record_refund(*, order: Order, amounts: Mapping[int, Decimal]) -> None:
    """Money went back from lines: on today's rows (the ledger's refund entries are dated now)."""
    lines = {row["pk"]: row for row in OrderLine.objects.filter(pk__in=list(amounts))
             .values("pk", "product_id", "producer_id")}
    day = timezone.localdate()
    _lock_payers(line["producer_id"] for line in lines.values())
    groups = []
    for pk, amount in amounts.items():
        line = lines[pk]
        _bump(day=day, source=PLATFORM, product_id=line["product_id"], producer_id=line["producer_id"],
              stream_id=order.stream_id, refunded_fen=to_fen(amount), refunds=1)
        groups.append((day, PLATFORM, line["product_id"], line["producer_id"]))
    reallocate(groups)


def add_imported_lines(*, lines: Iterable[ImportedOrderLine]) -> None:
    """Lines imported from another platform (insights' imports call this in their transaction): counted on
    their order's day under their source, net of what that platform refunded."""
    lines = list(lines)
    _lock_payers(line.producer_id for line in lines)
    groups = []
    for line in lines:
        day = timezone.localdate(line.ordered_at)
        _bump(day=day, source=line.source, product_id=line.product_id, producer_id=line.producer_id,
              stream_id=None, gross_fen=to_fen(line.line_total), refunded_fen=to_fen(line.refunded_amount),
              units=line.quantity, lines=1, refunds=1 if line.refunded_amount else 0)
        groups.append((day, line.source, line.product_id, line.producer_id))
    reallocate(groups)


def _guarded(what: str, func: Any, **kwargs: Any) -> None:  # noqa: ANN401
    # A rollup must never stop a payment or a refund: on an error the savepoint is rolled back, the error
    # logged, and `zhunong insights-rebuild` brings the figures back from the ledger.
    try:
        with transaction.atomic():
            func(**kwargs)
    except Exception:
        log.exception("insights: %s not added to the rollups; run `zhunong insights-rebuild`", what)


def on_order_transitioned(sender: type, *, order: Order, from_status: str, to_status: str,
                          **kwargs: Any) -> None:  # noqa: ANN401
    if from_status == OrderStatus.RESERVED and to_status == OrderStatus.PAID:
        _guarded(f"payment of order {order.pk}", record_sale, order=order)


def on_order_refunded(sender: type, *, order: Order, amounts: Mapping[int, Decimal], **kwargs: Any) -> None:  # noqa: ANN401
    _guarded(f"refund of order {order.pk}", record_refund, order=order, amounts=amounts)


@transaction.atomic
def rebuild(*, since: dt.date | None = None) -> dict[str, int]:
    """Recompute the rollups (from `since` on, or all) from the payments ledger and the imported lines."""
    sales, income = SalesDay.objects.all(), IncomeDay.objects.all()
    ledger = LedgerEntry.objects.annotate(day=TruncDate("created_at"))
    imported = ImportedOrderLine.objects.annotate(day=TruncDate("ordered_at"))
    if since is not None:
        sales, income = sales.filter(day__gte=since), income.filter(day__gte=since)
        ledger, imported = ledger.filter(day__gte=since), imported.filter(day__gte=since)
    sales.delete()
    income.delete()
    rows: dict[tuple, SalesDay] = {}

    def row(day: dt.date, source: str, product_id: int, producer_id: int, stream_id: int | None) -> SalesDay:
        key = (day, source, product_id, producer_id, stream_id)
        if key not in rows:
            rows[key] = SalesDay(day=day, source=source, product_id=product_id, producer_id=producer_id,
                                 stream_id=stream_id)
        return rows[key]

    grouped = (ledger.values("day", "kind", "order_line__product_id", "producer_id", "order_line__order__stream_id")
               .annotate(amount=Sum("amount"), units=Sum("order_line__quantity"), n=Count("id")))
    for g in grouped:
        r = row(g["day"], PLATFORM, g["order_line__product_id"], g["producer_id"], g["order_line__order__stream_id"])
        fen = to_fen(Decimal(g["amount"]).quantize(Decimal("0.01")))
        if g["kind"] == LedgerEntry.Kind.SALE:
            r.gross_fen += fen
            r.units += g["units"]
            r.lines += g["n"]
        else:
            r.refunded_fen -= fen
            r.refunds += g["n"]
    for g in (imported.values("day", "source", "product_id", "producer_id")
              .annotate(total=Sum("line_total"), back=Sum("refunded_amount"), units=Sum("quantity"), n=Count("id"))):
        r = row(g["day"], g["source"], g["product_id"], g["producer_id"], None)
        r.gross_fen += to_fen(Decimal(g["total"]).quantize(Decimal("0.01")))
        r.refunded_fen += to_fen(Decimal(g["back"]).quantize(Decimal("0.01")))
        r.units += g["units"]
        r.lines += g["n"]
    SalesDay.objects.bulk_create(rows.values(), batch_size=5000)
    nets: dict[Group, int] = {}
    for (day, source, product_id, producer_id, _), r in rows.items():
        group = (day, source, product_id, producer_id)
        nets[group] = nets.get(group, 0) + r.gross_fen - r.refunded_fen
    payers = Producer.objects.in_bulk({group[3] for group in nets})
    income: list[IncomeDay] = []
    for group, net_fen in sorted(nets.items()):
        income.extend(_income_rows(group, payers[group[3]], net_fen))
    IncomeDay.objects.bulk_create(income, batch_size=5000)
    return {"sales_rows": len(rows), "income_groups": len(nets), "income_rows": len(income)}
