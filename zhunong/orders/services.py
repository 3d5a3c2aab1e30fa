"""Writes for orders: creation (exactly-once, stock reserved), the order state machine, refunds, expiry.

The order machine (one table, `ORDER`):

    reserved ──pay──▶ paid ──▶ shipped ──▶ delivered ──▶ completed
       │               │  ╲        ╲           ╲            │
       ▼               ▼   ╲────────╲───────────╲───────────┴──▶ refund_requested ──▶ refunded
    cancelled ◀────(seller, with a full refund)                   │
                                                                  └──(partial refund / rejected)──▶ back

`refunded` means everything paid went back; a partial refund returns the order to where it was, with the
refunded amounts on its lines. Every change goes through `_transition`, which records who/when/why and
sends `order_transitioned` inside the transaction (for apps that must act atomically, e.g. fulfilment)
and the realtime notification only after commit.

Public functions (keyword-only; other apps call these): create_order, mark_paid, cancel_order,
mark_shipped, mark_delivered, complete_order, request_refund, reject_refund, refund, expire_reservations.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.accounts.models import User
from zhunong.core.errors import InvalidTransition, PermissionDenied
from zhunong.core.events import publish_on_commit
from zhunong.core.statemachine import TransitionTable
from zhunong.core.text import clean_decimal, clean_text, has_control_chars

from . import idempotency, inventory
from .errors import (
    AmountMismatch,
    CouponExpired,
    CouponNotApplicable,
    CouponNotClaimed,
    CouponNotFound,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    InvalidLines,
    InvalidQuantity,
    InvalidRefund,
    LimitExceeded,
    NotYourOrder,
    ProductNotInStream,
    ProductUnavailable,
    RefundExceedsPaid,
    ReservationExpired,
    SaleNotStarted,
    SoldOut,
)
from .models import (
    Coupon,
    CouponClaim,
    FlashSale,
    FlashSaleStatus,
    IdempotencyRecord,
    Order,
    OrderLine,
    OrderStatus,
    OrderTransition,
)
from .signals import order_transitioned

log = logging.getLogger(__name__)
abuse_log = logging.getLogger("zhunong.abuse")

S = OrderStatus
ORDER = TransitionTable(
    "order",
    {
        S.RESERVED: {S.PAID, S.CANCELLED},
        S.PAID: {S.SHIPPED, S.CANCELLED, S.REFUND_REQUESTED, S.REFUNDED},
        S.SHIPPED: {S.DELIVERED, S.REFUND_REQUESTED, S.REFUNDED},
        S.DELIVERED: {S.COMPLETED, S.REFUND_REQUESTED, S.REFUNDED},
        S.COMPLETED: {S.REFUND_REQUESTED, S.REFUNDED},
        S.REFUND_REQUESTED: {S.REFUNDED, S.PAID, S.SHIPPED, S.DELIVERED, S.COMPLETED},
        S.REFUNDED: set(),
        S.CANCELLED: set(),
    },
)

MAX_LINES = 20
MAX_QUANTITY = 99
CENT = Decimal("0.01")
# A buyer with this many unpaid cancellations/expiries or refund requests in a day smells of 刷单/退单.
FAKE_ORDER_THRESHOLD = 5


def user_group(user_id: int) -> str:
    """Channel-layer group of one user's notifications (order status changes)."""
    return f"user.{user_id}"


# ---------------------------------------------------------------------------------------------------
# helpers


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _is_staff_over(actor: User | None, order: Order) -> bool:
    """Platform admins, and county operators whose region covers every line's product."""
    if actor is None or not actor.is_authenticated:
        return False
    from zhunong.accounts.selectors import is_platform_admin, user_covers_region

    if is_platform_admin(actor):
        return True
    if actor.has_role(roles.COUNTY_OPERATOR):
        lines = list(order.lines.select_related("product__origin"))
        return bool(lines) and all(user_covers_region(actor, line.product.origin) for line in lines)
    return False


def is_seller(actor: User | None, order: Order) -> bool:
    """Who may act for the selling side: staff over the order, or the manager of every line's producer."""
    if actor is None or not actor.is_authenticated:
        return False
    if _is_staff_over(actor, order):
        return True
    producer_ids = set(order.lines.values_list("producer_id", flat=True))
    managed = set(actor.managed_producers.filter(pk__in=producer_ids).values_list("pk", flat=True))
    return bool(producer_ids) and producer_ids <= managed


