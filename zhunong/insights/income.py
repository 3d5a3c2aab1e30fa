"""Reads of income that reached households (IncomeDay rollups): per household, per region level, for
registered poverty households (建档立卡), over any date range; and the reconciliation with the ledger."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, Sum, When
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.accounts.selectors import region_q
from zhunong.payments.models import LedgerEntry
from zhunong.producers.models import Producer, Region

from .models import PLATFORM, IncomeDay

MAX_RANGE_DAYS = 3 * 366


def yuan(fen: int | None) -> Decimal:
    return (Decimal(fen or 0) / 100).quantize(Decimal("0.01"))


def income_rows(user: User, *, start: dt.date, end: dt.date, region: Region | None = None) -> QuerySet[IncomeDay]:
    """IncomeDay rows of the range (both ends included) whose recipient lives in the user's region (and in
    `region`, if given)."""
    qs = IncomeDay.objects.filter(day__gte=start, day__lte=end)
    scope = region_q(user, "recipient__village")
    if scope is not None:
        qs = qs.filter(scope)
    if region is not None:
        qs = qs.filter(recipient__village__path__startswith=region.path)
    return qs


_DIRECT = Case(When(payer_id=F("recipient_id"), then=F("amount_fen")), default=0, output_field=IntegerField())
_VIA_COOP = Case(When(~Q(payer_id=F("recipient_id")), then=F("amount_fen")), default=0, output_field=IntegerField())


@dataclass
class Summary:
    total: Decimal  # everything paid out, net of refunds
    households: Decimal  # reached households (directly or through their co-op)
    poor: Decimal  # of which registered poverty households
    via_coops: Decimal  # households' shares of co-ops' sales
    retained: Decimal  # co-ops' money nobody could be credited with (no members, no scheme)
    enterprises: Decimal
    imported: Decimal  # of `total`, sold through other platforms (imported order exports, not in the ledger)
    households_reached: int
    poor_reached: int


def summary(user: User, *, start: dt.date, end: dt.date, region: Region | None = None) -> Summary:
    qs = income_rows(user, start=start, end=end, region=region)
    hh = Q(recipient__kind=Producer.Kind.HOUSEHOLD)
    agg = qs.aggregate(
        total=Sum("amount_fen"),
        households=Sum("amount_fen", filter=hh),
        poor=Sum("amount_fen", filter=hh & Q(recipient__registered_poor=True)),
        via=Sum(_VIA_COOP, filter=hh),
        retained=Sum("amount_fen", filter=Q(retained=True)),
        enterprises=Sum("amount_fen", filter=Q(recipient__kind=Producer.Kind.ENTERPRISE)),
        imported=Sum("amount_fen", filter=~Q(source=PLATFORM)),
    )
    per_household = (qs.filter(hh).values("recipient_id", "recipient__registered_poor")
                     .annotate(s=Sum("amount_fen")).filter(s__gt=0))
    reached = [(row["recipient__registered_poor"]) for row in per_household]
    return Summary(total=yuan(agg["total"]), households=yuan(agg["households"]), poor=yuan(agg["poor"]),
                   via_coops=yuan(agg["via"]), retained=yuan(agg["retained"]),
                   enterprises=yuan(agg["enterprises"]), imported=yuan(agg["imported"]),
                   households_reached=len(reached),
                   poor_reached=sum(1 for poor in reached if poor))


def households(user: User, *, start: dt.date, end: dt.date, region: Region | None = None,
               poor_only: bool = False, limit: int | None = None) -> list[dict]:
    """Income per household: direct sales, shares of co-ops' sales, total; largest first."""
    qs = income_rows(user, start=start, end=end, region=region).filter(recipient__kind=Producer.Kind.HOUSEHOLD)
    if poor_only:
        qs = qs.filter(recipient__registered_poor=True)
    rows = (qs.values("recipient_id", "recipient__name", "recipient__village__name", "recipient__registered_poor")
            .annotate(direct=Sum(_DIRECT), via=Sum(_VIA_COOP), total=Sum("amount_fen"))
            .order_by("-total", "recipient_id"))
    if limit:
        rows = rows[:limit]
    return [{"id": r["recipient_id"], "name": r["recipient__name"], "village": r["recipient__village__name"],
             "poor": r["recipient__registered_poor"], "direct": yuan(r["direct"]), "via_coops": yuan(r["via"]),
             "total": yuan(r["total"])} for r in rows]


def by_region(user: User, *, start: dt.date, end: dt.date, region: Region) -> list[dict]:
    """Income of households per region one level below `region` (county → townships → villages), with what
    reached registered poverty households; regions with nothing are listed with zero."""
    children = list(Region.objects.filter(parent=region).order_by("code"))
    if not children:
        return []
    qs = income_rows(user, start=start, end=end, region=region).filter(recipient__kind=Producer.Kind.HOUSEHOLD)
    per_village = (qs.values("recipient__village__path")
                   .annotate(total=Sum("amount_fen"),
                             poor=Sum("amount_fen", filter=Q(recipient__registered_poor=True))))
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in per_village:
        for child in children:
            if row["recipient__village__path"].startswith(child.path):
                totals[child.pk][0] += row["total"] or 0
                totals[child.pk][1] += row["poor"] or 0
                break
    return [{"id": c.pk, "code": c.code, "name": c.name, "level": c.get_level_display(),
             "total": yuan(totals[c.pk][0]), "poor": yuan(totals[c.pk][1])} for c in children]


def daily(user: User, *, start: dt.date, end: dt.date, region: Region | None = None) -> list[dict]:
    """Per day: what reached households and registered poverty households."""
    qs = income_rows(user, start=start, end=end, region=region).filter(recipient__kind=Producer.Kind.HOUSEHOLD)
    got = {r["day"]: r for r in qs.values("day").annotate(
        total=Sum("amount_fen"), poor=Sum("amount_fen", filter=Q(recipient__registered_poor=True)))}
    out = []
    day = start
    while day <= end:
        row = got.get(day, {})
        out.append({"day": day, "total": yuan(row.get("total")), "poor": yuan(row.get("poor"))})
        day += dt.timedelta(days=1)
    return out


def reconcile(*, start: dt.date, end: dt.date) -> dict[str, Decimal]:
    """This platform's income rows against the payments ledger over the same days (local time): equal
    to the fen when the rollups are right."""
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    entries = LedgerEntry.objects.filter(created_at__gte=lo, created_at__lt=hi)
    if connection.vendor == "postgresql":  # numeric sums are exact there
        ledger = entries.aggregate(s=Sum("amount"))["s"] or Decimal("0")
    else:  # SQLite sums decimals as floating point: add them up here instead
        ledger = sum(entries.values_list("amount", flat=True), Decimal("0"))
    income = IncomeDay.objects.filter(day__gte=start, day__lte=end, source=PLATFORM).aggregate(s=Sum("amount_fen"))
    rolled = yuan(income["s"])
    return {"ledger": ledger.quantize(Decimal("0.01")), "income": rolled, "difference": rolled - ledger}
