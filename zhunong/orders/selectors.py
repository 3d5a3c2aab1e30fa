"""Reads for orders, flash sales and coupons (and the JSON shapes the API and pages share)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, DecimalField, ExpressionWrapper, F, QuerySet, Sum
from django.utils import timezone

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.catalog.models import Product
from zhunong.live.models import Stream, StreamStatus
from zhunong.producers.models import Producer

from . import inventory
from .errors import CouponNotFound, FlashSaleNotFound, OrderNotFound
from .models import Coupon, FlashSale, FlashSaleStatus, Order, OrderLine, OrderStatus

abuse_log = logging.getLogger("zhunong.abuse")


def money(value: object) -> str:
    """Amounts in JSON: a string with exactly two decimals ("19.90")."""
    return f"{Decimal(value):.2f}"


# ---------------------------------------------------------------------------------------------------
# the objects an order is placed against (read here so api.py and views.py never query models)


def stream_by_id(stream_id: object) -> Stream | None:
    """The stream (with its host), or None for an unknown or malformed id."""
    if not isinstance(stream_id, int) or isinstance(stream_id, bool) or not 0 < stream_id < 2**53:
        return None
    return Stream.objects.select_related("host").filter(pk=stream_id).first()


def live_stream_selling(stream_id: int, product: Product) -> Stream | None:
    """The stream if it is live and has the product on its shelf (so its sale and coupons apply)."""
    return Stream.objects.filter(pk=stream_id, status=StreamStatus.LIVE, products=product).first()


def product_by_id(product_id: int) -> Product | None:
    return Product.objects.filter(pk=product_id).first()


def producer_by_id(producer_id: object) -> Producer | None:
    """The producer (with its village), or None."""
    if not isinstance(producer_id, int) or isinstance(producer_id, bool) or not 0 < producer_id < 2**53:
        return None
    return Producer.objects.select_related("village").filter(pk=producer_id).first()


def orders_of(buyer: User) -> QuerySet[Order]:
    return Order.objects.filter(buyer=buyer).prefetch_related("lines__product").order_by("-created_at", "-id")


# ---------------------------------------------------------------------------------------------------
# who may act on an order (read-only predicates; the services check them under the order's lock)


def is_staff_over(actor: User | None, order: Order) -> bool:
    """Platform admins, and county operators whose region covers every line's product."""
    return policy.can(actor, "order.oversee", order)


def is_seller(actor: User | None, order: Order) -> bool:
    """Who may act for the selling side: staff over the order, or the manager of every line's producer."""
    return policy.can(actor, "order.sell", order)


def decides_for_lines(actor: User | None, order: Order, line_ids: Iterable[int]) -> bool:
    """Who may decide a refund of these lines: staff over the order, or the manager of every producer
    those lines belong to. One producer of a multi-producer order decides for its own lines only."""
    if is_staff_over(actor, order):
        return True
    ids = list(line_ids)
    lines = policy.Scope(producer_ids=lambda: order.lines.filter(pk__in=ids).values_list("producer_id", flat=True))
    return policy.can(actor, "order.sell", lines)


def is_producer_side(actor: User, order: Order) -> bool:
    """Manages at least one producer of the order (what it may decide is checked per line)."""
    producer_ids = set(order.lines.values_list("producer_id", flat=True))
    return actor.is_authenticated and actor.managed_producers.filter(pk__in=producer_ids).exists()


def can_view(actor: User | None, order: Order) -> bool:
    """Its buyer, the selling side, staff over it and regulators whose region covers every line."""
    return policy.can(actor, "order.view", order)


def requested_lines(order: Order) -> list[int]:
    """The lines of the pending refund request (all lines for requests recorded without them)."""
    last = order.history.filter(to_status=OrderStatus.REFUND_REQUESTED).order_by("-at", "-id").first()
    lines = ((last.details or {}).get("lines") or {}) if last is not None else {}
    return [int(pk) for pk in lines] or list(order.lines.values_list("pk", flat=True))


def status_before_request(order: Order) -> str:
    """Where a refund request came from (where a refusal or partial refund returns the order)."""
    last = order.history.filter(to_status=OrderStatus.REFUND_REQUESTED).order_by("-at", "-id").first()
    if last is None:
        return OrderStatus.PAID
    return (last.details or {}).get("previous") or last.from_status


