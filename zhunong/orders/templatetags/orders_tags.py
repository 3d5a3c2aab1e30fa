"""Template helpers of the buy box: a fresh idempotency key per rendered form, the running sale."""

from __future__ import annotations

import math
import uuid

from django import template
from django.urls import reverse
from django.utils import timezone

from zhunong.orders.selectors import (
    can_see_producer_sales,
    live_stream_selling,
    open_sale,
    producer_by_id,
    sale_remaining,
)

register = template.Library()


@register.simple_tag
def new_idempotency_key() -> str:
    # One key per rendered form: a double click or a resubmitted POST creates the order once.
    return uuid.uuid4().hex


@register.simple_tag
def running_sale_for(product, stream=None):  # noqa: ANN001, ANN201
    """The flash sale of `product` in `stream` counting down or running, with its live stock."""
    if stream is None or product is None:
        return None
    sale = open_sale(stream_id=stream.pk, product_id=product.pk)
    if sale is not None:
        sale.live_remaining = sale_remaining(sale)
        sale.seconds_to_start = max(0, math.ceil((sale.starts_at - timezone.now()).total_seconds()))
    return sale


@register.simple_tag(takes_context=True)
def room_stream(context, product):  # noqa: ANN001, ANN201
    """The live stream a buyer came from (the room's shelf links to `?stream=<id>`): only a stream that is
    live and sells this product, so its flash sale and coupons apply; otherwise None (the regular price)."""
    request = context.get("request")
    raw = request.GET.get("stream", "") if request is not None else ""
    if product is None or not raw.isdigit() or len(raw) > 15:
        return None
    return live_stream_selling(int(raw), product)


@register.simple_tag(takes_context=True)
def sales_url_for(context, producer) -> str:  # noqa: ANN001
    """The producer's sales page, for those who may see it (its managers, its county's staff); else ""."""
    request = context.get("request")
    user = getattr(request, "user", None)
    # The public page renders a read-only view of the producer (its `id`), not the model instance.
    pk = getattr(producer, "pk", None) or getattr(producer, "id", None)
    if user is None or not user.is_authenticated or pk is None:
        return ""
    model = producer_by_id(pk)
    if model is None or not can_see_producer_sales(user, model):
        return ""
    return reverse("orders:producer_sales", args=[pk])


@register.simple_tag(takes_context=True)
def cart_count(context) -> int:  # noqa: ANN001
    """Units in the viewer's cart (the header's 购物车 link): the database cart signed in, else the session's."""
    from zhunong.orders import selectors_cart  # imports pricing and addresses; loaded when a header renders

    request = context.get("request")
    if request is None:
        return 0
    user = getattr(request, "user", None)
    return selectors_cart.count(buyer=user if user is not None and user.is_authenticated else None,
                      session=getattr(request, "session", None))
