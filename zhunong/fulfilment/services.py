"""Writes for fulfilment (一件代发) and after-sales. Every write is one transaction.

Four state machines, one table each, with their history:

    shipment     pending ─▶ packed ─▶ shipped ─▶ delivered          (+ exception, cancelled)
    after-sales  requested ─▶ approved ─▶ refunded  |  requested ─▶ rejected
    complaint    open ─▶ in_progress ─▶ resolved | dismissed
    pledge claim submitted ─▶ under_review ─▶ upheld ─▶ compensated  |  under_review ─▶ rejected

The order's own machine belongs to `zhunong.orders.services`; this module moves it only through
those services: all parcels shipped → mark_shipped, all delivered → mark_delivered, the after-sales
window closed → complete_order, refunds → request_refund / refund.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import import_module

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.accounts.selectors import is_platform_admin
from zhunong.core.errors import DomainError, PermissionDenied, ValidationFailed
from zhunong.core.statemachine import TransitionTable
from zhunong.core.text import clean_decimal, clean_text

from . import selectors
from .errors import (
    AfterSalesNotAllowed,
    AfterSalesOpen,
    AlreadyReviewed,
    BadRating,
    BadTrackingNumber,
    ClaimExceedsPledge,
    ClaimExists,
    ComplaintLimit,
    ConflictOfInterest,
    HostCannotReceive,
    NotBoughtInStream,
    NothingToConfirm,
    NotYourOrder,
    NotYourShipment,
    OrderNotPaid,
    PledgeCapExceeded,
    ProductNotInOrder,
    ProductNotInStream,
    PublicServantMustUseFund,
    RefundExceedsPaid,
    ReviewNotAllowed,
    StreamClosed,
    TrackingNumberInUse,
    UnknownCarrier,
)
from .models import (
    AfterSalesKind,
    AfterSalesReason,
    AfterSalesRequest,
    AfterSalesStatus,
    AfterSalesTransition,
    Carrier,
    ClaimStatus,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    ComplaintTransition,
    DeliveryConfirmation,
    Pledge,
    PledgeClaim,
    PledgeClaimTransition,
    PledgeFunding,
    Review,
    Shipment,
    ShipmentItem,
    ShipmentStatus,
    ShipmentTransition,
)

log = logging.getLogger(__name__)

S = ShipmentStatus
SHIPMENT = TransitionTable(
    "shipment",
    {
        S.PENDING: {S.PACKED, S.EXCEPTION, S.CANCELLED},
        S.PACKED: {S.SHIPPED, S.PENDING, S.EXCEPTION, S.CANCELLED},
        S.SHIPPED: {S.DELIVERED, S.EXCEPTION},
        # A problem is resolved by re-packing, by the parcel turning up in transit, or by the buyer
        # confirming that it arrived after all; or the line is refunded and the parcel cancelled.
        S.EXCEPTION: {S.PENDING, S.SHIPPED, S.DELIVERED, S.CANCELLED},
        S.DELIVERED: set(),
        S.CANCELLED: set(),
    },
)

A = AfterSalesStatus
AFTER_SALES = TransitionTable(
    "after_sales",
    {A.REQUESTED: {A.APPROVED, A.REJECTED}, A.APPROVED: {A.REFUNDED}, A.REJECTED: set(), A.REFUNDED: set()},
)

C = ComplaintStatus
COMPLAINT = TransitionTable(
    "complaint",
    {
        C.OPEN: {C.IN_PROGRESS, C.RESOLVED, C.DISMISSED},
        C.IN_PROGRESS: {C.RESOLVED, C.DISMISSED},
        C.RESOLVED: set(),
        C.DISMISSED: set(),
    },
)

K = ClaimStatus
CLAIM = TransitionTable(
    "pledge_claim",
    {
        K.SUBMITTED: {K.UNDER_REVIEW},
        K.UNDER_REVIEW: {K.UPHELD, K.REJECTED},
        K.UPHELD: {K.COMPENSATED},
        K.REJECTED: set(),
        K.COMPENSATED: set(),
    },
)

# Courier waybill numbers: letters, digits and dashes (SF1234567890123, YT..., 9876543210).
_TRACKING = re.compile(r"^[A-Za-z0-9-]{6,40}$")
MAX_AMOUNT = Decimal("1000000")


def _orders():  # noqa: ANN202
    # Imported late: orders imports catalog/live, and tests of this app may run before it is wired.
    return import_module("zhunong.orders.services")


def _order_models():  # noqa: ANN202
    return import_module("zhunong.orders.models")


def _as_seller(actor: User | None, order) -> User | None:  # noqa: ANN001
    """The actor to hand to orders' seller-side services.

    orders lets a user act for the seller only when they cover every line of the order; a producer
    manager of one parcel of a multi-producer order (or a co-op manager packing for a member) does not.
    Fulfilment has already authorised them for their part, so the order moves as the system (None) and
    the human is on record in this app's own history.
    """
    if actor is not None and _orders().is_seller(actor, order):
        return actor
    return None


def ship_within() -> dt.timedelta:
    return dt.timedelta(hours=settings.FULFILMENT_SHIP_WITHIN_HOURS)


def auto_confirm_after() -> dt.timedelta:
    return dt.timedelta(days=settings.FULFILMENT_AUTO_CONFIRM_DAYS)


def auto_complete_after() -> dt.timedelta:
    return dt.timedelta(days=settings.FULFILMENT_AUTO_COMPLETE_DAYS)


def _record(history_model, fk: str, obj, target: str, *, actor: User | None, reason: str = "") -> None:  # noqa: ANN001
    history_model.objects.create(**{fk: obj}, from_status=obj.status, to_status=target,
                                 actor=actor if getattr(actor, "is_authenticated", False) else None,
                                 reason=reason[:300])


# ---------------------------------------------------------------- routing (paid order → shipments)


@transaction.atomic
def route_order(*, order) -> list[Shipment]:  # noqa: ANN001
    """Route each line of a paid order to its producer's shipping point: one shipment per producer.

    Idempotent: lines already routed are skipped, so the payment hook, the periodic sweep and a retry
    can all call it. The shipping deadline runs from the moment of payment.
    """
    OrderStatus = _order_models().OrderStatus  # noqa: N806
    order = type(order).objects.select_for_update().get(pk=order.pk)
    if order.status != OrderStatus.PAID:
        raise OrderNotPaid(details={"status": order.status})
    paid_at = order.paid_at or timezone.now()
    deadline = paid_at + ship_within()
    unrouted = list(order.lines.select_related("producer__village").filter(shipment_item__isnull=True))
    touched: dict[int, Shipment] = {}
    for line in unrouted:
        producer = line.producer
        shipment = touched.get(producer.pk)
        if shipment is None:
            shipment, _created = Shipment.objects.get_or_create(
                order=order, producer=producer,
                defaults={"deadline": deadline,
                          "ship_from": producer.shipping_address or producer.village.full_name},
            )
            touched[producer.pk] = shipment
        ShipmentItem.objects.create(shipment=shipment, line=line, quantity=line.quantity)
    for shipment in touched.values():
        if not shipment.history.exists():
            ShipmentTransition.objects.create(shipment=shipment, from_status=S.PENDING, to_status=S.PENDING,
                                              reason=f"routed to {shipment.ship_from}"[:300])
    return list(order.shipments.all())


def orders_to_route():  # noqa: ANN201
    m = _order_models()
    return m.Order.objects.filter(status=m.OrderStatus.PAID, lines__shipment_item__isnull=True).distinct()


def route_paid_orders(*, limit: int = 500) -> int:
    """Safety net for the payment hook: route paid orders that have no shipment yet."""
    orders = list(orders_to_route().order_by("pk")[:limit])
    for order in orders:
        route_order(order=order)
    return len(orders)


# ---------------------------------------------------------------- shipments


def _lock_shipment(shipment: Shipment) -> Shipment:
    # The order's row first, then the parcel's: the order in which the orders app takes them (a seller's
    # cancel locks the order, then fulfilment cancels its parcels; setting the address likewise), so two
    # transactions on one order never wait on each other in a cycle (a deadlock PostgreSQL would break by
    # failing one of them).
    order_id = Shipment.objects.filter(pk=shipment.pk).values_list("order_id", flat=True).first()
    if order_id is not None:
        list(_order_models().Order.objects.select_for_update().filter(pk=order_id).values_list("pk", flat=True))
    return Shipment.objects.select_for_update().select_related("order", "producer__village").get(pk=shipment.pk)


def _require_handler(actor: User | None, shipment: Shipment) -> None:
    if actor is None or not selectors.can_handle_producer(actor, shipment.producer):
        raise NotYourShipment()


def _move(shipment: Shipment, target: str, *, actor: User | None, reason: str = "") -> Shipment:
    SHIPMENT.check(shipment.status, target)
    _record(ShipmentTransition, "shipment", shipment, target, actor=actor, reason=reason)
    shipment.status = target
    return shipment


@transaction.atomic
def pack_shipment(*, actor: User, shipment: Shipment) -> Shipment:
    shipment = _lock_shipment(shipment)
    _require_handler(actor, shipment)
    _move(shipment, S.PACKED, actor=actor, reason="packed")
    shipment.packed_at = timezone.now()
    shipment.save(update_fields=["status", "packed_at", "updated_at"])
    return shipment


def _clean_tracking(carrier: str, tracking_number: str) -> tuple[str, str]:
    if carrier not in Carrier.values:
        raise UnknownCarrier(details={"field": "carrier", "allowed": list(Carrier.values)})
    number = (tracking_number or "").strip().upper() if isinstance(tracking_number, str) else ""
    if not _TRACKING.match(number):
        raise BadTrackingNumber(details={"field": "tracking_number"})
    return carrier, number


@transaction.atomic
def ship_shipment(*, actor: User, shipment: Shipment, carrier: str, tracking_number: str) -> Shipment:
    """The producer hands the parcel to the courier: record courier and waybill number.

    A pending parcel is packed on the way (both steps recorded). Shipping after the deadline marks the
    parcel late even if the periodic check had not run yet. When every parcel of the order is on its
    way, the order becomes shipped.
    """
    shipment = _lock_shipment(shipment)
    _require_handler(actor, shipment)
    carrier, number = _clean_tracking(carrier, tracking_number)
    SHIPMENT.check(S.PACKED if shipment.status == S.PENDING else shipment.status, S.SHIPPED)
    if Shipment.objects.filter(carrier=carrier, tracking_number=number).exclude(pk=shipment.pk).exclude(
            status=S.CANCELLED).exists():
        raise TrackingNumberInUse(details={"field": "tracking_number"})
    now = timezone.now()
    if shipment.status == S.PENDING:
        _move(shipment, S.PACKED, actor=actor, reason="packed")
        shipment.packed_at = now
    _move(shipment, S.SHIPPED, actor=actor, reason=f"{carrier} {number}")
    shipment.carrier, shipment.tracking_number, shipment.shipped_at = carrier, number, now
    if now > shipment.deadline and not shipment.late:
        shipment.late, shipment.late_flagged_at = True, now
    shipment.save()
    _record_trace(shipment)
    _sync_order_shipped(shipment.order, actor=actor)
    return shipment


def _batches_in(shipment: Shipment):  # noqa: ANN202
    """The harvest batches a parcel's goods come from: its products' batches grown by this producer."""
    from zhunong.producers.models import HarvestBatch

    products = [item.line.product_id for item in shipment.items.select_related("line")]
    return HarvestBatch.objects.filter(products__in=products, plot__producer=shipment.producer).distinct()


def _record_trace(shipment: Shipment, *, receipt: bool = False) -> None:
    """Add an EPCIS shipping (or receiving) event to each batch in the parcel, if quality offers it.

    Keyed by the shipment, so a repeat records nothing twice. A refused trace event is logged and
    does not stop the parcel: a farmer must be able to ship even if a record cannot be written.
    """
    quality = import_module("zhunong.quality.services")
    record = getattr(quality, "record_receipt" if receipt else "record_shipment", None)
    if record is None:
        return
    reference = f"shipment-{shipment.pk}"
    for batch in _batches_in(shipment):
        try:
            with transaction.atomic():
                if receipt:
                    # The buyer's region is not known as a Region (only an address), so none is given.
                    record(batch=batch, received_at=shipment.delivered_at, region=None, reference=reference)
                else:
                    record(batch=batch, shipped_at=shipment.shipped_at, carrier=shipment.get_carrier_display(),
                           region=shipment.producer.village, reference=reference)
        except DomainError as exc:
            log.warning("trace event for batch %s of shipment %s refused: %s (%s)", batch.pk, shipment.pk,
                        exc.message, exc.code)


@transaction.atomic
def report_exception(*, actor: User, shipment: Shipment, reason: str) -> Shipment:
    """Lost, damaged in transit, out of stock: the producer or county staff record the problem."""
    shipment = _lock_shipment(shipment)
    _require_handler(actor, shipment)
    reason = clean_text(reason, field="reason", max_length=300)
    _move(shipment, S.EXCEPTION, actor=actor, reason=reason)
    shipment.exception_reason = reason
    shipment.save(update_fields=["status", "exception_reason", "updated_at"])
    return shipment


@transaction.atomic
def resolve_exception(*, actor: User, shipment: Shipment, resume: str, reason: str) -> Shipment:
    """Back to `pending` (re-pack and re-send) or `shipped` (the parcel is moving again)."""
    shipment = _lock_shipment(shipment)
    _require_handler(actor, shipment)
    if shipment.status != S.EXCEPTION or resume not in (S.PENDING, S.SHIPPED):
        raise ValidationFailed("resume: pending or shipped, from an exception.", details={"field": "resume"})
    if resume == S.SHIPPED and not shipment.tracking_number:
        raise BadTrackingNumber("The parcel has no tracking number; ship it instead.")
    reason = clean_text(reason, field="reason", max_length=300)
    _move(shipment, resume, actor=actor, reason=reason)
    if resume == S.PENDING:
        # A re-sent parcel gets a new waybill; the old one stays in the history.
        shipment.carrier, shipment.tracking_number, shipment.shipped_at = "", "", None
    shipment.save()
    if resume == S.SHIPPED:
        _sync_order_shipped(shipment.order, actor=actor)
    return shipment


def _live_shipments(order) -> list[Shipment]:  # noqa: ANN001
    return list(order.shipments.exclude(status=S.CANCELLED))


def _sync_order_shipped(order, *, actor: User | None) -> bool:  # noqa: ANN001
    """mark_shipped once every parcel of a paid order has left (an order whose refund is pending
    waits; the periodic sweep catches it up)."""
    OrderStatus = _order_models().OrderStatus  # noqa: N806
    order.refresh_from_db(fields=["status"])
    live = _live_shipments(order)
    if order.status != OrderStatus.PAID or not live:
        return False
    if all(s.status in (S.SHIPPED, S.DELIVERED) for s in live):
        _orders().mark_shipped(order=order, actor=_as_seller(actor, order))
        return True
    return False


def _sync_order_delivered(order, *, actor: User | None) -> bool:  # noqa: ANN001
    OrderStatus = _order_models().OrderStatus  # noqa: N806
    order.refresh_from_db(fields=["status"])
    if order.status == OrderStatus.PAID:
        _sync_order_shipped(order, actor=actor)
        order.refresh_from_db(fields=["status"])
    live = _live_shipments(order)
    if order.status != OrderStatus.SHIPPED or not live:
        return False
    if all(s.status == S.DELIVERED for s in live):
        buyer = actor is not None and actor.pk == order.buyer_id
        _orders().mark_delivered(order=order, actor=actor if buyer else _as_seller(actor, order))
        return True
    return False


def _deliver(shipment: Shipment, *, actor: User | None, how: str, reason: str) -> Shipment:
    _move(shipment, S.DELIVERED, actor=actor, reason=reason)
    shipment.delivered_at = timezone.now()
    shipment.delivery_confirmation = how
    shipment.save(update_fields=["status", "delivered_at", "delivery_confirmation", "updated_at"])
    _record_trace(shipment, receipt=True)
    return shipment


def _confirmer(actor: User, order) -> str:  # noqa: ANN001
    if actor.is_authenticated and actor.pk == order.buyer_id:
        return DeliveryConfirmation.BUYER
    if actor.is_authenticated and (is_platform_admin(actor) or any(
            selectors.is_county_staff_for(actor, s.producer.village) for s in order.shipments.all())):
        return DeliveryConfirmation.STAFF
    raise NotYourOrder()


@transaction.atomic
def confirm_delivery(*, actor: User, shipment: Shipment) -> Shipment:
    """The buyer confirms one parcel arrived (确认收货)."""
    shipment = _lock_shipment(shipment)
    how = _confirmer(actor, shipment.order)
    if shipment.status not in (S.SHIPPED, S.EXCEPTION):
        raise NothingToConfirm(details={"status": shipment.status})
    _deliver(shipment, actor=actor, how=how, reason="confirmed by buyer" if how == "buyer" else "confirmed by staff")
    _sync_order_delivered(shipment.order, actor=actor)
    return shipment


@transaction.atomic
def confirm_order_delivery(*, actor: User, order) -> list[Shipment]:  # noqa: ANN001
    """The buyer's button on their order: every shipped parcel of it arrived."""
    order = type(order).objects.select_for_update().get(pk=order.pk)
    how = _confirmer(actor, order)
    shipments = list(Shipment.objects.select_for_update().filter(order=order, status__in=(S.SHIPPED, S.EXCEPTION))
                     .exclude(status=S.EXCEPTION, tracking_number=""))
    if not shipments:
        raise NothingToConfirm()
    for shipment in shipments:
        _deliver(shipment, actor=actor, how=how, reason="confirmed by buyer" if how == "buyer" else "confirmed by staff")
    _sync_order_delivered(order, actor=actor)
    return shipments


