"""Public reads of regions (the public producer pages, which list products, are catalog's)."""

from __future__ import annotations

from django.db.models import QuerySet

from zhunong.core.text import has_control_chars

from .errors import UnknownRegion
from .models import Region

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
