"""The JSON shapes of the room protocol (docs/live-protocol.md), built in one place.

Every user-provided string in a server→client frame is HTML-escaped here (`esc`), so a client may
insert it as HTML; numbers, ids and ISO times are not.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from .filtering import escape as esc

PROTOCOL_VERSION = 1

__all__ = ["PROTOCOL_VERSION", "esc", "product", "shelf", "pin", "announcement", "report", "chat"]


def product_url(product_id: int) -> str:
    try:
        return reverse("storefront:product", args=[product_id])
    except NoReverseMatch:
        return f"/p/{product_id}/"


def _in_project_language(label: Any) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(label())


def product(p: Any) -> dict[str, Any]:
    image = None
    images = getattr(p, "_prefetched_objects_cache", {}).get("images")
    first = images[0] if images else (p.images.first() if p.pk else None)
    if first is not None and first.image:
        image = first.image.url
    return {
        "id": p.pk,
        "name": esc(p.name),
        "price": str(p.price),
        # The project's language, whatever the request's: the frame is shared by every viewer, and each
        # client maps the label to its own language (room.js UNITS).
        "unit": esc(_in_project_language(p.get_unit_display)),
        "unit_size": esc(p.unit_size),
        "stock": p.stock,
        "url": product_url(p.pk),
        "image": image,
    }


def shelf(stream: Any) -> list[dict[str, Any]]:
    return [product(p) for p in stream.products.filter(status="listed").prefetch_related("images").order_by("pk")]


def pin(item: Any) -> dict[str, Any]:
    return {"id": item.pk, "product": product(item.product), "at": item.pinned_at.isoformat()}


def announcement(item: Any) -> dict[str, Any]:
    return {"id": item.pk, "text": esc(item.text), "at": item.created_at.isoformat()}


def report(item: Any) -> dict[str, Any]:
    return {
        "id": item.pk,
        "reason": item.reason,
        "note": esc(item.note),
        "message_id": item.message_id,
        "user_id": item.target_user_id,
        "text": esc(item.message.text) if item.message_id else "",
        "at": item.created_at.isoformat(),
    }


def chat(msg: Any, *, role: str) -> dict[str, Any]:
    """A chat event. `role`: host | staff | viewer; host replies are marked `host: true`."""
    return {
        "t": "chat",
        "id": msg.pk,
        "user_id": msg.user_id,
        "name": esc(msg.user_name),
        "text": esc(msg.text),
        "host": role == "host",
        "role": role,
        "at": msg.created_at.isoformat(),
    }
