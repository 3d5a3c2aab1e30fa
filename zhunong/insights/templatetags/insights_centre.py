"""Template tags of the data centre's forecasting part: the unsold-produce warnings of a county."""

from __future__ import annotations

from typing import Any

from django import template

from zhunong.producers.models import Region

register = template.Library()


@register.simple_tag(takes_context=True)
def unsold_warnings(context: template.Context, region: Region | None = None, limit: int = 0) -> list[Any]:
    """The warnings the page already computed (`stock_warnings`), else those of `region`'s county."""
    found = context.get("stock_warnings")
    if found is None:
        from zhunong.insights.warnings import batch_warnings

        county = None
        if region is not None:
            county = region if region.level == Region.Level.COUNTY else region.ancestor_at(Region.Level.COUNTY)
        found = batch_warnings(county=county or region)
    return found[:limit] if limit else found