def order_for(user: User, order_id: object) -> Order:
    """The order if `user` may see it (its buyer, the selling side, staff over it); else OrderNotFound.

    An order outside the caller's reach is not found, exactly as an unknown id is (docs/api.md: objects you
    may not see are 404), so sequential ids reveal nothing about other buyers' orders.
    """
    try:
        order = Order.objects.prefetch_related("lines__product", "history").get(pk=int(order_id))
    except (Order.DoesNotExist, ValueError, TypeError, OverflowError):
        raise OrderNotFound()
    if not can_view(user, order):
        abuse_log.info("user %s asked for order %s outside their reach", getattr(user, "pk", None), order.pk)
        raise OrderNotFound()
    return order


ORDER_KEYS = ("id", "number", "status", "stream_id", "subtotal", "discount", "total", "refunded_total", "currency",
              "expires_at", "paid_at", "created_at", "coupon_code", "lines")
LINE_KEYS = ("id", "product_id", "product_name", "producer_id", "quantity", "unit_price", "line_total",
             "discount_share", "refunded_amount", "flash_sale_id")


def in_payload_order(stored: dict[str, Any]) -> dict[str, Any]:
    """An order payload read back from the database in the key order order_payload wrote it.

    PostgreSQL's jsonb keeps no key order, so a replayed first response would otherwise come back
    reordered: equal as JSON, but not the same bytes the client first received.
    """
    out = {k: stored[k] for k in ORDER_KEYS if k in stored}
    out.update((k, v) for k, v in stored.items() if k not in out)
    out["lines"] = [{**{k: line[k] for k in LINE_KEYS if k in line}, **line} for line in stored.get("lines", [])]
    return out


def api_time(value: dt.datetime | None) -> str | None:
    """A time as every API response carries it: UTC, milliseconds, `Z` ("2026-11-25T17:04:04.875Z").

    The same text the API's renderer (DjangoJSONEncoder) writes for a datetime, computed here so that bodies
    built outside django-ninja (the 201 of POST /orders, its replays, the purchase fast path) say the same.
    """
    if value is None:
        return None
    value = value.astimezone(dt.UTC)
    value = value.replace(microsecond=value.microsecond // 1000 * 1000)
    return DjangoJSONEncoder().default(value)


def order_json(payload: dict[str, Any]) -> bytes:
    """The bytes of an order body (order_payload, or one stored as a first response), as the API's
    renderer writes JSON: UTF-8, Chinese as is, keys in order_payload's order. The one serialiser of the
    201 of POST /orders on both purchase paths and of its replays."""
    return json.dumps(in_payload_order(payload), ensure_ascii=False).encode("utf-8")


def order_payload(order: Order) -> dict[str, Any]:
    """The order as the API shows it (POST /orders, GET /orders, GET /orders/{id} before its extra fields)."""
    lines = list(order.lines.all())
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "stream_id": order.stream_id,
        "subtotal": money(order.subtotal),
        "discount": money(order.discount),
        "total": money(order.total),
        "refunded_total": money(order.refunded_total),
        "currency": "CNY",
        "expires_at": api_time(order.expires_at),
        "paid_at": api_time(order.paid_at),
        "created_at": api_time(order.created_at or timezone.now()),
        "coupon_code": order.coupon.code if order.coupon_id else None,
        "lines": [
            {
                "id": line.pk,
                "product_id": line.product_id,
                "product_name": line.product.name,
                "producer_id": line.producer_id,
                "quantity": line.quantity,
                "unit_price": money(line.unit_price),
                "line_total": money(line.line_total),
                "discount_share": money(line.discount_share),
                "refunded_amount": money(line.refunded_amount),
                "flash_sale_id": line.flash_sale_id,
            }
            for line in lines
        ],
    }


# ---------------------------------------------------------------------------------------------------
# flash sales

OPEN_SALE_STATUSES = (FlashSaleStatus.SCHEDULED, FlashSaleStatus.LIVE, FlashSaleStatus.SOLD_OUT)


def open_sales(*, now: dt.datetime | None = None, **where: Any) -> QuerySet[FlashSale]:  # noqa: ANN401
    """Sales counting down, running or sold out whose time is not over (and so not settled), filtered by
    `where` (stream_id=, product_id=, product_id__in=...): the one definition of "open" that pricing,
    the buy box and the fast path's sale records share."""
    return FlashSale.objects.filter(ends_at__gt=now or timezone.now(), settled_at__isnull=True,
                                    status__in=OPEN_SALE_STATUSES, **where)


def pick_sale(sales: Iterable[FlashSale]) -> FlashSale | None:
    """Of one product's open sales in one stream, the one that applies: the earliest that is not sold out
    (a host may start "another 1,000" after a sell-out), else the earliest sold-out one."""
    ordered = sorted(sales, key=lambda s: (s.status == FlashSaleStatus.SOLD_OUT, s.starts_at, s.pk))
    return ordered[0] if ordered else None