def decides_for_lines(actor: User | None, order: Order, line_ids: Iterable[int]) -> bool:
    """Who may decide a refund of these lines: staff over the order, or the manager of every producer
    those lines belong to. One producer of a multi-producer order decides for its own lines only."""
    if actor is None or not actor.is_authenticated:
        return False
    if _is_staff_over(actor, order):
        return True
    producer_ids = set(order.lines.filter(pk__in=list(line_ids)).values_list("producer_id", flat=True))
    managed = set(actor.managed_producers.filter(pk__in=producer_ids).values_list("pk", flat=True))
    return bool(producer_ids) and producer_ids <= managed


def _is_producer_side(actor: User, order: Order) -> bool:
    """Manages at least one producer of the order (what it may decide is checked per line)."""
    producer_ids = set(order.lines.values_list("producer_id", flat=True))
    return actor.is_authenticated and actor.managed_producers.filter(pk__in=producer_ids).exists()


def _requested_lines(order: Order) -> list[int]:
    """The lines of the pending refund request (all lines for requests recorded without them)."""
    last = order.history.filter(to_status=S.REFUND_REQUESTED).order_by("-at", "-id").first()
    lines = ((last.details or {}).get("lines") or {}) if last is not None else {}
    return [int(pk) for pk in lines] or list(order.lines.values_list("pk", flat=True))


def can_view(actor: User | None, order: Order) -> bool:
    if actor is None or not actor.is_authenticated:
        return False
    return order.buyer_id == actor.pk or is_seller(actor, order) or (
        actor.has_role(roles.REGULATOR) and _regulator_covers(actor, order))


def _regulator_covers(actor: User, order: Order) -> bool:
    from zhunong.accounts.selectors import user_covers_region

    lines = list(order.lines.select_related("product__origin"))
    return bool(lines) and all(user_covers_region(actor, line.product.origin) for line in lines)


def _transition(order: Order, target: str, *, actor: User | None, reason: str = "",
                details: dict[str, Any] | None = None) -> Order:
    ORDER.check(order.status, target)
    previous = order.status
    OrderTransition.objects.create(order=order, from_status=previous, to_status=target,
                                   actor=actor if getattr(actor, "is_authenticated", False) else None,
                                   reason=reason[:300], details=details or {})
    order.status = target
    order.save(update_fields=["status", "updated_at"])
    order_transitioned.send(sender=Order, order=order, from_status=previous, to_status=target, actor=actor,
                            reason=reason)
    publish_on_commit(user_group(order.buyer_id), {
        "type": "order.event", "order_id": order.pk, "number": order.number, "from": previous, "to": target})
    return order


def _require_from(order: Order, source: str, target: str) -> None:
    """The forward steps start from one status only; the table's edges back out of refund_requested
    belong to the refund decision (reject_refund, refund), not to shipping."""
    if order.status != source:
        raise InvalidTransition(f"order: {target} needs status {source}, not {order.status}.",
                                details={"from": order.status, "to": target, "allowed": sorted(ORDER.allowed(order.status))})


def _producer_for(product) -> Any:  # noqa: ANN001
    """The payee of a line: the co-op if a co-op supplies the product, else its first producer."""
    producers = sorted(product.producers.all(), key=lambda p: (p.kind != "cooperative", p.pk))
    if not producers:
        raise ProductUnavailable(details={"product_id": product.pk})
    return producers[0]


def _new_number() -> str:
    return "ZN" + timezone.localtime().strftime("%Y%m%d%H%M%S") + secrets.token_hex(4).upper()


def _flag_fake_order_smell(buyer: User, *, why: str, order: Order) -> None:
    """Raise one integrity flag when a buyer keeps abandoning or clawing back orders (刷单/退单)."""
    since = timezone.now() - dt.timedelta(hours=24)
    count = OrderTransition.objects.filter(
        order__buyer=buyer, at__gte=since,
    ).filter(Q(to_status=S.CANCELLED, from_status=S.RESERVED) | Q(to_status=S.REFUND_REQUESTED)).count()
    if count < FAKE_ORDER_THRESHOLD:
        return
    from django.contrib.contenttypes.models import ContentType

    from zhunong.supervision.models import IntegrityFlag
    from zhunong.supervision.services import raise_flag

    already = IntegrityFlag.objects.filter(
        kind=IntegrityFlag.Kind.FAKE_ORDER, created_at__gte=since,
        subject_type=ContentType.objects.get_for_model(User), subject_id=str(buyer.pk)).exists()
    if already:
        return
    region = None
    line = order.lines.select_related("product__origin").first()
    if line is not None:
        region = line.product.origin
    abuse_log.warning("fake-order smell: buyer %s, %s orders abandoned or refunded in 24h (%s)", buyer.pk, count, why)
    raise_flag(kind=IntegrityFlag.Kind.FAKE_ORDER,
               summary=f"买家 {buyer} 24小时内 {count} 笔订单未支付取消或申请退款",
               subject=buyer, region=region,
               details={"buyer_id": buyer.pk, "count": count, "latest_order": order.number, "why": why})


