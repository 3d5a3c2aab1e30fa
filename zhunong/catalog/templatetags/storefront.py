"""Small display helpers shared by the storefront templates (catalog, producers, accounts)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from zhunong.producers.models import Region

register = template.Library()


@register.filter
def yuan(amount: Decimal | None) -> str:
    """¥39.90 — always two decimals, whatever the locale."""
    if amount is None:
        return ""
    return f"¥{Decimal(amount):,.2f}"


@register.filter
def local_place(region: Region | None) -> str:
    """The part of a place below the county (洋河镇山里村): the county is already shown as the origin."""
    if region is None:
        return ""
    chain = region.ancestors(include_self=True)
    below_county = [r.name for r in chain if Region.LEVEL_ORDER.index(r.level) > Region.LEVEL_ORDER.index("county")]
    return "".join(below_county) or region.name


@register.filter
def short_origin(region: Region | None) -> str:
    """County plus the place itself (胶州市山里村): enough to recognise an origin on a product card."""
    if region is None:
        return ""
    county = region.ancestor_at("county")
    if county is None or county.pk == region.pk:
        return region.name
    return f"{county.name}{region.name}"


@register.filter
def region_trail(region: Region | None) -> list[Region]:
    """Province → … → region, for breadcrumbs."""
    return region.ancestors(include_self=True) if region is not None else []
