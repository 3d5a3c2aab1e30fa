"""Writes for flash sales (秒杀) and in-room coupons (优惠券); re-exported by orders.services.

A flash sale's machine (one table, `SALE`): scheduled (countdown) → live ⇄ sold_out, then ended (time up),
or cancelled. How stock moves (docs/api.md, "Flash sales: how stock moves"):

- Starting a sale takes its quantity out of the product's stock (the sale's pool, `remaining`).
- A sale that runs out is `sold_out`; a unit that comes back while its time runs (an order cancelled or
  expired before payment) goes back to the sale, which reopens (`live`).
- When the sale is over (time up, or cancelled), what its pool holds goes back to the product at once and
  the sale is settled (`settled_at`). A unit released later (a reservation cancelled or expired after the
  end, a crashed request reconciled) lands in the settled sale's pool and is sent on to the product right
  after its commit (`on_stock_returned`), or by the minutely sweep (`sync_sales`, `settle_sales`).

So at every moment after recovery: product stock + every sale's remaining + units in live orders == what
the producer put up.

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

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.catalog.errors import BelowCostWithoutReason
from zhunong.catalog.models import PriceChange, Product
from zhunong.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from zhunong.core.events import publish_room_event
from zhunong.core.integrity import ConcernKind, refusals_recorded, report_concern
from zhunong.core.statemachine import TransitionTable
from zhunong.core.text import clean_decimal, clean_text
from zhunong.live.errors import StreamNotLive
from zhunong.live.models import Host, Stream, StreamStatus
from zhunong.live.payloads import esc
from zhunong.live.selectors import current_pin

from . import hotsales, inventory
from .errors import (
    CouponAlreadyClaimed,
    CouponExpired,
    CouponRefusedPublicServant,
    CouponsGone,
    FakeDiscount,
    InsufficientStock,
    LimitExceeded,
    NotHostOfStream,
    ProductNotPinned,
    SaleAlreadyRunning,
    SoldOut,
)
from .models import Coupon, CouponClaim, FlashSale, FlashSaleStatus, FlashSaleTransition
from .signals import flash_sale_scheduled

log = logging.getLogger(__name__)

F_ = FlashSaleStatus
SALE = TransitionTable(
    "flash_sale",
    {
        F_.SCHEDULED: {F_.LIVE, F_.CANCELLED},
        F_.LIVE: {F_.SOLD_OUT, F_.ENDED, F_.CANCELLED},
        F_.SOLD_OUT: {F_.LIVE, F_.CANCELLED},  # units came back before the end: it sells again
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
# How long after a sale was settled the sweep still looks for units released into it late (a crashed
# request reconciled, a lost Redis release replayed); each such unit is sent on to the product.
STRAY_WINDOW = dt.timedelta(days=1)


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
    """The host calls a sale off: what it has not sold goes back to the product at once."""
    sale = FlashSale.objects.select_for_update().select_related("stream__host", "product").get(pk=sale.pk)
    _require_host(actor, sale.stream)
    reason = clean_text(reason, field="reason", max_length=300)
    if sale.settled_at is not None:
        raise InvalidTransition("flash_sale: the sale is already over.",
                                details={"from": sale.status, "to": F_.CANCELLED})
    _sale_transition(sale, F_.CANCELLED, actor=actor, reason=reason)
    _settle(sale, now=timezone.now())
    return sale


def close_sales_of_ended_stream(*, stream_id: int, at: dt.datetime) -> list[int]:
    """Inside the transaction that ends (or cancels) a stream: its open sales end at that moment, so pricing,
    the buy box and the fast path stop applying them at once (`open_sales` looks at `ends_at`); after the
    commit each is moved along (a countdown is cancelled, a running sale ends, the rest goes home to the
    product). If that step is lost, the minutely sweep does it, since `ends_at` has passed."""
    ids = list(FlashSale.objects.filter(stream_id=stream_id, settled_at__isnull=True, ends_at__gt=at,
                                        status__in=[F_.SCHEDULED, F_.LIVE, F_.SOLD_OUT])
               .values_list("pk", flat=True))
    if not ids:
        return []
    FlashSale.objects.filter(pk__in=ids).update(ends_at=at)
    for pk in ids:
        transaction.on_commit(lambda pk=pk: _close_for_ended_stream(pk))
    return ids


def on_stream_saved(sender, instance: Stream, update_fields=None, **kwargs) -> None:  # noqa: ANN001, ANN003
    """post_save of a stream (connected in OrdersConfig.ready: live sits below orders and cannot call it)."""
    if instance.status not in (StreamStatus.ENDED, StreamStatus.CANCELLED):
        return
    if update_fields is not None and "status" not in update_fields:
        return
    close_sales_of_ended_stream(stream_id=instance.pk, at=instance.ended_at or timezone.now())


def _close_for_ended_stream(sale_id: int) -> None:
    try:
        with transaction.atomic():
            sale = FlashSale.objects.select_for_update().filter(pk=sale_id).first()
            if sale is not None and sale.settled_at is None and sale.status == F_.SCHEDULED:
                # A countdown never reached its start: it did not happen (the sweep skips unstarted sales).
                _sale_transition(sale, F_.CANCELLED, actor=None, reason="the stream ended")
                _settle(sale, now=timezone.now())
                return
        sync_sale(sale_id=sale_id)
    except Exception:  # the stream has ended; the minutely sweep settles the sale (its ends_at has passed)
        log.exception("could not close flash sale %s of an ended stream", sale_id)


def _send_home(sale: FlashSale) -> int:
    """Inside a transaction holding the sale's row: whatever the sale's pool holds goes to the product.
    Returns how many units moved."""
    backend = inventory.get_backend()
    pool = inventory.pool("sale", sale.pk)
    if "sale" in backend.external_kinds:
        left = _take_home_from_redis(backend, sale, pool)
    else:
        left = backend.drain(pool=pool)  # the row, in this transaction
    if left:
        Product.objects.filter(pk=sale.product_id).update(stock=F("stock") + left)
        FlashSale.objects.filter(pk=sale.pk).update(returned_to_product=F("returned_to_product") + left)
    return left


def _take_home_from_redis(backend: inventory.InventoryBackend, sale: FlashSale, pool: str) -> int:
    """Take what the Redis counter holds as a reservation of the sale's creator, recorded and committed in
    the caller's transaction: if the process dies before that commits, reconciliation finds the orphan
    token and puts the units back in the pool, and the next sweep moves them again; a unit is never lost
    nor counted twice."""
    take = None
    token = inventory.new_token()
    for _attempt in range(3):
        left = backend.remaining(pool)
        if left <= 0:
            return 0
        take = inventory.Take(pool, left, None)
        try:
            backend.reserve_outside(token=token, buyer_id=sale.created_by_id, takes=[take])
        except SoldOut:
            continue  # a buyer took some meanwhile: read again
        break
    else:
        return 0
    try:
        with transaction.atomic():
            inventory.record_reservations(reservations=[inventory.Reservation(
                token=token, backend=backend.name, buyer_id=sale.created_by_id, takes=(take,))])
            backend.commit(token=token)
            FlashSale.objects.filter(pk=sale.pk).update(remaining=0)  # the database mirror
    except BaseException:
        backend.undo_outside(token=token)
        raise
    return take.quantity


def _settle(sale: FlashSale, *, now: dt.datetime) -> int:
    """The sale is over: its pool goes to the product now, and later releases follow (`_send_home`)."""
    left = _send_home(sale)
    FlashSale.objects.filter(pk=sale.pk).update(settled_at=now, remaining=0)
    sale.refresh_from_db(fields=["settled_at", "remaining", "returned_to_product"])
    hotsales.refresh_on_commit(sale.stream_id, sale.product_id)
    if left:
        log.info("flash sale %s settled: %s units back to product %s", sale.pk, left, sale.product_id)
    return left


def _sync(sale_id: int, now: dt.datetime) -> tuple[FlashSale | None, int]:
    """sync_sale, and how many units went to the product."""
    moved = 0
    with transaction.atomic():
        sale = FlashSale.objects.select_for_update().select_related("product").filter(pk=sale_id).first()
        if sale is None:
            return None, 0
        if sale.settled_at is not None:
            # Units released into a sale after it was settled belong to the product.
            return sale, _send_home(sale)
        if sale.status == F_.SCHEDULED and now >= sale.starts_at:
            _sale_transition(sale, F_.LIVE, actor=None, reason="countdown over")
        if sale.status in (F_.LIVE, F_.SOLD_OUT):
            left = inventory.get_backend().remaining(inventory.pool("sale", sale.pk))
            if sale.status == F_.LIVE and left <= 0:
                _sale_transition(sale, F_.SOLD_OUT, actor=None, reason="sold out")
            elif sale.status == F_.LIVE and now >= sale.ends_at:
                _sale_transition(sale, F_.ENDED, actor=None, reason="time up")
            elif sale.status == F_.SOLD_OUT and left > 0 and now < sale.ends_at:
                _sale_transition(sale, F_.LIVE, actor=None, reason=f"{left} units came back")
        over = sale.status in (F_.ENDED, F_.CANCELLED) or (sale.status == F_.SOLD_OUT and now >= sale.ends_at)
        if over:
            moved = _settle(sale, now=now)
        # The minutely sweep passes here too, so a lost fast-path record comes back within a minute.
        hotsales.refresh_on_commit(sale.stream_id, sale.product_id)
        return sale, moved


def sync_sale(*, sale_id: int, now: dt.datetime | None = None) -> FlashSale | None:
    """Move a sale along its timeline: countdown over → live; nothing left → sold out; units back before the
    end → live again; time up → ended (a sold-out sale stays sold out); over → settled, its pool to the
    product. On a settled sale: units released into it since go on to the product."""
    return _sync(sale_id, now or timezone.now())[0]


def sync_sales(*, now: dt.datetime | None = None) -> int:
    """The minutely sweep of sales that are not settled: starts, sell-outs, reopenings, ends, settling."""
    now = now or timezone.now()
    ids = set(FlashSale.objects.filter(settled_at__isnull=True).filter(
        Q(starts_at__lte=now) | ~Q(status=F_.SCHEDULED)).values_list("pk", flat=True))
    for pk in ids:
        sync_sale(sale_id=pk, now=now)
    return len(ids)


def on_stock_changed(*, sale: FlashSale, remaining: int | None) -> None:
    """Inside an order's transaction, after units were taken from a sale: frames and sell-out after commit."""
    if remaining is None:
        return
    transaction.on_commit(lambda: _stock_frame(sale, remaining))
    if remaining <= 0:
        transaction.on_commit(lambda: sync_sale(sale_id=sale.pk))