# ---------------------------------------------------------------------------------------------------
# creation


def _clean_key(key: object) -> str:
    if not isinstance(key, str) or not 1 <= len(key.strip()) <= 255 or has_control_chars(key) \
            or not key.strip().isprintable():
        raise IdempotencyKeyRequired()
    return key.strip()


def _clean_lines(lines: object) -> list[tuple[int, int]]:
    if not isinstance(lines, Sequence) or isinstance(lines, str | bytes) or not 1 <= len(lines) <= MAX_LINES:
        raise InvalidLines()
    out: list[tuple[int, int]] = []
    for line in lines:
        if isinstance(line, Mapping):
            pid, qty = line.get("product_id"), line.get("quantity")
        elif isinstance(line, Sequence) and len(line) == 2:
            pid, qty = line
        else:
            raise InvalidLines()
        if hasattr(pid, "pk"):
            pid = pid.pk
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            raise ProductUnavailable(details={"product_id": str(pid)[:20]})
        if not isinstance(qty, int) or isinstance(qty, bool) or not 1 <= qty <= MAX_QUANTITY:
            raise InvalidQuantity(details={"product_id": pid, "quantity": str(qty)[:20]})
        out.append((pid, qty))
    if len({pid for pid, _ in out}) != len(out):
        raise InvalidLines("Each product may appear in one line only.")
    return out