def open_sale(*, stream_id: int, product_id: int, now: dt.datetime | None = None) -> FlashSale | None:
    """The flash sale of this product in this stream that applies now (counting down, running or sold
    out), if any."""
    return pick_sale(open_sales(stream_id=stream_id, product_id=product_id, now=now))


def get_sale(sale_id: object) -> FlashSale:
    try:
        return FlashSale.objects.select_related("product", "stream").get(pk=int(sale_id))
    except (FlashSale.DoesNotExist, ValueError, TypeError, OverflowError):
        raise FlashSaleNotFound()


def sale_remaining(sale: FlashSale) -> int:
    if sale.settled_at is not None:
        return 0
    return inventory.get_backend().remaining(inventory.pool("sale", sale.pk))


def sale_payload(sale: FlashSale) -> dict[str, Any]:
    now = timezone.now()
    remaining = sale_remaining(sale)
    return {
        "id": sale.pk,
        "stream_id": sale.stream_id,
        "product_id": sale.product_id,
        "product_name": sale.product.name,
        "status": sale.status,
        "quantity": sale.quantity,
        "remaining": remaining,
        "sold": sale.quantity - sale.returned_to_product - remaining,
        "sale_price": money(sale.sale_price),
        "reference_price": money(sale.reference_price),
        "per_buyer_limit": sale.per_buyer_limit,
        "starts_at": sale.starts_at.isoformat(),
        "ends_at": sale.ends_at.isoformat(),
        "seconds_to_start": max(0, int((sale.starts_at - now).total_seconds())),
        "seconds_left": max(0, int((sale.ends_at - now).total_seconds())),
    }


def sales_of_stream(stream_id: int) -> QuerySet[FlashSale]:
    return FlashSale.objects.filter(stream_id=stream_id).select_related("product").order_by("-starts_at", "-id")


def get_coupon(coupon_id: object) -> Coupon:
    try:
        return Coupon.objects.get(pk=int(coupon_id))
    except (Coupon.DoesNotExist, ValueError, TypeError, OverflowError):
        raise CouponNotFound()


def coupon_payload(coupon: Coupon) -> dict[str, Any]:
    return {
        "id": coupon.pk,
        "stream_id": coupon.stream_id,
        "code": coupon.code,
        "kind": coupon.kind,
        "value": money(coupon.value),
        "min_spend": money(coupon.min_spend),
        "total_quantity": coupon.total_quantity,
        "remaining": inventory.get_backend().remaining(inventory.pool("coupon", coupon.pk)),
        "valid_from": coupon.valid_from.isoformat(),
        "valid_until": coupon.valid_until.isoformat(),
    }


def open_coupons(stream_id: int) -> QuerySet[Coupon]:
    """Coupons a viewer can claim in the room now: only while the stream is live (an ended room offers none)."""
    now = timezone.now()
    return Coupon.objects.filter(stream_id=stream_id, stream__status=StreamStatus.LIVE, valid_from__lte=now,
                                 valid_until__gt=now)


# --- a producer's sales (货款直达: what each household or co-op was paid for) -----------------------------

SOLD_STATUSES = ("paid", "shipped", "delivered", "completed", "refund_requested", "refunded")


def can_see_producer_sales(user: User, producer) -> bool:  # noqa: ANN001
    """Platform admins; county staff (operators, regulators) whose region covers the producer's village;
    managers of the producer or of a co-op it belongs to."""
    return policy.can(user, "producer.view_sales", producer)


def producer_sales(producer) -> QuerySet:  # noqa: ANN001
    """Paid order lines attributed to the producer, newest first (cancelled and unpaid ones are no sale)."""
    return (OrderLine.objects.filter(producer=producer, order__status__in=SOLD_STATUSES)
            .select_related("order__stream", "product").order_by("-order__created_at", "-id"))


def producer_sales_totals(producer) -> dict[str, Any]:  # noqa: ANN001
    net = ExpressionWrapper(F("line_total") - F("discount_share") - F("refunded_amount"),
                            output_field=DecimalField(max_digits=14, decimal_places=2))
    row = producer_sales(producer).order_by().aggregate(orders=Count("order", distinct=True),
                                                        quantity=Sum("quantity"), amount=Sum(net))
    return {"orders": row["orders"] or 0, "quantity": row["quantity"] or 0,
            "amount": Decimal(row["amount"] or 0).quantize(Decimal("0.01"))}
