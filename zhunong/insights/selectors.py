"""Reads for insights pages that are not dashboards (dashboards.py, income.py, ... have their own).

A co-operative's members and income shares (coop_views.py, /insights/coops/<id>/): the co-op, its members
with their current share, the schemes, and the households of its county that may join.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from zhunong.producers.models import HarvestBatch, Membership, Producer, ShareScheme
from zhunong.producers.selectors import share_weights


def coop_by_id(coop_id: int) -> Producer | None:
    """A co-operative (not a household), with its village; None if there is none."""
    return (Producer.objects.select_related("village").filter(pk=coop_id, kind=Producer.Kind.COOPERATIVE)
            .first())


def household_by_id(producer_id: int) -> Producer | None:
    """A household that may be recorded as a member (join_coop checks the county and the dates)."""
    return Producer.objects.filter(pk=producer_id, kind=Producer.Kind.HOUSEHOLD).first()


def producer_names(ids: list[int]) -> dict[int, str]:
    return dict(Producer.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def coop_overview(coop: Producer, *, day: dt.date) -> dict[str, Any]:
    """Members (current first) with their dates and current share, the scheme in force, every scheme."""
    schemes = list(ShareScheme.objects.filter(coop=coop).select_related("recorded_by")
                   .prefetch_related("fixed_shares__member").order_by("-effective_from", "-pk"))
    current = next((s for s in schemes if s.effective_from <= day), None)
    batch_ids = list(HarvestBatch.objects.filter(products__producers=coop).values_list("pk", flat=True).distinct())
    weights = share_weights(coop_id=coop.pk, day=day, batch_ids=batch_ids)
    total = sum(weights.values(), Decimal(0))
    rows = []
    for m in Membership.objects.filter(coop=coop).select_related("member").order_by("left_on", "joined_on", "pk"):
        current_member = m.left_on is None or m.left_on > day
        weight = weights.get(m.member_id) if current_member else None
        rows.append({"membership": m, "member": m.member, "current": current_member, "weight": weight,
                     "percent": (weight * 100 / total).quantize(Decimal("0.1")) if weight and total else None})
    rows.sort(key=lambda r: (not r["current"], r["member"].name))
    fixed_now = {}
    if current is not None and current.basis == ShareScheme.Basis.FIXED:
        fixed_now = {f.member_id: f.share for f in current.fixed_shares.all()}
    for r in rows:
        r["fixed"] = fixed_now.get(r["member"].pk)
    members_now = [r for r in rows if r["current"]]
    county = coop.village.ancestor_at("county") or coop.village
    joinable = (Producer.objects.filter(kind=Producer.Kind.HOUSEHOLD, village__path__startswith=county.path)
                .exclude(pk__in=[r["member"].pk for r in members_now]).order_by("name"))
    return {"schemes": schemes, "current": current, "rows": rows, "members_now": members_now,
            "joinable": list(joinable), "bases": ShareScheme.Basis.choices, "day": day}