def request_fingerprint(*, lines: Sequence[tuple[int, int]], stream_id: int | None, coupon_code: str | None) -> str:
    body = json.dumps({"lines": [list(x) for x in lines], "stream_id": stream_id,
                       "coupon_code": coupon_code or None}, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _replay(buyer: User, key: str, fingerprint: str) -> Order | None:
    """Same key, same body: the first outcome again. Same key, other body: refused."""
    record = IdempotencyRecord.objects.select_related("order").filter(buyer=buyer, key=key).first()
    if record is not None:
        if record.request_hash != fingerprint:
            abuse_log.info("idempotency key reused with another body by buyer %s", buyer.pk)
            raise IdempotencyKeyReused()
        order = record.order
        order.idempotent_replay = True  # type: ignore[attr-defined]
        order.first_response = record.response  # type: ignore[attr-defined]
        return order
    # A refusal remembered by this path or the purchase fast path (idempotency.py); "P" (the fast path
    # still holding stock for this key) and "S" (committed: the database record above) fall through.
    kept = idempotency.recall(buyer_id=buyer.pk, key=key)
    if kept is not None and kept.kind == "F":
        if kept.fingerprint != fingerprint:
            abuse_log.info("idempotency key reused with another body by buyer %s", buyer.pk)
            raise IdempotencyKeyReused()
        error_cls = idempotency.REPLAYABLE.get(kept.code, SoldOut)
        raise error_cls(details=kept.details)
    return None


class _Priced:
    __slots__ = ("product", "quantity", "unit_price", "sale", "producer")

    def __init__(self, product, quantity: int, unit_price: Decimal, sale: FlashSale | None, producer) -> None:  # noqa: ANN001
        self.product, self.quantity, self.unit_price, self.sale, self.producer = (
            product, quantity, unit_price, sale, producer)

    @property
    def total(self) -> Decimal:
        return _money(self.unit_price * self.quantity)


OPEN_SALE_STATUSES = (FlashSaleStatus.SCHEDULED, FlashSaleStatus.LIVE, FlashSaleStatus.SOLD_OUT)


def pick_sale(sales: Iterable[FlashSale]) -> FlashSale | None:
    """Of one product's open sales in one stream, the one that applies: the earliest that is not sold out
    (a host may start "another 1,000" after a sell-out), else the earliest sold-out one."""
    ordered = sorted(sales, key=lambda s: (s.status == FlashSaleStatus.SOLD_OUT, s.starts_at, s.pk))
    return ordered[0] if ordered else None


def running_sale(*, stream_id: int, product_id: int, now: dt.datetime | None = None) -> FlashSale | None:
    """The flash sale of this product in this stream that is counting down or running, if any."""
    now = now or timezone.now()
    return pick_sale(FlashSale.objects.filter(stream_id=stream_id, product_id=product_id, ends_at__gt=now,
                                              status__in=OPEN_SALE_STATUSES))


# Per-process cache of what pricing reads (products, shelf, running sales), for `ORDERS_CONTEXT_CACHE_SECONDS`
# (0 = off, the default). During a flash sale thousands of attempts read the same rows; a second of staleness
# is harmless for prices and windows (stock itself is never cached: the inventory backend decides).
_context_cache: dict[tuple, tuple[float, dict]] = {}


def _catalog_context(product_ids: tuple[int, ...], stream) -> dict:  # noqa: ANN001
    from zhunong.catalog.models import ListingStatus, Product

    ttl = getattr(settings, "ORDERS_CONTEXT_CACHE_SECONDS", 0)
    key = (product_ids, stream.pk if stream is not None else None)
    if ttl:
        hit = _context_cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < ttl:
            return hit[1]
    products = {p.pk: p for p in Product.objects.filter(pk__in=product_ids, status=ListingStatus.LISTED)
                .prefetch_related("producers")}
    shelf: set[int] = set()
    sales: dict[int, FlashSale] = {}
    if stream is not None:
        shelf = set(stream.products.filter(pk__in=list(products)).values_list("pk", flat=True))
        open_sales: dict[int, list[FlashSale]] = {}
        for sale in FlashSale.objects.filter(stream_id=stream.pk, product_id__in=list(shelf),
                                             ends_at__gt=timezone.now(), status__in=OPEN_SALE_STATUSES):
            open_sales.setdefault(sale.product_id, []).append(sale)
        sales = {pid: pick_sale(candidates) for pid, candidates in open_sales.items()}
    context = {"products": products, "shelf": shelf, "sales": sales,
               "producers": {pk: _producer_for(p) for pk, p in products.items()}}
    if ttl:
        if len(_context_cache) > 1000:
            _context_cache.clear()
        _context_cache[key] = (time.monotonic(), context)
    return context


def _price_lines(clean: list[tuple[int, int]], stream, now: dt.datetime) -> list[_Priced]:  # noqa: ANN001
    context = _catalog_context(tuple(sorted(pid for pid, _ in clean)), stream)
    priced = []
    for pid, qty in clean:
        product = context["products"].get(pid)
        if product is None:
            raise ProductUnavailable(details={"product_id": pid})
        sale = None
        price = product.price
        if stream is not None:
            if pid not in context["shelf"]:
                raise ProductNotInStream(details={"product_id": pid, "stream_id": stream.pk})
            sale = context["sales"].get(pid)
            if sale is not None and sale.ends_at <= now:
                sale = None
            if sale is not None:
                if now < sale.starts_at:
                    raise SaleNotStarted(details={"product_id": pid, "flash_sale_id": sale.pk,
                                                  "starts_at": sale.starts_at.isoformat()})
                # A sale known to be sold out is refused without touching stock; the naive baseline takes
                # its row lock on every attempt regardless (that is what it is there to show).
                if sale.status == FlashSaleStatus.SOLD_OUT and settings.INVENTORY_BACKEND != "naive":
                    raise SoldOut(details={"product_id": pid, "flash_sale_id": sale.pk})
                price = sale.sale_price
        priced.append(_Priced(product, qty, price, sale, context["producers"][pid]))
    return priced


def _apply_coupon(priced: list[_Priced], *, buyer: User, stream, code: str | None,  # noqa: ANN001
                  now: dt.datetime) -> tuple[CouponClaim | None, list[Decimal]]:
    shares = [Decimal("0")] * len(priced)
    if not code:
        return None, shares
    code = clean_text(code, field="coupon_code", max_length=16).upper()
    coupon = Coupon.objects.filter(code=code).first()
    if coupon is None:
        raise CouponNotFound()
    if stream is None or coupon.stream_id != stream.pk:
        raise CouponNotApplicable("This coupon is valid only in the stream that released it.")
    if not coupon.valid_from <= now < coupon.valid_until:
        raise CouponExpired()
    claim = CouponClaim.objects.filter(coupon=coupon, buyer=buyer).first()
    if claim is None:
        raise CouponNotClaimed()
    if claim.order_id is not None:
        from .errors import CouponUsed

        raise CouponUsed()
    # Every line is on this stream's shelf (checked when pricing), so the coupon covers the whole order.
    eligible = list(range(len(priced)))
    eligible_total = sum((priced[i].total for i in eligible), Decimal("0"))
    if eligible_total < coupon.min_spend:
        raise CouponNotApplicable(f"Minimum spend {coupon.min_spend} not reached.",
                                  details={"min_spend": str(coupon.min_spend), "eligible": str(eligible_total)})
    if coupon.kind == Coupon.Kind.PERCENT:
        discount = _money(eligible_total * coupon.value / 100)
    else:
        discount = coupon.value
    # Something is always paid: a coupon never makes an order free.
    discount = min(discount, eligible_total - CENT)
    if discount <= 0:
        raise CouponNotApplicable()
    left = discount
    for n, i in enumerate(eligible):
        share = left if n == len(eligible) - 1 else _money(discount * priced[i].total / eligible_total)
        share = min(share, priced[i].total)
        shares[i] = share
        left -= share
    return claim, shares


def create_order(*, buyer: User, lines: Sequence[Mapping[str, int]] | Sequence[tuple[int, int]], stream=None,  # noqa: ANN001
                 idempotency_key: str, coupon_code: str | None = None) -> Order:
    """Reserve stock and create a `reserved` order, exactly once per (buyer, idempotency_key).

    `lines`: [{"product_id": id, "quantity": n}, ...]. With `stream`, products must be on its shelf and a
    running flash sale's price, stock and per-buyer limit apply. Raises SoldOut, LimitExceeded,
    IdempotencyKeyReused and validation errors; nothing changes when it raises.

    Not wrapped in one transaction on purpose: with the Redis backend, stock is taken by a Lua script
    *before* the database transaction (so sold-out attempts never reach the database), and given back if
    that transaction fails.
    """
    if buyer is None or not buyer.is_authenticated:
        raise PermissionDenied("Log in to buy.")
    key = _clean_key(idempotency_key)
    clean = _clean_lines(lines)
    code = coupon_code.strip().upper() if isinstance(coupon_code, str) and coupon_code.strip() else None
    fingerprint = request_fingerprint(lines=clean, stream_id=stream.pk if stream is not None else None,
                                      coupon_code=code)
    replay = _replay(buyer, key, fingerprint)
    if replay is not None:
        return replay
    now = timezone.now()
    try:
        return _create(buyer=buyer, clean=clean, stream=stream, key=key, code=code, fingerprint=fingerprint,
                       now=now)
    except (SoldOut, LimitExceeded, SaleNotStarted) as exc:
        # Remember deterministic refusals, so a retry with this key answers the same (as Stripe does).
        idempotency.remember_failure(buyer_id=buyer.pk, key=key, fingerprint=fingerprint, code=exc.code,
                                     details=exc.details)
        raise


def _create(*, buyer: User, clean, stream, key: str, code: str | None, fingerprint: str,  # noqa: ANN001
            now: dt.datetime) -> Order:
    priced = _price_lines(clean, stream, now)
    claim, shares = _apply_coupon(priced, buyer=buyer, stream=stream, code=code, now=now)
    takes = []
    for p in priced:
        if p.sale is not None:
            takes.append(inventory.Take(inventory.pool("sale", p.sale.pk), p.quantity, p.sale.per_buyer_limit))
        else:
            takes.append(inventory.Take(inventory.pool("product", p.product.pk), p.quantity, None))
    backend = inventory.get_backend()
    token = inventory.new_token()
    remaining = backend.reserve_outside(token=token, buyer_id=buyer.pk, takes=takes)
    try:
        with transaction.atomic():
            remaining.update(backend.reserve_inside(token=token, buyer_id=buyer.pk, takes=takes))
            order = _persist(buyer=buyer, priced=priced, shares=shares, stream=stream, claim=claim, token=token,
                             backend=backend.name, now=now)
            from .selectors import order_payload

            response = order_payload(order)
            IdempotencyRecord.objects.create(buyer=buyer, key=key, request_hash=fingerprint, order=order,
                                             response=response)
            for p in priced:
                if p.sale is not None:
                    _after_sale_take(p.sale, remaining.get(inventory.pool("sale", p.sale.pk)))
    except IntegrityError:
        backend.undo_outside(token=token)
        # Most likely the same key raced with itself: answer as the winner did.
        replay = _replay(buyer, key, fingerprint)
        if replay is not None:
            return replay
        raise
    except BaseException:
        backend.undo_outside(token=token)
        raise
    order.idempotent_replay = False  # type: ignore[attr-defined]
    order.first_response = response  # type: ignore[attr-defined]
    return order


def _persist(*, buyer: User, priced: list[_Priced], shares: list[Decimal], stream, claim: CouponClaim | None,  # noqa: ANN001
             token: str, backend: str, now: dt.datetime) -> Order:
    subtotal = sum((p.total for p in priced), Decimal("0"))
    discount = sum(shares, Decimal("0"))
    order = Order.objects.create(
        number=_new_number(), buyer=buyer, stream=stream, subtotal=subtotal, discount=discount,
        total=subtotal - discount, expires_at=now + dt.timedelta(minutes=settings.RESERVATION_MINUTES),
        coupon=claim.coupon if claim else None, inventory_backend=backend, reservation_token=token,
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, product=p.product, producer=p.producer, quantity=p.quantity, unit_price=p.unit_price,
                  line_total=p.total, discount_share=share, flash_sale=p.sale)
        for p, share in zip(priced, shares, strict=True)
    )
    if claim is not None:
        from .errors import CouponUsed

        if not CouponClaim.objects.filter(pk=claim.pk, order__isnull=True).update(order=order):
            raise CouponUsed()
    OrderTransition.objects.create(order=order, from_status="", to_status=S.RESERVED,
                                   actor=buyer, reason="order placed")
    return order


