"""Template helpers of the buy box: a fresh idempotency key per rendered form, the running sale."""

from __future__ import annotations

import uuid

from django import template

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
    from zhunong.orders.selectors import sale_remaining
    from zhunong.orders.services import running_sale

    sale = running_sale(stream_id=stream.pk, product_id=product.pk)
    if sale is not None:
        sale.live_remaining = sale_remaining(sale)
    return sale
