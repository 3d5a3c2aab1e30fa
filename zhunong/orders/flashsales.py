"""Writes for flash sales (秒杀) and in-room coupons (优惠券); re-exported by orders.services.

A flash sale's machine (one table, `SALE`): scheduled (countdown) → live → sold_out | ended, or cancelled.
The sale ends at sell-out or at its end time. Its quantity is carved out of the product's stock when the
sale is created; once it is over and its last reservations are resolved, `settle_sales` gives what is
left back to the product.

Room frames (after commit, `important`): {"t": "sale", "event": "scheduled|started|sold_out|ended|
cancelled|coupon", ...} and {"t": "stock", ...}. Stock frames are throttled: at most one per sale per
STOCK_FRAME_INTERVAL seconds across all processes, plus every change among the last STOCK_FRAME_TAIL
units, so thousands of purchases in seconds produce a few dozen frames, and the count-down to zero is exact.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Min
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.catalog.errors import BelowCostWithoutReason
from zhunong.catalog.models import PriceChange, Product
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.core.events import publish_room_event
from zhunong.core.integrity import ConcernKind, report_concern
from zhunong.core.statemachine import TransitionTable
from zhunong.core.text import clean_decimal, clean_text
from zhunong.live.errors import StreamNotLive
from zhunong.live.models import Stream, StreamStatus
from zhunong.live.payloads import esc
from zhunong.live.selectors import current_pin

from . import hotsales, inventory
from .errors import (
    CouponAlreadyClaimed,
    CouponExpired,
    CouponsGone,
    FakeDiscount,
    InsufficientStock,
    LimitExceeded,
    NotHostOfStream,
    ProductNotPinned,
    SaleAlreadyRunning,
    SoldOut,
)
from .models import Coupon, CouponClaim, FlashSale, FlashSaleStatus, FlashSaleTransition, OrderStatus
from .signals import flash_sale_scheduled

log = logging.getLogger(__name__)

F_ = FlashSaleStatus
SALE = TransitionTable(
    "flash_sale",
    {
        F_.SCHEDULED: {F_.LIVE, F_.CANCELLED},
        F_.LIVE: {F_.SOLD_OUT, F_.ENDED, F_.CANCELLED},
        F_.SOLD_OUT: set(),
        F_.ENDED: set(),
        F_.CANCELLED: set(),
    },
)

COUNTDOWN_RANGE = (10, 300)  # seconds
DURATION_RANGE = (1, 20)  # minutes
MAX_SALE_QUANTITY = 100_000
MAX_PER_BUYER = 99
PRICE_WINDOW_DAYS = 30
STOCK_FRAME_INTERVAL = 1  # seconds
STOCK_FRAME_TAIL = 10
# Unsold stock goes back to the product this long after the reservations of the sale could still expire.
SETTLE_GRACE = dt.timedelta(minutes=3)


def _int(value: object, *, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(f"{field}: a whole number from {low} to {high}.", details={"field": field})
    return value


def _require_host(actor: User | None, stream) -> None:  # noqa: ANN001
    if actor is None or not actor.is_authenticated or stream.host.user_id != actor.pk:
        raise NotHostOfStream()


def _require_live(stream) -> None:  # noqa: ANN001
    if stream.status != StreamStatus.LIVE:
        raise StreamNotLive()


def lowest_recent_price(product, *, now: dt.datetime | None = None) -> Decimal:  # noqa: ANN001
    """The lowest price the product had at any moment of the last 30 days (including the one in force
    when the window opened), from catalog's PriceChange history."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=PRICE_WINDOW_DAYS)
    changes = PriceChange.objects.filter(product=product)
    in_window = changes.filter(at__gte=since).aggregate(low=Min("price"))["low"]
    before = changes.filter(at__lt=since).order_by("-at", "-id").values_list("price", flat=True).first()
    candidates = [Decimal(p) for p in (in_window, before, product.price) if p is not None]
    return min(candidates).quantize(Decimal("0.01"))