# ---------------------------------------------------------------- periodic work


@dataclass
class SweepResult:
    routed: int = 0
    flagged_late: list[int] = field(default_factory=list)
    auto_confirmed: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)
    orders_synced: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"routed": self.routed, "flagged_late": self.flagged_late, "auto_confirmed": self.auto_confirmed,
                "completed": self.completed, "orders_synced": self.orders_synced, "cancelled": self.cancelled, "errors": self.errors}


@transaction.atomic
def flag_late_shipments(*, now: dt.datetime | None = None) -> list[int]:
    """Flag open parcels past their shipping deadline. Each parcel is flagged once; the flag stays."""
    now = now or timezone.now()
    ids = list(selectors.overdue_unflagged(now).select_for_update().values_list("pk", flat=True))
    Shipment.objects.filter(pk__in=ids, late=False).update(late=True, late_flagged_at=now, updated_at=now)
    for shipment in Shipment.objects.filter(pk__in=ids).select_related("producer"):
        log.info("shipment %s of order %s late (deadline %s, producer %s)", shipment.pk, shipment.order_id,
                 shipment.deadline, shipment.producer)
    return ids


def due_for_auto_confirm(now: dt.datetime | None = None):  # noqa: ANN201
    now = now or timezone.now()
    return Shipment.objects.filter(status=S.SHIPPED, shipped_at__lte=now - auto_confirm_after())