def _after_sale_take(sale: FlashSale, remaining: int | None) -> None:
    from .flashsales import on_stock_changed

    on_stock_changed(sale=sale, remaining=remaining)


# ---------------------------------------------------------------------------------------------------
# stock return


def _release_stock(order: Order, reason: str) -> bool:
    """Give a reserved order's stock (and its coupon) back, exactly once."""
    if not order.reservation_token:
        return False
    backend = inventory.get_backend(order.inventory_backend)
    released = backend.release(token=order.reservation_token, reason=reason)
    CouponClaim.objects.filter(order=order).update(order=None)
    if released:
        from .flashsales import on_stock_returned

        for line in order.lines.filter(flash_sale__isnull=False).select_related("flash_sale"):
            on_stock_returned(sale=line.flash_sale)
    return released


# ---------------------------------------------------------------------------------------------------
# the state machine


class AlreadyPaid(InvalidTransition):
    code = "already_paid"
    message = "The order was already paid with another payment."


@transaction.atomic
def mark_paid(*, order: Order, amount: Decimal | str, payment_ref: str) -> Order:
    """Apply a confirmed payment. Idempotent: the same payment_ref again changes nothing.

    Raises ReservationExpired (the order was cancelled before the money arrived), AlreadyPaid (another
    payment already settled it) or AmountMismatch; the payments app refunds such money.
    """
    payment_ref = clean_text(payment_ref, field="payment_ref", max_length=64)
    amount_d = clean_decimal(amount, field="amount", allow_zero=True)
    order = _lock(order)
    if order.payment_ref == payment_ref:
        if amount_d != order.total:  # the same payment cannot have two amounts
            raise AmountMismatch(details={"expected": str(order.total), "received": str(amount_d)})
        return order
    if order.status == S.CANCELLED:
        raise ReservationExpired(details={"order": order.number})
    if order.status != S.RESERVED:
        raise AlreadyPaid(details={"order": order.number})
    if amount_d != order.total:
        log.warning("payment %s for %s: amount %s, expected %s", payment_ref, order.number, amount_d, order.total)
        raise AmountMismatch(details={"expected": str(order.total), "received": str(amount_d)})
    order.payment_ref = payment_ref
    order.paid_at = timezone.now()
    order.save(update_fields=["payment_ref", "paid_at", "updated_at"])
    _transition(order, S.PAID, actor=None, reason=f"payment {payment_ref}")
    if order.reservation_token:
        inventory.get_backend(order.inventory_backend).commit(token=order.reservation_token)
    from zhunong.payments.services import credit_producers

    credit_producers(order=order)
    return order