def _sale_payload(sale: FlashSale, remaining: int | None = None) -> dict[str, Any]:
    return {
        "flash_sale_id": sale.pk,
        "product_id": sale.product_id,
        "product_name": esc(sale.product.name),
        "sale_price": str(sale.sale_price),
        "reference_price": str(sale.reference_price),
        "quantity": sale.quantity,
        "remaining": sale.remaining if remaining is None else remaining,
        "per_buyer_limit": sale.per_buyer_limit,
        "starts_at": sale.starts_at.isoformat(),
        "ends_at": sale.ends_at.isoformat(),
        "status": sale.status,
    }


def _sale_transition(sale: FlashSale, target: str, *, actor: User | None, reason: str) -> FlashSale:
    SALE.check(sale.status, target)
    FlashSaleTransition.objects.create(sale=sale, from_status=sale.status, to_status=target,
                                       actor=actor if getattr(actor, "is_authenticated", False) else None,
                                       reason=reason[:300])
    sale.status = target
    fields = ["status"]
    if target == F_.SOLD_OUT:
        sale.sold_out_at = timezone.now()
        fields.append("sold_out_at")
    sale.save(update_fields=fields)
    hotsales.refresh_on_commit(sale.stream_id, sale.product_id)
    event = {F_.LIVE: "started", F_.SOLD_OUT: "sold_out", F_.ENDED: "ended", F_.CANCELLED: "cancelled"}[target]
    publish_room_event(sale.stream_id, {"t": "sale", "event": event, **_sale_payload(sale)}, important=True)
    return sale


@transaction.atomic
def start_flash_sale(*, actor: User, stream, product, quantity: int, sale_price: object,  # noqa: ANN001
                     per_buyer_limit: int, countdown_seconds: int, duration_minutes: int,
                     below_cost_reason: str = "") -> FlashSale:
    """The host starts a sale of the product pinned in the room: a countdown, then `duration_minutes`."""
    stream = Stream.objects.select_for_update().select_related("host").get(pk=stream.pk)
    _require_host(actor, stream)
    _require_live(stream)
    pin = current_pin(stream)
    if pin is None or pin.product_id != product.pk:
        raise ProductNotPinned(details={"product_id": product.pk})
    quantity = _int(quantity, field="quantity", low=1, high=MAX_SALE_QUANTITY)
    per_buyer_limit = _int(per_buyer_limit, field="per_buyer_limit", low=1, high=min(MAX_PER_BUYER, quantity))
    countdown_seconds = _int(countdown_seconds, field="countdown_seconds", low=COUNTDOWN_RANGE[0],
                             high=COUNTDOWN_RANGE[1])
    duration_minutes = _int(duration_minutes, field="duration_minutes", low=DURATION_RANGE[0],
                            high=DURATION_RANGE[1])
    price = clean_decimal(sale_price, field="sale_price", max_value=Decimal("1000000")).quantize(Decimal("0.01"))
    reason = clean_text(below_cost_reason, field="below_cost_reason", max_length=300, required=False)
    product = Product.objects.select_for_update().get(pk=product.pk)
    now = timezone.now()
    reference = lowest_recent_price(product, now=now)
    if price >= reference:
        raise FakeDiscount(details={"sale_price": str(price), "lowest_30_days": str(reference)})
    if price < product.cost_floor and not reason:
        raise BelowCostWithoutReason("The sale price is below the cost floor; a reason is required.",
                                     details={"sale_price": str(price), "cost_floor": str(product.cost_floor)})
    if FlashSale.objects.filter(stream=stream, product=product, ends_at__gt=now,
                                status__in=[F_.SCHEDULED, F_.LIVE]).exists():
        raise SaleAlreadyRunning()
    # The sale's units leave the product's stock now, so the regular shelf can never sell them twice.
    if not Product.objects.filter(pk=product.pk, stock__gte=quantity).update(stock=F("stock") - quantity):
        raise InsufficientStock(details={"stock": product.stock, "quantity": quantity})
    starts_at = now + dt.timedelta(seconds=countdown_seconds)
    sale = FlashSale.objects.create(
        stream=stream, product=product, quantity=quantity, remaining=quantity, sale_price=price,
        reference_price=reference, per_buyer_limit=per_buyer_limit,
        below_cost_reason=reason if price < product.cost_floor else "",
        starts_at=starts_at, ends_at=starts_at + dt.timedelta(minutes=duration_minutes), created_by=actor,
    )
    FlashSaleTransition.objects.create(sale=sale, from_status="", to_status=F_.SCHEDULED, actor=actor,
                                       reason="started by host")
    inventory.get_backend().load(pool=inventory.pool("sale", sale.pk), quantity=quantity)
    if price < product.cost_floor:
        _flag_below_cost(sale, actor)
    publish_room_event(stream.pk, {"t": "sale", "event": "scheduled", **_sale_payload(sale)}, important=True)
    hotsales.refresh_on_commit(stream.pk, product.pk)
    # Its start and end timers (tasks.py); the minutely sweep catches up if the worker was down.
    transaction.on_commit(lambda: flash_sale_scheduled.send(sender=FlashSale, sale=sale))
    return sale


