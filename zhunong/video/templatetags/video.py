"""Template helpers for the video includes (`video/_player.html`, `video/_ingest_panel.html`) and the
replay shelf's buy box, so other apps' templates include them with nothing but a `stream` in context."""

from __future__ import annotations

import math

from django import template
from django.template.loader import select_template
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe

from zhunong.accounts import policy
from zhunong.video import selectors
from zhunong.video.conf import video_settings
from zhunong.video.models import IngestState
from zhunong.video.services import ensure_ingest

register = template.Library()

# The orders app provides `orders/_buy_box.html` (context: product, stream, request); without it the
# replay shelf links to the product page.
BUY_BOX_TEMPLATES = ["orders/_buy_box.html", "video/_buy_box_fallback.html"]


@register.simple_tag
def video_playback(stream) -> selectors.Playback:  # noqa: ANN001
    return selectors.playback(stream)


@register.simple_tag(takes_context=True)
def video_ingest_panel(context, stream) -> dict:  # noqa: ANN001
    """What the host console shows: state, health, and (for the stream's own host only) RTMP URL and key."""
    request = context.get("request")
    user = getattr(request, "user", None)
    is_host = bool(user is not None and user.is_authenticated and stream.host.user_id == user.pk)
    if user is None or not policy.can(user, "stream.moderate", stream):
        return {"visible": False}
    ingest = selectors.ingest_of(stream)
    if ingest is None and is_host:
        ingest = ensure_ingest(stream=stream)
    return {
        "visible": True,
        "is_host": is_host,
        "ingest": ingest,
        "state": ingest.state if ingest else IngestState.IDLE,
        "rtmp_url": video_settings().public_rtmp_url,
        "grace_seconds": video_settings().grace_seconds,
        "fragment": video_settings().hls_fragment,
    }


@register.simple_tag(takes_context=True)
def buy_box(context, product) -> str:  # noqa: ANN001
    tpl = select_template(BUY_BOX_TEMPLATES)
    try:
        product_url = reverse("storefront:product", args=[product.pk])
    except NoReverseMatch:
        product_url = ""
    # A replay sells at the product's own price: no live flash sale or stream coupon applies (stream=None).
    return mark_safe(tpl.render({"product": product, "stream": None, "product_url": product_url},  # noqa: S308
                                context.get("request")))


@register.simple_tag
def product_url(product) -> str:  # noqa: ANN001
    try:
        return reverse("storefront:product", args=[product.pk])
    except NoReverseMatch:
        return ""


@register.filter
def seek(chapter) -> str:  # noqa: ANN001
    """The `?t=` of a chapter link: a time inside the chapter. Rounding its start to the nearest second could
    land in the chapter before it, and without JavaScript the shelf would then show the wrong product."""
    start, end = float(chapter.start_s), float(chapter.end_s)
    whole = math.ceil(start - 1e-9)
    if whole < end:
        return str(whole)
    return f"{math.ceil(start * 1000 - 1e-6) / 1000:.3f}"


@register.filter
def clock(seconds) -> str:  # noqa: ANN001
    """Seconds → m:ss or h:mm:ss for chapter marks."""
    try:
        total = int(float(seconds))
    except (TypeError, ValueError):
        return ""
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