def auto_confirm_deliveries(*, now: dt.datetime | None = None) -> list[int]:
    """Parcels shipped N days ago and never confirmed are confirmed by the platform (one transaction each,
    so one order's problem cannot hold back the others)."""
    done = []
    days = settings.FULFILMENT_AUTO_CONFIRM_DAYS
    for pk in list(due_for_auto_confirm(now).values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                shipment = _lock_shipment(Shipment(pk=pk))
                if shipment.status != S.SHIPPED:
                    continue
                _deliver(shipment, actor=None, how=DeliveryConfirmation.AUTO,
                         reason=f"auto-confirmed {days} days after shipping")
                _sync_order_delivered(shipment.order, actor=None)
                done.append(pk)
        except DomainError as exc:
            log.warning("auto-confirming shipment %s refused: %s (%s)", pk, exc.message, exc.code)
    return done


def due_for_completion(now: dt.datetime | None = None):  # noqa: ANN201
    """Delivered orders whose last parcel arrived more than N days ago, with no open after-sales request."""
    now = now or timezone.now()
    m = _order_models()
    return (m.Order.objects.filter(status=m.OrderStatus.DELIVERED)
            .annotate(last_delivered=Max("shipments__delivered_at"))
            .filter(last_delivered__lte=now - auto_complete_after())
            .exclude(after_sales__status__in=AfterSalesRequest.OPEN_STATUSES))


def complete_delivered_orders(*, now: dt.datetime | None = None) -> list[int]:
    done = []
    for order in list(due_for_completion(now)):
        try:
            with transaction.atomic():
                _orders().complete_order(order=order, actor=None)
                done.append(order.pk)
        except DomainError as exc:
            log.warning("completing order %s refused: %s (%s)", order.pk, exc.message, exc.code)
    return done


def orders_out_of_step():  # noqa: ANN201
    """Paid or shipped orders whose parcels are further along than the order itself — e.g. the last
    parcel left or arrived while a refund request held the order in refund_requested."""
    m = _order_models()
    live = Shipment.objects.filter(order=OuterRef("pk")).exclude(status=S.CANCELLED)
    paid_behind = Q(status=m.OrderStatus.PAID) & ~Exists(live.exclude(status__in=(S.SHIPPED, S.DELIVERED)))
    shipped_behind = Q(status=m.OrderStatus.SHIPPED) & ~Exists(live.exclude(status=S.DELIVERED))
    return m.Order.objects.filter(Exists(live)).filter(paid_behind | shipped_behind)


def sync_order_statuses() -> list[int]:
    done = []
    for order in list(orders_out_of_step()):
        try:
            with transaction.atomic():
                before = order.status
                _sync_order_delivered(order, actor=None)
                order.refresh_from_db(fields=["status"])
                if order.status != before:
                    done.append(order.pk)
        except DomainError as exc:
            log.warning("catching up order %s refused: %s (%s)", order.pk, exc.message, exc.code)
    return done


def sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Everything time-driven, in order: route, cancel parcels of dead orders, flag late, catch up order statuses,
    auto-confirm, complete.

    Each step runs on its own, so a failure in one is reported and the others still run."""
    result = SweepResult()
    steps = [
        ("route", lambda: setattr(result, "routed", route_paid_orders())),
        ("cancel", lambda: result.cancelled.extend(cancel_orphaned_shipments())),
        ("late", lambda: result.flagged_late.extend(flag_late_shipments(now=now))),
        ("orders", lambda: result.orders_synced.extend(sync_order_statuses())),
        ("confirm", lambda: result.auto_confirmed.extend(auto_confirm_deliveries(now=now))),
        ("complete", lambda: result.completed.extend(complete_delivered_orders(now=now))),
    ]
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # keep the other steps running; the error is logged and reported
            log.exception("fulfilment sweep step %s failed", name)
            result.errors.append(f"{name}: {exc}")
    return result


# ---------------------------------------------------------------- cancellation when an order is refunded


@transaction.atomic
def cancel_open_shipments(*, order, actor: User | None, reason: str) -> list[int]:  # noqa: ANN001
    """Called when an order is cancelled or fully refunded before its parcels left."""
    cancelled = []
    for shipment in Shipment.objects.select_for_update().filter(order=order, status__in=Shipment.OPEN_STATUSES):
        _move(shipment, S.CANCELLED, actor=actor, reason=reason)
        shipment.save(update_fields=["status", "updated_at"])
        cancelled.append(shipment.pk)
    return cancelled


def orphaned_shipments():  # noqa: ANN201
    """Unsent parcels with nothing left to send: the order was cancelled or refunded, or every line in
    the parcel has been refunded in full."""
    m = _order_models()
    still_paid = ShipmentItem.objects.filter(
        shipment=OuterRef("pk"), line__refunded_amount__lt=F("line__line_total") - F("line__discount_share"))
    return Shipment.objects.filter(status__in=Shipment.OPEN_STATUSES).filter(
        Q(order__status__in=(m.OrderStatus.CANCELLED, m.OrderStatus.REFUNDED)) | ~Exists(still_paid))


def cancel_orphaned_shipments(*, actor: User | None = None, order=None) -> list[int]:  # noqa: ANN001
    done = []
    qs = orphaned_shipments()
    if order is not None:
        qs = qs.filter(order=order)
    for pk in list(qs.values_list("pk", flat=True)):
        with transaction.atomic():
            shipment = _lock_shipment(Shipment(pk=pk))
            if shipment.status not in Shipment.OPEN_STATUSES:
                continue
            _move(shipment, S.CANCELLED, actor=actor, reason="nothing left to send (refunded or cancelled)")
            shipment.save(update_fields=["status", "updated_at"])
            done.append(pk)
    return done


# ---------------------------------------------------------------- after-sales


def _line_shipment(line) -> Shipment | None:  # noqa: ANN001
    item = ShipmentItem.objects.select_related("shipment").filter(line=line).first()
    return item.shipment if item else None


def _after_sales_statuses() -> set[str]:
    s = _order_models().OrderStatus
    return {s.PAID, s.SHIPPED, s.DELIVERED, s.COMPLETED, s.REFUND_REQUESTED}


@transaction.atomic
def request_after_sales(*, actor: User, line, kind: str, reason: str, evidence: str,  # noqa: ANN001
                        amount: object | None = None) -> AfterSalesRequest:
    """The buyer asks for a refund (or return and refund) of one line, with a reason and evidence.

    The order goes to refund_requested through orders.request_refund; the amount can be at most what
    is left to refund on the line. Several lines may have requests at once (one open request per line).
    """
    OrderLine = _order_models().OrderLine  # noqa: N806
    line = OrderLine.objects.select_related("order", "producer").get(pk=line.pk)
    order = line.order
    if actor is None or not actor.is_authenticated or order.buyer_id != actor.pk:
        raise NotYourOrder()
    if kind not in AfterSalesKind.values:
        raise ValidationFailed("kind: refund_only or return_refund.", details={"field": "kind"})
    if reason not in AfterSalesReason.values:
        raise ValidationFailed("reason: unknown reason.", details={"field": "reason",
                                                                   "allowed": list(AfterSalesReason.values)})
    evidence = clean_text(evidence, field="evidence", max_length=1000, multiline=True)
    if order.status not in _after_sales_statuses():
        raise AfterSalesNotAllowed(details={"status": order.status})
    shipment = _line_shipment(line)
    if kind == AfterSalesKind.RETURN_REFUND and (shipment is None or shipment.status not in (S.SHIPPED, S.DELIVERED)):
        raise AfterSalesNotAllowed("Nothing to return: this line has not been shipped.",
                                   details={"field": "kind"})
    if AfterSalesRequest.objects.filter(line=line, status__in=AfterSalesRequest.OPEN_STATUSES).exists():
        raise AfterSalesOpen()
    refundable = line.refundable
    amount_d = refundable if amount in (None, "") else clean_decimal(amount, field="amount", max_value=MAX_AMOUNT)
    if amount_d <= 0 or amount_d > refundable:
        raise RefundExceedsPaid(details={"field": "amount", "refundable": str(refundable)})
    request = AfterSalesRequest.objects.create(order=order, line=line, producer=line.producer, buyer=actor,
                                               kind=kind, reason=reason, evidence=evidence, amount=amount_d)
    AfterSalesTransition.objects.create(request=request, from_status=A.REQUESTED, to_status=A.REQUESTED,
                                        actor=actor, reason=f"{reason}: {evidence}"[:300])
    if order.status != _order_models().OrderStatus.REFUND_REQUESTED:
        # A second line's request while the order already awaits a refund decision leaves it there.
        _orders().request_refund(order=order, actor=actor, reason=f"{reason}: {evidence}"[:300],
                                 lines={line.pk: amount_d})
    return request


def _lock_request(request: AfterSalesRequest) -> AfterSalesRequest:
    return AfterSalesRequest.objects.select_for_update().select_related("order", "line", "producer__village").get(
        pk=request.pk)


def _require_after_sales_handler(actor: User | None, request: AfterSalesRequest) -> None:
    if actor is None or not selectors.can_handle_producer(actor, request.producer):
        raise PermissionDenied("Only the producer's managers or county staff decide this request.")


def _move_request(request: AfterSalesRequest, target: str, *, actor: User | None, reason: str) -> None:
    AFTER_SALES.check(request.status, target)
    _record(AfterSalesTransition, "request", request, target, actor=actor, reason=reason)
    request.status = target


@transaction.atomic
def approve_after_sales(*, actor: User, request: AfterSalesRequest, note: str = "",
                        refund_now: bool = True) -> AfterSalesRequest:
    """Agree to the refund; with `refund_now` (the default) the money goes back in the same step."""
    request = _lock_request(request)
    _require_after_sales_handler(actor, request)
    note = clean_text(note, field="note", max_length=300, required=False)
    _move_request(request, A.APPROVED, actor=actor, reason=note or "approved")
    request.decision_note, request.decided_by, request.decided_at = note, actor, timezone.now()
    request.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    if refund_now:
        return _refund(request, actor=actor)
    return request


@transaction.atomic
def refund_after_sales(*, actor: User, request: AfterSalesRequest) -> AfterSalesRequest:
    request = _lock_request(request)
    _require_after_sales_handler(actor, request)
    return _refund(request, actor=actor)


def _refund(request: AfterSalesRequest, *, actor: User) -> AfterSalesRequest:
    AFTER_SALES.check(request.status, A.REFUNDED)
    # orders.refund is the authority on how much may still be refunded; it refuses more than was paid.
    _orders().refund(order=request.order, actor=_as_seller(actor, request.order),
                     amounts={request.line_id: request.amount}, reason=f"after-sales #{request.pk}: {request.reason}")
    _move_request(request, A.REFUNDED, actor=actor, reason=f"refunded {request.amount}")
    request.refunded_at = timezone.now()
    request.save(update_fields=["status", "refunded_at"])
    # A parcel whose every line is now refunded in full has nothing left to send, and the order may now
    # be as far along as its remaining parcels.
    cancel_orphaned_shipments(actor=actor, order=request.order)
    _sync_order_delivered(request.order, actor=actor)
    return request


@transaction.atomic
def reject_after_sales(*, actor: User, request: AfterSalesRequest, note: str) -> AfterSalesRequest:
    """Refuse with a reason the buyer sees; the buyer can still complain to the county."""
    request = _lock_request(request)
    _require_after_sales_handler(actor, request)
    note = clean_text(note, field="note", max_length=300)
    _move_request(request, A.REJECTED, actor=actor, reason=note)
    request.decision_note, request.decided_by, request.decided_at = note, actor, timezone.now()
    request.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    order = request.order
    order.refresh_from_db(fields=["status"])
    others_open = AfterSalesRequest.objects.filter(order=order, status__in=AfterSalesRequest.OPEN_STATUSES).exists()
    if order.status == _order_models().OrderStatus.REFUND_REQUESTED and not others_open:
        # orders puts the order back where it was before the request; it may now be behind its parcels.
        _orders().reject_refund(order=order, actor=actor, reason=note, lines=[request.line_id])
        _sync_order_delivered(order, actor=actor)
    return request


# ---------------------------------------------------------------- complaints


MAX_OPEN_COMPLAINTS_PER_ORDER = 3


@transaction.atomic
def file_complaint(*, actor: User, order, category: str, text: str, line=None) -> Complaint:  # noqa: ANN001
    """A buyer's complaint (投诉) about an order, to the county office of the producer's county."""
    OrderStatus = _order_models().OrderStatus  # noqa: N806
    order = type(order).objects.select_for_update().get(pk=order.pk)
    if actor is None or not actor.is_authenticated or order.buyer_id != actor.pk:
        raise NotYourOrder()
    if order.status == OrderStatus.RESERVED:
        raise OrderNotPaid("Complaints are about paid orders.")
    if category not in ComplaintCategory.values:
        raise ValidationFailed("category: unknown category.", details={"field": "category",
                                                                       "allowed": list(ComplaintCategory.values)})
    text = clean_text(text, field="text", max_length=2000, multiline=True)
    if line is not None and line.order_id != order.pk:
        raise ValidationFailed("line: not a line of this order.", details={"field": "line"})
    if Complaint.objects.filter(order=order, status__in=(C.OPEN, C.IN_PROGRESS)).count() >= MAX_OPEN_COMPLAINTS_PER_ORDER:
        raise ComplaintLimit()
    anchor = line or order.lines.select_related("producer__village").first()
    producer = anchor.producer if anchor is not None else None
    region = None
    if producer is not None:
        region = producer.village.ancestor_at("county") or producer.village
    elif order.stream_id:
        region = order.stream.channel.county
    if region is None:
        raise ValidationFailed("order: cannot tell which county handles it.", details={"field": "order"})
    complaint = Complaint.objects.create(buyer=actor, order=order, line=line, producer=producer, region=region,
                                         category=category, text=text)
    ComplaintTransition.objects.create(complaint=complaint, from_status=C.OPEN, to_status=C.OPEN, actor=actor,
                                       reason="filed")
    return complaint


@transaction.atomic
def update_complaint(*, actor: User, complaint: Complaint, status: str, note: str = "") -> Complaint:
    """County staff take up, resolve or dismiss a complaint; resolving or dismissing needs a note."""
    complaint = Complaint.objects.select_for_update().select_related("region").get(pk=complaint.pk)
    if actor is None or not selectors.is_county_staff_for(actor, complaint.region):
        raise PermissionDenied("Only the county office handles complaints.")
    if status not in ComplaintStatus.values:
        raise ValidationFailed("status: unknown status.", details={"field": "status"})
    note = clean_text(note, field="note", max_length=500, required=status in (C.RESOLVED, C.DISMISSED),
                      multiline=True)
    COMPLAINT.check(complaint.status, status)
    ComplaintTransition.objects.create(complaint=complaint, from_status=complaint.status, to_status=status,
                                       actor=actor, reason=note)
    complaint.status = status
    complaint.handled_by = actor
    if note:
        complaint.resolution = note
    complaint.save(update_fields=["status", "handled_by", "resolution", "updated_at"])
    return complaint


# ---------------------------------------------------------------- reviews


@transaction.atomic
def create_review(*, actor: User, line, rating: object, text: str = "") -> Review:  # noqa: ANN001
    """A buyer reviews one delivered line, once."""
    OrderLine = _order_models().OrderLine  # noqa: N806
    line = OrderLine.objects.select_for_update().select_related("order").get(pk=line.pk)
    if actor is None or not actor.is_authenticated or line.order.buyer_id != actor.pk:
        raise NotYourOrder()
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise BadRating(details={"field": "rating"})
    text = clean_text(text, field="text", max_length=500, required=False, multiline=True)
    shipment = _line_shipment(line)
    if shipment is None or shipment.status != S.DELIVERED:
        raise ReviewNotAllowed()
    if Review.objects.filter(line=line).exists():
        raise AlreadyReviewed()
    try:
        with transaction.atomic():
            return Review.objects.create(line=line, product_id=line.product_id, producer_id=line.producer_id,
                                         buyer=actor, rating=rating, text=text)
    except IntegrityError:
        raise AlreadyReviewed()


@transaction.atomic
def hide_review(*, actor: User, review: Review, reason: str) -> Review:
    """County staff hide abusive text (insults, personal data); the rating still counts."""
    review = Review.objects.select_for_update().select_related("producer__village").get(pk=review.pk)
    if actor is None or not selectors.is_county_staff_for(actor, review.producer.village):
        raise PermissionDenied("Only county staff moderate reviews.")
    review.visible = False
    review.hidden_reason = clean_text(reason, field="reason", max_length=300)
    review.save(update_fields=["visible", "hidden_reason"])
    return review


# ---------------------------------------------------------------- host pledges (先行赔付)


def _stream_staff(actor: User | None, stream) -> bool:  # noqa: ANN001
    return actor is not None and selectors.is_county_staff_for(actor, stream.channel.county)


@transaction.atomic
def create_pledge(*, actor: User, stream, terms: str, max_per_claim: object, funded_by: str,  # noqa: ANN001
                  product=None, total_cap: object | None = None) -> Pledge:  # noqa: ANN001
    """The stream's host (or county staff for them) promises compensation if a claim holds.

    A public servant host's pledge is paid from the platform's pledge fund, never privately, and no
    host ever receives money from a pledge.
    """
    from zhunong.live.models import StreamStatus

    host = stream.host
    if actor is None or not (actor.pk == host.user_id or _stream_staff(actor, stream)):
        raise PermissionDenied("Only the stream's host or county staff make its pledges.")
    if stream.status not in (StreamStatus.SCHEDULED, StreamStatus.LIVE):
        raise StreamClosed(details={"status": stream.status})
    if funded_by not in PledgeFunding.values:
        raise ValidationFailed("funded_by: host or platform_fund.", details={"field": "funded_by"})
    if host.is_public_servant and funded_by != PledgeFunding.PLATFORM_FUND:
        raise PublicServantMustUseFund(details={"field": "funded_by"})
    if product is not None and not stream.products.filter(pk=product.pk).exists():
        raise ProductNotInStream(details={"field": "product_id"})
    max_d = clean_decimal(max_per_claim, field="max_per_claim", max_value=MAX_AMOUNT)
    cap_d = None
    if total_cap not in (None, ""):
        cap_d = clean_decimal(total_cap, field="total_cap", max_value=Decimal("100000000"))
        if cap_d < max_d:
            raise ValidationFailed("total_cap: at least max_per_claim.", details={"field": "total_cap"})
    return Pledge.objects.create(stream=stream, host=host, product=product,
                                 terms=clean_text(terms, field="terms", max_length=300),
                                 max_per_claim=max_d, total_cap=cap_d, funded_by=funded_by, created_by=actor)


def _claim_eligible_statuses() -> set[str]:
    s = _order_models().OrderStatus
    return {s.PAID, s.SHIPPED, s.DELIVERED, s.COMPLETED, s.REFUND_REQUESTED}


@transaction.atomic
def submit_claim(*, actor: User, pledge: Pledge, order, amount: object, text: str) -> PledgeClaim:  # noqa: ANN001
    """A buyer who paid for an order in the pledge's stream claims compensation."""
    from zhunong.live.models import Host

    order = type(order).objects.select_for_update().get(pk=order.pk)
    if actor is None or not actor.is_authenticated or order.buyer_id != actor.pk:
        raise NotYourOrder()
    if order.stream_id != pledge.stream_id or order.status not in _claim_eligible_statuses():
        raise NotBoughtInStream(details={"order_status": order.status})
    if actor.pk == pledge.host.user_id or Host.objects.filter(user=actor, is_public_servant=True).exists():
        raise HostCannotReceive()
    if pledge.product_id and not order.lines.filter(product_id=pledge.product_id).exists():
        raise ProductNotInOrder()
    amount_d = clean_decimal(amount, field="amount", max_value=MAX_AMOUNT)
    if amount_d > pledge.max_per_claim:
        raise ClaimExceedsPledge(details={"field": "amount", "max_per_claim": str(pledge.max_per_claim)})
    text = clean_text(text, field="text", max_length=1000, multiline=True)
    if PledgeClaim.objects.filter(pledge=pledge, order=order).exists():
        raise ClaimExists()
    try:
        with transaction.atomic():
            claim = PledgeClaim.objects.create(pledge=pledge, order=order, claimant=actor, text=text,
                                               amount=amount_d)
    except IntegrityError:
        raise ClaimExists()
    PledgeClaimTransition.objects.create(claim=claim, from_status=K.SUBMITTED, to_status=K.SUBMITTED,
                                         actor=actor, reason="submitted")
    return claim


def _lock_claim(claim: PledgeClaim) -> PledgeClaim:
    return PledgeClaim.objects.select_for_update().select_related(
        "pledge__stream__channel__county", "pledge__host").get(pk=claim.pk)


def _require_claim_decider(actor: User | None, claim: PledgeClaim) -> None:
    if actor is not None and actor.pk == claim.pledge.host.user_id:
        raise ConflictOfInterest()
    if not _stream_staff(actor, claim.pledge.stream):
        raise PermissionDenied("Only the county office decides pledge claims.")


def _move_claim(claim: PledgeClaim, target: str, *, actor: User, reason: str) -> None:
    CLAIM.check(claim.status, target)
    PledgeClaimTransition.objects.create(claim=claim, from_status=claim.status, to_status=target, actor=actor,
                                         reason=reason[:500])
    claim.status = target


@transaction.atomic
def start_claim_review(*, actor: User, claim: PledgeClaim) -> PledgeClaim:
    claim = _lock_claim(claim)
    _require_claim_decider(actor, claim)
    _move_claim(claim, K.UNDER_REVIEW, actor=actor, reason="review started")
    claim.save(update_fields=["status"])
    return claim


@transaction.atomic
def decide_claim(*, actor: User, claim: PledgeClaim, upheld: bool, reason: str) -> PledgeClaim:
    """Uphold or reject with the reason on record (who, when, why)."""
    claim = _lock_claim(claim)
    _require_claim_decider(actor, claim)
    if not isinstance(upheld, bool):
        raise ValidationFailed("upheld: true or false.", details={"field": "upheld"})
    reason = clean_text(reason, field="reason", max_length=500, multiline=True)
    _move_claim(claim, K.UPHELD if upheld else K.REJECTED, actor=actor, reason=reason)
    claim.decision_reason, claim.decided_by, claim.decided_at = reason, actor, timezone.now()
    claim.save(update_fields=["status", "decision_reason", "decided_by", "decided_at"])
    return claim


@transaction.atomic
def compensate_claim(*, actor: User, claim: PledgeClaim, amount: object, reference: str) -> PledgeClaim:
    """Record that the buyer was paid: how much, from which source, under which transfer reference."""
    claim = _lock_claim(claim)
    _require_claim_decider(actor, claim)
    CLAIM.check(claim.status, K.COMPENSATED)
    pledge = Pledge.objects.select_for_update().get(pk=claim.pledge_id)
    amount_d = clean_decimal(amount, field="amount", max_value=MAX_AMOUNT)
    if amount_d > claim.amount or amount_d > pledge.max_per_claim:
        raise ClaimExceedsPledge(details={"field": "amount", "claimed": str(claim.amount),
                                          "max_per_claim": str(pledge.max_per_claim)})
    if pledge.total_cap is not None and selectors.compensated_total(pledge) + amount_d > pledge.total_cap:
        raise PledgeCapExceeded(details={"total_cap": str(pledge.total_cap),
                                         "paid": str(selectors.compensated_total(pledge))})
    reference = clean_text(reference, field="reference", max_length=64)
    _move_claim(claim, K.COMPENSATED, actor=actor, reason=f"{amount_d} from {pledge.funded_by}, ref {reference}")
    claim.compensated_amount, claim.paid_from = amount_d, pledge.funded_by
    claim.compensation_ref, claim.compensated_at = reference, timezone.now()
    claim.save(update_fields=["status", "compensated_amount", "paid_from", "compensation_ref", "compensated_at"])
    return claim