@transaction.atomic
def cancel_order(*, order: Order, actor: User | None, reason: str) -> Order:
    """Cancel: the buyer before payment; the seller (with a reason; a paid order is refunded in full);
    `actor=None` is the system (reservation timeout)."""
    reason = clean_text(reason, field="reason", max_length=300, required=actor is not None and
                        actor.pk != order.buyer_id) or "cancelled"
    order = _lock(order)
    buyer_cancels = actor is not None and actor.pk == order.buyer_id and not is_seller(actor, order)
    if actor is not None and not buyer_cancels and not is_seller(actor, order):
        abuse_log.info("user %s tried to cancel order %s of another buyer", actor.pk, order.number)
        raise NotYourOrder()
    if buyer_cancels and order.status != S.RESERVED:
        raise InvalidTransition("A buyer cancels only before paying; ask for a refund instead.",
                                details={"from": order.status, "to": S.CANCELLED})
    if order.status == S.PAID:
        _refund_lines(order, {line.pk: line.refundable for line in order.lines.all() if line.refundable > 0},
                      actor=actor, reason=f"cancelled by seller: {reason}")
        return _transition(order, S.CANCELLED, actor=actor, reason=reason)
    _transition(order, S.CANCELLED, actor=actor, reason=reason)
    _release_stock(order, "timeout" if actor is None else "cancelled")
    if actor is None or buyer_cancels:
        transaction.on_commit(lambda: _smell_later(order.pk, "unpaid cancellation"))
    return order