def on_stock_returned(*, sale: FlashSale) -> None:
    """Inside the transaction that released units of an order back to `sale`: after commit, the units go
    where they belong now (a sold-out sale reopens, a settled sale sends them on to the product) and the
    room hears the new count."""
    def _after() -> None:
        try:
            current = sync_sale(sale_id=sale.pk)
            if current is not None and current.settled_at is None and current.status in (F_.LIVE, F_.SCHEDULED):
                remaining = inventory.get_backend().remaining(inventory.pool("sale", sale.pk))
                _stock_frame(current, remaining, force=True)
        except Exception:  # the release is committed; the minutely sweep finishes the move
            log.exception("could not move units returned to flash sale %s", sale.pk)

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
    """Send every unit that belongs to a product home: sales whose time is up but that were not settled
    (a missed timer), and units released into sales settled within STRAY_WINDOW. Returns [(sale, units)]
    of the sales that moved some (with `dry_run`, of those that would, changing nothing)."""
    now = now or timezone.now()
    backend = inventory.get_backend()
    due = set(FlashSale.objects.filter(settled_at__isnull=True).filter(
        Q(ends_at__lte=now) | Q(status__in=[F_.ENDED, F_.CANCELLED])).values_list("pk", flat=True))
    settled = FlashSale.objects.filter(settled_at__gte=now - STRAY_WINDOW)
    if "sale" not in backend.external_kinds:
        settled = settled.filter(remaining__gt=0)
    due |= {pk for pk in settled.values_list("pk", flat=True)
            if backend.remaining(inventory.pool("sale", pk)) > 0}
    done = []
    for sale_id in sorted(due):
        if dry_run:
            left = backend.remaining(inventory.pool("sale", sale_id))
            if left:
                done.append((sale_id, left))
            continue
        _, moved = _sync(sale_id, now)
        if moved:
            done.append((sale_id, moved))
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
                   valid_minutes: int, min_spend: object = "0", below_cost_reason: str = "") -> Coupon:
    """The host releases coupons into the room: amount (yuan off) or percent (1-90 % off). A coupon never
    takes a line below the product's cost floor (orders/coupons.py) unless `below_cost_reason` is given."""
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
    reason = clean_text(below_cost_reason, field="below_cost_reason", max_length=300, required=False)
    now = timezone.now()
    for _ in range(5):
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        if not Coupon.objects.filter(code=code).exists():
            break
    coupon = Coupon.objects.create(stream=stream, code=code, kind=kind, value=value_d, min_spend=min_spend_d,
                                   total_quantity=total_quantity, remaining=total_quantity, valid_from=now,
                                   below_cost_reason=reason,
                                   valid_until=now + dt.timedelta(minutes=valid_minutes), created_by=actor)
    inventory.get_backend().load(pool=inventory.pool("coupon", coupon.pk), quantity=total_quantity)
    if reason:
        # Declared below cost when released: the office sees it at once, before any order uses it.
        report_concern(kind=ConcernKind.BELOW_COST,
                       summary=f"直播《{stream.title}》发放优惠券 {coupon.code}，声明可低于成本：{reason}",
                       subject=coupon, region=stream.channel.county, raised_by=actor,
                       details={"coupon_code": coupon.code, "kind": kind, "value": str(value_d),
                                "min_spend": str(min_spend_d), "reason": reason, "stream_id": stream.pk})
    publish_room_event(stream.pk, {"t": "sale", "event": "coupon", **_coupon_payload(coupon)}, important=True)
    return coupon


@refusals_recorded("orders.coupon_refused", CouponRefusedPublicServant, actor="buyer", subject="coupon")
def claim_coupon(*, buyer: User, coupon: Coupon) -> CouponClaim:
    """One per buyer, never more than released: taken through the inventory engine like stock. The stream's
    host, and public servants hosting in its channel, are refused: a coupon is money off. Only while the
    stream is live (stream_not_live after it ended)."""
    if buyer is None or not buyer.is_authenticated:
        raise PermissionDenied("Log in to claim coupons.")
    now = timezone.now()
    coupon = Coupon.objects.select_related("stream__host").get(pk=coupon.pk)
    if buyer.pk == coupon.stream.host.user_id or Host.objects.filter(
            user=buyer, is_public_servant=True, channel_id=coupon.stream.channel_id).exists():
        raise CouponRefusedPublicServant(details={"coupon_code": coupon.code, "stream_id": coupon.stream_id})
    if coupon.stream.status != StreamStatus.LIVE:
        # A room's coupons are claimed in the room while it is live; after the end the room offers none.
        raise StreamNotLive(details={"stream_id": coupon.stream_id, "status": coupon.stream.status})
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