def _flag_below_cost(sale: FlashSale, actor: User) -> None:
    report_concern(kind=ConcernKind.BELOW_COST,
                   summary=f"秒杀 {sale.product.name}: 秒杀价 {sale.sale_price} 低于成本底价 {sale.product.cost_floor}",
                   subject=sale, region=sale.product.origin,
                   details={"sale_price": str(sale.sale_price), "cost_floor": str(sale.product.cost_floor),
                            "reason": sale.below_cost_reason, "stream_id": sale.stream_id},
                   raised_by=actor)


@transaction.atomic
def cancel_flash_sale(*, actor: User, sale: FlashSale, reason: str) -> FlashSale:
    sale = FlashSale.objects.select_for_update().select_related("stream__host", "product").get(pk=sale.pk)
    _require_host(actor, sale.stream)
    reason = clean_text(reason, field="reason", max_length=300)
    _sale_transition(sale, F_.CANCELLED, actor=actor, reason=reason)
    # Empty the pool now, so no process still holding the sale in its pricing cache can sell from it; units
    # of reservations released later come back to the pool and go to the product when the sale is settled.
    left = inventory.get_backend().drain(pool=inventory.pool("sale", sale.pk))
    Product.objects.filter(pk=sale.product_id).update(stock=F("stock") + left)
    FlashSale.objects.filter(pk=sale.pk).update(returned_to_product=F("returned_to_product") + left)
    return sale


def sync_sale(*, sale_id: int, now: dt.datetime | None = None) -> FlashSale | None:
    """Move a sale along its timeline: countdown over → live; time up → ended; nothing left → sold out."""
    now = now or timezone.now()
    with transaction.atomic():
        sale = FlashSale.objects.select_for_update().select_related("product").filter(pk=sale_id).first()
        if sale is None:
            return None
        if sale.status == F_.SCHEDULED and now >= sale.starts_at:
            _sale_transition(sale, F_.LIVE, actor=None, reason="countdown over")
        if sale.status == F_.LIVE:
            left = inventory.get_backend().remaining(inventory.pool("sale", sale.pk))
            if left <= 0:
                _sale_transition(sale, F_.SOLD_OUT, actor=None, reason="sold out")
            elif now >= sale.ends_at:
                _sale_transition(sale, F_.ENDED, actor=None, reason="time up")
        # The minutely sweep passes here too, so a lost fast-path record comes back within a minute.
        hotsales.refresh_on_commit(sale.stream_id, sale.product_id)
        return sale


