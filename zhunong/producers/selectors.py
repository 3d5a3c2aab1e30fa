"""Public reads of regions (the public producer pages, which list products, are catalog's); a co-op's
members and their shares on a day (income attribution in insights)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from zhunong.core.text import has_control_chars

from .errors import UnknownRegion
from .models import FixedShare, HarvestBatch, MemberDelivery, Membership, Region, ShareScheme

MAX_REGION_CODE_LENGTH = 20


def get_region_by_code(code: str) -> Region:
    code = (code or "").strip()
    # PostgreSQL rejects NUL in text parameters; no valid code has control characters anyway.
    if not code or len(code) > MAX_REGION_CODE_LENGTH or has_control_chars(code):
        raise UnknownRegion()
    try:
        return Region.objects.select_related("parent__parent__parent__parent").get(code=code)
    except Region.DoesNotExist:
        raise UnknownRegion()


def child_regions(region: Region) -> QuerySet[Region]:
    return region.children.order_by("code")


def top_regions() -> QuerySet[Region]:
    return Region.objects.filter(parent__isnull=True)


def regions_at_level(level: str) -> QuerySet[Region]:
    return Region.objects.filter(level=level)


def regions_below(region: Region, *, level: str) -> QuerySet[Region]:
    """Every region of `level` in the region's subtree (not only its children)."""
    return Region.objects.filter(path__startswith=region.path, level=level).exclude(pk=region.pk)


def region_subtree(root: Region | None = None) -> QuerySet[Region]:
    """The region and everything under it (the whole tree without a root), in path order."""
    qs = Region.objects.order_by("path")
    return qs.filter(path__startswith=root.path) if root is not None else qs


def members_on(coop_id: int, day: dt.date) -> set[int]:
    """The members of a co-op on `day`: joined on or before it and not yet left."""
    return set(Membership.objects.filter(Q(left_on__isnull=True) | Q(left_on__gt=day), coop_id=coop_id,
                                         joined_on__lte=day).values_list("member_id", flat=True))


def scheme_on(coop_id: int, day: dt.date) -> ShareScheme | None:
    """The share scheme in force on `day`: the latest one taking effect on or before it."""
    return ShareScheme.objects.filter(coop_id=coop_id, effective_from__lte=day).order_by("-effective_from").first()


def share_weights(*, coop_id: int, day: dt.date, batch_ids: Iterable[int] = ()) -> dict[int, Decimal]:
    """Each member's weight in what the co-op is paid on `day` for a product sold from `batch_ids`.

    Empty when nobody can be credited (no scheme yet, no members, nothing delivered, or, for a `batch`
    scheme, no member's batch behind the product): the co-op keeps that money in the figures.
    """
    scheme = scheme_on(coop_id, day)
    if scheme is None:
        return {}
    members = members_on(coop_id, day)
    if not members:
        return {}
    if scheme.basis == ShareScheme.Basis.FIXED:
        rows = FixedShare.objects.filter(scheme=scheme, member_id__in=members).values_list("member_id", "share")
    elif scheme.basis == ShareScheme.Basis.QUANTITY:
        rows = (MemberDelivery.objects.filter(coop_id=coop_id, member_id__in=members,
                                              delivered_on__gte=scheme.effective_from, delivered_on__lte=day)
                .values("member_id").annotate(q=Sum("quantity")).values_list("member_id", "q"))
    else:
        rows = (HarvestBatch.objects.filter(pk__in=list(batch_ids), plot__producer_id__in=members)
                .values("plot__producer_id").annotate(q=Sum("quantity")).values_list("plot__producer_id", "q"))
    return {member_id: Decimal(weight) for member_id, weight in rows if weight and weight > 0}
