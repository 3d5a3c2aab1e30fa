"""Writes for orders: creation (exactly-once, stock reserved), the order state machine, refunds, expiry.

The order machine (one table, `ORDER`):

    reserved ──pay──▶ paid ──▶ shipped ──▶ delivered ──▶ completed
       │               │  ╲        ╲           ╲            │
       ▼               ▼   ╲────────╲───────────╲───────────┴──▶ refund_requested ──▶ refunded
    cancelled ◀────(seller, with a full refund)                   │
                                                                  └──(partial refund / rejected)──▶ back

`refunded` means everything paid went back; a partial refund returns the order to where it was, with the
refunded amounts on its lines. Every change goes through `_transition`, which records who/when/why and
sends `order_transitioned` inside the transaction (for apps that must act atomically: fulfilment routes
paid orders, payments credits the producers' ledger) and the realtime notification only after commit.
Money going back from lines sends `order_refunded` (payments records the refund and asks the gateway).

Creation prices in pricing.py, takes stock through inventory.py and writes through purchase.py (the
function the purchase fast path writes with too); who may act on an order is read in selectors.py
(accounts.policy).

Public functions (keyword-only; other apps call these): create_order, mark_paid, cancel_order,
mark_shipped, mark_delivered, complete_order, request_refund, reject_refund, refund, expire_reservations.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.core.errors import InvalidTransition, PermissionDenied
from zhunong.core.events import publish_on_commit
from zhunong.core.integrity import ConcernKind, refusals_recorded, report_concern
from zhunong.core.statemachine import TransitionTable
from zhunong.core.text import clean_decimal, clean_text

from . import coupons, idempotency, inventory, pricing
from .addresses import Address
from .errors import (
    AlreadyPaid,
    AmountMismatch,
    CouponBelowCost,
    IdempotencyKeyReused,
    InvalidRefund,
    InventoryUnavailable,
    LimitExceeded,
    NotYourOrder,
    RefundExceedsPaid,
    ReservationExpired,
    SaleNotStarted,
    SoldOut,
)

# Flash sales and coupons live in their own module; these are services of this app as well.
from .flashsales import (
    cancel_flash_sale,
    claim_coupon,
    on_stock_returned,
    release_coupon,
    settle_sales,
    start_flash_sale,
    sync_sale,
    sync_sales,
)
from .models import CouponClaim, IdempotencyRecord, Order, OrderLine, OrderStatus, OrderTransition
from .purchase import LineDraft, Purchase, clean_key, clean_lines, write_purchases
from .selectors import (
    decides_for_lines,
    is_producer_side,
    is_seller,
    is_staff_over,
    requested_lines,
    status_before_request,
)
from .signals import order_refunded, order_transitioned

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

# A buyer with this many unpaid cancellations/expiries or refund requests in a day smells of 刷单/退单.
FAKE_ORDER_THRESHOLD = 5
FAKE_ORDER_WINDOW = dt.timedelta(hours=24)


def user_group(user_id: int) -> str:
    """Channel-layer group of one user's notifications (order status changes)."""
    return f"user.{user_id}"


# ---------------------------------------------------------------------------------------------------
# helpers


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


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


def _flag_fake_order_smell(buyer: User, *, why: str, order: Order) -> None:
    """Report one integrity concern when a buyer keeps abandoning or clawing back orders (刷单/退单)."""
    since = timezone.now() - FAKE_ORDER_WINDOW
    count = OrderTransition.objects.filter(
        order__buyer=buyer, at__gte=since,
    ).filter(Q(to_status=S.CANCELLED, from_status=S.RESERVED) | Q(to_status=S.REFUND_REQUESTED)).count()
    if count < FAKE_ORDER_THRESHOLD:
        return
    region = None
    line = order.lines.select_related("product__origin").first()
    if line is not None:
        region = line.product.origin
    abuse_log.warning("fake-order smell: buyer %s, %s orders abandoned or refunded in 24h (%s)", buyer.pk, count, why)
    # One flag per buyer a day: supervision drops repeats within `once_within`.
    report_concern(kind=ConcernKind.FAKE_ORDER,
                   summary=f"买家 {buyer} 24小时内 {count} 笔订单未支付取消或申请退款",
                   subject=buyer, region=region, once_within=FAKE_ORDER_WINDOW,
                   details={"buyer_id": buyer.pk, "count": count, "latest_order": order.number, "why": why})


