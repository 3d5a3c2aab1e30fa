"""Template helpers so other apps' pages can show fulfilment data with a plain include."""

from __future__ import annotations

from django import template

from zhunong.core import redaction
from zhunong.fulfilment import selectors

register = template.Library()


@register.simple_tag
def reviews_for(product, limit: int = 20) -> dict:  # noqa: ANN001
    """`{% reviews_for product as rv %}` → rv.rating (count, average, histogram) and rv.reviews."""
    reviews = list(selectors.product_reviews(product, limit=limit)) if product is not None else []
    rating = selectors.product_rating(product) if product is not None else None
    return {"rating": rating, "reviews": reviews}


@register.filter
def masked_name(user) -> str:  # noqa: ANN001
    return redaction.mask_name(getattr(user, "display_name", "") or getattr(user, "username", "")) or "匿名"


@register.filter
def masked_phone(phone: str) -> str:
    return redaction.mask_phone(phone)


@register.filter
def stars(rating: int) -> str:
    try:
        n = max(0, min(5, int(rating)))
    except (TypeError, ValueError):
        return ""
    return "★" * n + "☆" * (5 - n)


@register.simple_tag
def order_parcels(order) -> list:  # noqa: ANN001
    """`{% order_parcels order as shipments %}`: the order's parcels with their lines."""
    return list(selectors.order_shipments(order)) if order is not None else []


@register.filter
def get_item(mapping, key):  # noqa: ANN001, ANN201
    return mapping.get(key) if hasattr(mapping, "get") else None