def _smell_later(order_id: int, why: str) -> None:
    order = Order.objects.select_related("buyer").filter(pk=order_id).first()
    if order is not None:
        try:
            _flag_fake_order_smell(order.buyer, why=why, order=order)
        except Exception:  # a missed flag must not fail a committed cancellation
            log.exception("fake-order check failed for %s", order_id)


@transaction.atomic
def mark_shipped(*, order: Order, actor: User | None) -> Order:
    """paid → shipped: the seller side (or the fulfilment system, actor=None) once every line is on its way."""
    order = _lock(order)
    if actor is not None and not is_seller(actor, order):
        raise PermissionDenied("Only the selling side ships an order.")
    _require_from(order, S.PAID, S.SHIPPED)
    return _transition(order, S.SHIPPED, actor=actor, reason="shipped")


@transaction.atomic
def mark_delivered(*, order: Order, actor: User | None) -> Order:
    """shipped → delivered: the buyer confirms, the seller records it, or the system auto-confirms."""
    order = _lock(order)
    if actor is not None and actor.pk != order.buyer_id and not is_seller(actor, order):
        raise NotYourOrder()
    _require_from(order, S.SHIPPED, S.DELIVERED)
    return _transition(order, S.DELIVERED, actor=actor, reason="delivered")


@transaction.atomic
def complete_order(*, order: Order, actor: User | None) -> Order:
    """delivered → completed: the buyer, the staff, or the system after the after-sales window."""
    order = _lock(order)
    if actor is not None and actor.pk != order.buyer_id and not _is_staff_over(actor, order):
        raise NotYourOrder()
    _require_from(order, S.DELIVERED, S.COMPLETED)
    return _transition(order, S.COMPLETED, actor=actor, reason="completed")


def _clean_amounts(order: Order, amounts: Mapping[int, object] | None) -> dict[int, Decimal]:
    lines = {line.pk: line for line in order.lines.all()}
    if amounts is None:
        return {pk: line.refundable for pk, line in lines.items() if line.refundable > 0}
    if not isinstance(amounts, Mapping) or not amounts:
        raise InvalidRefund()
    out: dict[int, Decimal] = {}
    for raw_pk, raw_amount in amounts.items():
        try:
            pk = int(raw_pk)
        except (TypeError, ValueError):
            raise InvalidRefund(details={"line": str(raw_pk)[:20]})
        if pk not in lines:
            raise InvalidRefund(details={"line": pk})
        out[pk] = clean_decimal(raw_amount, field=f"lines.{pk}")
    return out


@transaction.atomic
def request_refund(*, order: Order, actor: User, reason: str,
                   lines: dict[int, Decimal] | None = None) -> Order:
    """The buyer asks for money back (whole order, or amounts per line); the seller decides."""
    reason = clean_text(reason, field="reason", max_length=300)
    order = _lock(order)
    if actor is None or actor.pk != order.buyer_id:
        abuse_log.info("user %s tried to request a refund on order %s", getattr(actor, "pk", None), order.number)
        raise NotYourOrder()
    amounts = _clean_amounts(order, lines)
    if not amounts:
        raise RefundExceedsPaid("Nothing is left to refund.")
    by_line = {line.pk: line for line in order.lines.all()}
    for pk, amount in amounts.items():
        if amount > by_line[pk].refundable:
            raise RefundExceedsPaid(details={"line": pk, "requested": str(amount),
                                             "refundable": str(by_line[pk].refundable)})
    previous = order.status
    _transition(order, S.REFUND_REQUESTED, actor=actor, reason=reason,
                details={"previous": previous, "lines": {str(k): str(v) for k, v in amounts.items()}})
    transaction.on_commit(lambda: _smell_later(order.pk, "refund request"))
    return order


def _status_before_request(order: Order) -> str:
    last = order.history.filter(to_status=S.REFUND_REQUESTED).order_by("-at", "-id").first()
    if last is None:
        return S.PAID
    return (last.details or {}).get("previous") or last.from_status


@transaction.atomic
def reject_refund(*, order: Order, actor: User, reason: str, lines: Iterable[int] | None = None) -> Order:
    """The seller refuses a refund request: the order goes back to where it was.

    Who may: staff over the order, or the managers of the producers of the requested lines (`lines`, by
    default those of the pending request; fulfilment passes the line of the last open after-sales request).
    """
    reason = clean_text(reason, field="reason", max_length=300)
    order = _lock(order)
    if order.status != S.REFUND_REQUESTED:
        if not is_seller(actor, order):
            raise PermissionDenied("Only the selling side decides refund requests.")
        raise InvalidTransition(details={"from": order.status, "to": "previous"})
    if not decides_for_lines(actor, order, _requested_lines(order) if lines is None else lines):
        raise PermissionDenied("Only the selling side of the requested lines decides refund requests.")
    return _transition(order, _status_before_request(order), actor=actor, reason=f"refund refused: {reason}")