# ---------------------------------------------------------------------------------------------------
# creation


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


@refusals_recorded("orders.coupon_refused", CouponBelowCost, actor="buyer", subject="stream")
def create_order(*, buyer: User, lines: Sequence[Mapping[str, int]] | Sequence[tuple[int, int]], stream=None,  # noqa: ANN001
                 idempotency_key: str, coupon_code: str | None = None, ship_to: Address | None = None) -> Order:
    """Reserve stock and create a `reserved` order, exactly once per (buyer, idempotency_key).

    `lines`: [{"product_id": id, "quantity": n}, ...]. With `stream`, products must be on its shelf and a
    running flash sale's price, stock and per-buyer limit apply. The order ships to `ship_to` (a cleaned
    address), else to the buyer's default address when they have one (purchase.write_purchases, both
    purchase paths). Raises SoldOut, LimitExceeded, IdempotencyKeyReused and validation errors; nothing
    changes when it raises. Checkouts that choose the coupon and the address go through
    services_checkout.place_order.

    Not wrapped in one transaction on purpose: with the Redis backend, stock is taken by a Lua script
    *before* the database transaction (so sold-out attempts never reach the database), and given back if
    that transaction fails.
    """
    if buyer is None or not buyer.is_authenticated:
        raise PermissionDenied("Log in to buy.")
    key = clean_key(idempotency_key)
    clean = clean_lines(lines)
    code = coupon_code.strip().upper() if isinstance(coupon_code, str) and coupon_code.strip() else None
    fingerprint = idempotency.request_fingerprint(lines=clean, stream_id=stream.pk if stream is not None else None,
                                                  coupon_code=code,
                                                  ship_to=ship_to.as_dict() if ship_to is not None else None)
    replay = _replay(buyer, key, fingerprint)
    if replay is not None:
        return replay
    now = timezone.now()
    try:
        try:
            return _create(buyer=buyer, clean=clean, stream=stream, key=key, code=code, fingerprint=fingerprint,
                           now=now, ship_to=ship_to)
        except inventory.ReservationsLost:
            # Redis lost the stock taken for this order before it committed (a flush, a restart): nothing
            # was created; take stock again from the rebuilt counter, once (docs/decisions/0014).
            try:
                return _create(buyer=buyer, clean=clean, stream=stream, key=key, code=code,
                               fingerprint=fingerprint, now=now, ship_to=ship_to)
            except inventory.ReservationsLost:
                raise InventoryUnavailable()
    except (SoldOut, LimitExceeded, SaleNotStarted) as exc:
        # Remember deterministic refusals, so a retry with this key answers the same (as Stripe does).
        idempotency.remember_failure(buyer_id=buyer.pk, key=key, fingerprint=fingerprint, code=exc.code,
                                     details=exc.details)
        raise


