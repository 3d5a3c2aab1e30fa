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