def sync_sales(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    ids = list(FlashSale.objects.filter(status__in=[F_.SCHEDULED, F_.LIVE]).filter(
        starts_at__lte=now).values_list("pk", flat=True))
    ids += list(FlashSale.objects.filter(status=F_.LIVE, ends_at__lte=now).values_list("pk", flat=True))
    for pk in set(ids):
        sync_sale(sale_id=pk, now=now)
    return len(set(ids))


def on_stock_changed(*, sale: FlashSale, remaining: int | None) -> None:
    """Inside an order's transaction, after units were taken from a sale: frames and sell-out after commit."""
    if remaining is None:
        return
    transaction.on_commit(lambda: _stock_frame(sale, remaining))
    if remaining <= 0:
        transaction.on_commit(lambda: sync_sale(sale_id=sale.pk))


def on_stock_returned(*, sale: FlashSale) -> None:
    def _after() -> None:
        remaining = inventory.get_backend().remaining(inventory.pool("sale", sale.pk))
        _stock_frame(sale, remaining, force=True)

    if sale.status in (F_.LIVE, F_.SCHEDULED):
        transaction.on_commit(_after)


def _stock_frame(sale: FlashSale, remaining: int, *, force: bool = False) -> None:
    # One frame per interval per sale across processes: cache.add is atomic on Redis and locmem.
    if not force and remaining > STOCK_FRAME_TAIL and not cache.add(f"orders:stockframe:{sale.pk}", 1,
                                                                    timeout=STOCK_FRAME_INTERVAL):
        return
    publish_room_event(sale.stream_id, {"t": "stock", "flash_sale_id": sale.pk, "product_id": sale.product_id,
                                        "remaining": max(0, remaining), "quantity": sale.quantity},
                       important=True)


def settle_sales(*, now: dt.datetime | None = None, dry_run: bool = False) -> list[tuple[int, int]]:
    """Give the unsold units of finished sales back to their products, once. Returns [(sale, units)]."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=settings.RESERVATION_MINUTES) - SETTLE_GRACE
    done = []
    for sale_id in FlashSale.objects.filter(settled_at__isnull=True, ends_at__lte=cutoff).values_list("pk", flat=True):
        sync_sale(sale_id=sale_id, now=now)
        with transaction.atomic():
            sale = FlashSale.objects.select_for_update().get(pk=sale_id)
            if sale.status not in (F_.ENDED, F_.SOLD_OUT, F_.CANCELLED) or sale.settled_at is not None:
                continue
            if sale.order_lines.filter(order__status=OrderStatus.RESERVED).exists():
                continue  # a reservation may still return units to the sale
            if dry_run:
                done.append((sale.pk, inventory.get_backend().remaining(inventory.pool("sale", sale.pk))))
                continue
            left = inventory.get_backend().drain(pool=inventory.pool("sale", sale.pk))
            Product.objects.filter(pk=sale.product_id).update(stock=F("stock") + left)
            FlashSale.objects.filter(pk=sale.pk).update(settled_at=now, remaining=0,
                                                        returned_to_product=F("returned_to_product") + left)
            hotsales.refresh_on_commit(sale.stream_id, sale.product_id)
            done.append((sale.pk, left))
    return done


# ---------------------------------------------------------------------------------------------------
# coupons

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MAX_COUPONS = 100_000
MAX_VALID_MINUTES = 24 * 60


def _coupon_payload(coupon: Coupon) -> dict[str, Any]:
    return {"coupon_id": coupon.pk, "code": coupon.code, "kind": coupon.kind, "value": str(coupon.value),
            "min_spend": str(coupon.min_spend), "total_quantity": coupon.total_quantity,
            "remaining": coupon.remaining, "valid_until": coupon.valid_until.isoformat()}


@transaction.atomic
def release_coupon(*, actor: User, stream, kind: str, value: object, total_quantity: int,  # noqa: ANN001
                   valid_minutes: int, min_spend: object = "0") -> Coupon:
    """The host releases coupons into the room: amount (yuan off) or percent (1-90 % off)."""
    stream = Stream.objects.select_related("host").get(pk=stream.pk)
    _require_host(actor, stream)
    _require_live(stream)
    if kind not in Coupon.Kind.values:
        raise ValidationFailed("kind: amount or percent.", details={"field": "kind"})
    value_d = clean_decimal(value, field="value", max_value=Decimal("10000")).quantize(Decimal("0.01"))
    if kind == Coupon.Kind.PERCENT and (value_d != value_d.to_integral_value() or not 1 <= value_d <= 90):
        raise ValidationFailed("value: a whole percent from 1 to 90.", details={"field": "value"})
    min_spend_d = clean_decimal(min_spend, field="min_spend", allow_zero=True,
                                max_value=Decimal("1000000")).quantize(Decimal("0.01"))
    if kind == Coupon.Kind.AMOUNT and min_spend_d and value_d >= min_spend_d:
        raise ValidationFailed("value: must be below the minimum spend.", details={"field": "value"})
    total_quantity = _int(total_quantity, field="total_quantity", low=1, high=MAX_COUPONS)
    valid_minutes = _int(valid_minutes, field="valid_minutes", low=1, high=MAX_VALID_MINUTES)
    now = timezone.now()
    for _ in range(5):
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        if not Coupon.objects.filter(code=code).exists():
            break
    coupon = Coupon.objects.create(stream=stream, code=code, kind=kind, value=value_d, min_spend=min_spend_d,
                                   total_quantity=total_quantity, remaining=total_quantity, valid_from=now,
                                   valid_until=now + dt.timedelta(minutes=valid_minutes), created_by=actor)
    inventory.get_backend().load(pool=inventory.pool("coupon", coupon.pk), quantity=total_quantity)
    publish_room_event(stream.pk, {"t": "sale", "event": "coupon", **_coupon_payload(coupon)}, important=True)
    return coupon


def claim_coupon(*, buyer: User, coupon: Coupon) -> CouponClaim:
    """One per buyer, never more than released: taken through the inventory engine like stock."""
    if buyer is None or not buyer.is_authenticated:
        raise PermissionDenied("Log in to claim coupons.")
    now = timezone.now()
    coupon = Coupon.objects.get(pk=coupon.pk)
    if not coupon.valid_from <= now < coupon.valid_until:
        raise CouponExpired()
    if CouponClaim.objects.filter(coupon=coupon, buyer=buyer).exists():
        raise CouponAlreadyClaimed()
    backend = inventory.get_backend()
    token = inventory.new_token()
    takes = [inventory.Take(inventory.pool("coupon", coupon.pk), 1, 1)]
    try:
        remaining = backend.reserve_outside(token=token, buyer_id=buyer.pk, takes=takes)
    except SoldOut:
        raise CouponsGone()
    except LimitExceeded:
        raise CouponAlreadyClaimed()
    try:
        with transaction.atomic():
            try:
                remaining.update(backend.reserve_inside(token=token, buyer_id=buyer.pk, takes=takes))
            except SoldOut:
                raise CouponsGone()
            except LimitExceeded:
                raise CouponAlreadyClaimed()
            claim = CouponClaim.objects.create(coupon=coupon, buyer=buyer)
            backend.commit(token=token)
            left = remaining.get(inventory.pool("coupon", coupon.pk))
            if left is not None:
                transaction.on_commit(lambda: _coupon_frame(coupon, left))
    except IntegrityError:
        backend.undo_outside(token=token)
        raise CouponAlreadyClaimed()
    except BaseException:
        backend.undo_outside(token=token)
        raise
    return claim


def _coupon_frame(coupon: Coupon, remaining: int) -> None:
    if remaining > STOCK_FRAME_TAIL and not cache.add(f"orders:couponframe:{coupon.pk}", 1,
                                                      timeout=STOCK_FRAME_INTERVAL):
        return
    publish_room_event(coupon.stream_id, {"t": "stock", "coupon_id": coupon.pk, "remaining": max(0, remaining),
                                          "quantity": coupon.total_quantity}, important=True)
