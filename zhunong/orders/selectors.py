"""Reads for orders, flash sales and coupons (and the JSON shapes the API and pages share)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from zhunong.accounts.models import User

from . import inventory
from .errors import CouponNotFound, FlashSaleNotFound, NotYourOrder, OrderNotFound
from .models import Coupon, FlashSale, Order


def money(value: object) -> str:
    """Amounts in JSON: a string with exactly two decimals ("19.90")."""
    return f"{Decimal(value):.2f}"


def orders_of(buyer: User) -> QuerySet[Order]:
    return Order.objects.filter(buyer=buyer).prefetch_related("lines__product").order_by("-created_at", "-id")


def order_for(user: User, order_id: object) -> Order:
    """The order if `user` may see it (its buyer, the selling side, staff over it); else not found/denied."""
    from .services import can_view

    try:
        order = Order.objects.prefetch_related("lines__product", "history").get(pk=int(order_id))
    except (Order.DoesNotExist, ValueError, TypeError, OverflowError):
        raise OrderNotFound()
    if not can_view(user, order):
        raise NotYourOrder()
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


def order_payload(order: Order) -> dict[str, Any]:
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
        "expires_at": order.expires_at.isoformat() if order.expires_at else None,
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
        "created_at": (order.created_at or timezone.now()).isoformat(),
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
    now = timezone.now()
    return Coupon.objects.filter(stream_id=stream_id, valid_from__lte=now, valid_until__gt=now)


# --- a producer's sales (货款直达: what each household or co-op was paid for) -----------------------------

SOLD_STATUSES = ("paid", "shipped", "delivered", "completed", "refund_requested", "refunded")


def can_see_producer_sales(user: User, producer) -> bool:  # noqa: ANN001
    """Platform admins; county staff (operators, regulators) whose region covers the producer's village;
    managers of the producer or of a co-op it belongs to."""
    from zhunong.accounts import roles
    from zhunong.accounts.selectors import is_platform_admin, user_covers_region

    if not user.is_authenticated:
        return False
    if is_platform_admin(user):
        return True
    if (user.has_role(roles.COUNTY_OPERATOR) or user.has_role(roles.REGULATOR)) and user_covers_region(
            user, producer.village):
        return True
    return user.has_role(roles.PRODUCER_MANAGER) and (
        producer.managers.filter(pk=user.pk).exists() or producer.cooperatives.filter(managers=user).exists())


def producer_sales(producer) -> QuerySet:  # noqa: ANN001
    """Paid order lines attributed to the producer, newest first (cancelled and unpaid ones are no sale)."""
    from .models import OrderLine

    return (OrderLine.objects.filter(producer=producer, order__status__in=SOLD_STATUSES)
            .select_related("order__stream", "product").order_by("-order__created_at", "-id"))


def producer_sales_totals(producer) -> dict[str, Any]:  # noqa: ANN001
    from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum

    net = ExpressionWrapper(F("line_total") - F("discount_share") - F("refunded_amount"),
                            output_field=DecimalField(max_digits=14, decimal_places=2))
    row = producer_sales(producer).order_by().aggregate(orders=Count("order", distinct=True),
                                                        quantity=Sum("quantity"), amount=Sum(net))
    return {"orders": row["orders"] or 0, "quantity": row["quantity"] or 0,
            "amount": Decimal(row["amount"] or 0).quantize(Decimal("0.01"))}