def _create(*, buyer: User, clean: list[tuple[int, int]], stream, key: str, code: str | None,  # noqa: ANN001
            fingerprint: str, now: dt.datetime, ship_to: Address | None) -> Order:
    priced = pricing.price_lines(clean, stream, now)
    claim, shares = pricing.apply_coupon(priced, buyer=buyer, stream=stream, code=code, now=now)
    takes = []
    for p in priced:
        if p.sale is not None:
            takes.append(inventory.Take(inventory.pool("sale", p.sale.pk), p.quantity, p.sale.per_buyer_limit))
        else:
            takes.append(inventory.Take(inventory.pool("product", p.product.pk), p.quantity, None))
    backend = inventory.get_backend()
    token = inventory.new_token()
    remaining = backend.reserve_outside(token=token, buyer_id=buyer.pk, takes=takes)
    committed = inventory.CommitFlag()
    order: Order | None = None
    try:
        with transaction.atomic():
            # First of the commit hooks, so it runs even when a later one (a stock frame, sync_sale) raises.
            transaction.on_commit(committed.set)
            remaining.update(backend.take_inside(buyer_id=buyer.pk, takes=takes))
            lines = [LineDraft(product_id=p.product.pk, producer_id=p.producer.pk, quantity=p.quantity,
                               unit_price=p.unit_price, line_total=p.total, discount_share=share,
                               sale_id=p.sale.pk if p.sale is not None else None, sale=p.sale, product=p.product)
                     for p, share in zip(priced, shares, strict=True)]
            [order] = write_purchases(purchases=[Purchase(
                buyer_id=buyer.pk, key=key, fingerprint=fingerprint, token=token, backend=backend.name,
                stream_id=stream.pk if stream is not None else None, lines=lines, takes=tuple(takes), claim=claim,
                remaining=remaining, ship_to=ship_to)], now=now)
            coupons.flag_below_cost(order=order, priced=priced, shares=shares,
                                    coupon=claim.coupon if claim is not None else None, buyer=buyer)
    except BaseException as exc:
        if committed and order is not None:
            # Django raises a failing commit hook out of atomic() after the commit: the order stands, and
            # so does its reservation; the step is retried by its own sweep (docs/reliability.md).
            inventory.count_post_commit_failure("create_order", exc)
            return order
        inventory.give_back_unless_recorded(backend, token=token)
        if isinstance(exc, IntegrityError):
            # Most likely the same key raced with itself: answer as the winner did.
            replay = _replay(buyer, key, fingerprint)
            if replay is not None:
                return replay
        raise
    assert order is not None
    return order


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
        for line in order.lines.filter(flash_sale__isnull=False).select_related("flash_sale"):
            on_stock_returned(sale=line.flash_sale)
    return released


# ---------------------------------------------------------------------------------------------------
# the state machine


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
    # The producers' ledger is credited by payments' receiver of order_transitioned (to paid), in this
    # transaction.
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
    if actor is not None and actor.pk != order.buyer_id and not is_staff_over(actor, order):
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
    if not decides_for_lines(actor, order, requested_lines(order) if lines is None else lines):
        raise PermissionDenied("Only the selling side of the requested lines decides refund requests.")
    return _transition(order, status_before_request(order), actor=actor, reason=f"refund refused: {reason}")


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
    # Payments records the refund, debits the producers and asks the gateway (its receiver, in this
    # transaction; the gateway after commit).
    order_refunded.send(sender=Order, order=order, amounts=amounts, reason=reason, actor=actor)
    return total


@transaction.atomic
def refund(*, order: Order, actor: User | None, amounts: dict[int, Decimal] | None = None, reason: str) -> Order:
    """Give money back through the payment gateway: everything left (amounts=None) or per line.

    A refund of everything paid ends in `refunded`; a partial one returns the order to where it was.
    Refunding more than a line's paid-and-not-yet-refunded amount is refused (nothing changes).
    """
    reason = clean_text(reason, field="reason", max_length=300)
    order = _lock(order)
    if actor is not None and not is_seller(actor, order) and not is_producer_side(actor, order):
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
        return _transition(order, status_before_request(order), actor=actor, reason=f"partial refund: {reason}",
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


__all__ = [
    "ORDER", "create_order", "mark_paid", "cancel_order", "mark_shipped", "mark_delivered", "complete_order",
    "request_refund", "reject_refund", "refund", "expire_reservations", "start_flash_sale", "cancel_flash_sale",
    "sync_sale", "sync_sales", "settle_sales", "release_coupon", "claim_coupon",
]