def _refund_lines(order: Order, amounts: dict[int, Decimal], *, actor: User | None, reason: str) -> Decimal:
    by_line = {line.pk: line for line in order.lines.select_for_update()}
    total = Decimal("0")
    for pk, amount in amounts.items():
        line = by_line[pk]
        if amount > line.refundable:
            raise RefundExceedsPaid(details={"line": pk, "requested": str(amount), "refundable": str(line.refundable)})
        total += amount
    if total <= 0:
        raise InvalidRefund("Nothing to refund.")
    for pk, amount in amounts.items():
        OrderLine.objects.filter(pk=pk).update(refunded_amount=F("refunded_amount") + amount)
    Order.objects.filter(pk=order.pk).update(refunded_total=F("refunded_total") + total)
    order.refresh_from_db(fields=["refunded_total"])
    from zhunong.payments.services import start_refund

    start_refund(order=order, amounts=amounts, reason=reason)
    return total


@transaction.atomic
def refund(*, order: Order, actor: User | None, amounts: dict[int, Decimal] | None = None, reason: str) -> Order:
    """Give money back through the payment gateway: everything left (amounts=None) or per line.

    A refund of everything paid ends in `refunded`; a partial one returns the order to where it was.
    Refunding more than a line's paid-and-not-yet-refunded amount is refused (nothing changes).
    """
    reason = clean_text(reason, field="reason", max_length=300)
    order = _lock(order)
    if actor is not None and not is_seller(actor, order) and not _is_producer_side(actor, order):
        abuse_log.info("user %s tried to refund order %s", actor.pk, order.number)
        raise PermissionDenied("Only the selling side refunds.")
    if order.status not in ORDER.transitions or S.REFUNDED not in ORDER.allowed(order.status) \
            or not order.payment_ref:
        raise InvalidTransition(details={"from": order.status, "to": S.REFUNDED})
    clean = _clean_amounts(order, amounts)
    if not clean:
        raise RefundExceedsPaid("Nothing is left to refund.")
    if actor is not None and not decides_for_lines(actor, order, clean):
        # A producer of a multi-producer order refunds its own lines only (name them in `amounts`).
        abuse_log.info("user %s tried to refund other producers' lines of order %s", actor.pk, order.number)
        raise PermissionDenied("You may refund only the lines your producers supplied.",
                               details={"lines": sorted(clean)})
    _refund_lines(order, clean, actor=actor, reason=reason)
    paid_total = order.total
    if order.refunded_total >= paid_total:
        return _transition(order, S.REFUNDED, actor=actor, reason=reason,
                           details={"lines": {str(k): str(v) for k, v in clean.items()}})
    if order.status == S.REFUND_REQUESTED:
        return _transition(order, _status_before_request(order), actor=actor, reason=f"partial refund: {reason}",
                           details={"lines": {str(k): str(v) for k, v in clean.items()}})
    return order


# ---------------------------------------------------------------------------------------------------
# expiry


def expire_reservations(*, now: dt.datetime | None = None, dry_run: bool = False, limit: int = 5000) -> int:
    """Cancel reserved orders past their payment deadline and return their stock. Returns how many."""
    now = now or timezone.now()
    ids = list(Order.objects.filter(status=S.RESERVED, expires_at__lte=now).order_by("expires_at")
               .values_list("pk", flat=True)[:limit])
    if dry_run:
        return len(ids)
    done = 0
    for pk in ids:
        with transaction.atomic():
            order = Order.objects.select_for_update().filter(pk=pk, status=S.RESERVED, expires_at__lte=now).first()
            if order is None:  # paid or cancelled meanwhile
                continue
            cancel_order(order=order, actor=None, reason="payment deadline passed")
            done += 1
    return done


# Flash sales and coupons live in their own module; these are services of this app as well.
from .flashsales import (  # noqa: E402
    cancel_flash_sale,
    claim_coupon,
    release_coupon,
    settle_sales,
    start_flash_sale,
    sync_sale,
    sync_sales,
)

__all__ = [
    "ORDER", "create_order", "mark_paid", "cancel_order", "mark_shipped", "mark_delivered", "complete_order",
    "request_refund", "reject_refund", "refund", "expire_reservations", "start_flash_sale", "cancel_flash_sale",
    "sync_sale", "sync_sales", "settle_sales", "release_coupon", "claim_coupon", "is_seller", "can_view",
]
