"""Parcels (一件代发): routing a paid order to its producers, the shipment state machine, delivery, and
the time-driven steps (late flags, auto-confirmation, completion, catching orders up, cancelling parcels
with nothing left to send).

    pending ─▶ packed ─▶ shipped ─▶ delivered          (+ exception, cancelled)

When every parcel of an order has left, the order is marked shipped; when every parcel arrived, delivered
(through orders' services).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.core.errors import DomainError, ValidationFailed
from zhunong.core.statemachine import TransitionTable
from zhunong.core.text import clean_text
from zhunong.orders import services as orders_services
from zhunong.orders.models import Order, OrderStatus
from zhunong.quality import services as quality_services

from .. import selectors
from ..errors import (
    BadTrackingNumber,
    NothingToConfirm,
    NotYourShipment,
    OrderNotPaid,
    TrackingNumberInUse,
    not_your_order,
)
from ..models import DeliveryConfirmation, Shipment, ShipmentItem, ShipmentStatus, ShipmentTransition
from ..rules import clean_tracking, ship_within
from ._common import as_seller, record_transition

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


# ---------------------------------------------------------------- routing (paid order → shipments)


@transaction.atomic
def route_order(*, order: Order) -> list[Shipment]:
    """Route each line of a paid order to its producer's shipping point: one shipment per producer.

    Idempotent: lines already routed are skipped, so the payment hook, the periodic sweep and a retry
    can all call it. The shipping deadline runs from the moment of payment.
    """
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


def route_paid_orders(*, limit: int = 500) -> int:
    """Safety net for the payment hook: route paid orders that have no shipment yet."""
    orders = list(selectors.orders_to_route().order_by("pk")[:limit])
    for order in orders:
        route_order(order=order)
    return len(orders)


# ---------------------------------------------------------------- the producer's side


def _lock_shipment(shipment: Shipment) -> Shipment:
    """Lock the parcel for a change, its order's row first.

    The order in which the orders app takes them (a seller's cancel locks the order, then fulfilment
    cancels its parcels; setting the address likewise), so two transactions on one order never wait on
    each other in a cycle (a deadlock PostgreSQL would break by failing one of them).
    """
    order_id = Shipment.objects.filter(pk=shipment.pk).values_list("order_id", flat=True).first()
    if order_id is not None:
        list(Order.objects.select_for_update().filter(pk=order_id).values_list("pk", flat=True))
    return Shipment.objects.select_for_update().select_related("order", "producer__village").get(pk=shipment.pk)


def _require_handler(actor: User | None, shipment: Shipment) -> None:
    if not policy.can(actor, "shipment.handle", shipment.producer):
        raise NotYourShipment()


def _move(shipment: Shipment, target: str, *, actor: User | None, reason: str = "") -> Shipment:
    SHIPMENT.check(shipment.status, target)
    record_transition(ShipmentTransition, "shipment", shipment, target, actor=actor, reason=reason)
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


@transaction.atomic
def ship_shipment(*, actor: User, shipment: Shipment, carrier: str, tracking_number: str) -> Shipment:
    """The producer hands the parcel to the courier: record courier and waybill number.

    A pending parcel is packed on the way (both steps recorded). Shipping after the deadline marks the
    parcel late even if the periodic check had not run yet. When every parcel of the order is on its
    way, the order becomes shipped.
    """
    shipment = _lock_shipment(shipment)
    _require_handler(actor, shipment)
    carrier, number = clean_tracking(carrier, tracking_number)
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


def _record_trace(shipment: Shipment, *, receipt: bool = False) -> None:
    """Add an EPCIS shipping (or receiving) event to each batch in the parcel.

    Keyed by the shipment, so a repeat records nothing twice. A refused trace event is logged and
    does not stop the parcel: a farmer must be able to ship even if a record cannot be written.
    """
    reference = f"shipment-{shipment.pk}"
    for batch in selectors.batches_in(shipment):
        try:
            with transaction.atomic():
                if receipt:
                    # The buyer's region is not known as a Region (only an address), so none is given.
                    quality_services.record_receipt(batch=batch, received_at=shipment.delivered_at, region=None,
                                                    reference=reference)
                else:
                    quality_services.record_shipment(batch=batch, shipped_at=shipment.shipped_at,
                                                     carrier=shipment.get_carrier_display(),
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


# ---------------------------------------------------------------- keeping the order in step with its parcels


def _live_shipments(order: Order) -> list[Shipment]:
    return list(order.shipments.exclude(status=S.CANCELLED))


def _sync_order_shipped(order: Order, *, actor: User | None) -> bool:
    """mark_shipped once every parcel of a paid order has left (an order whose refund is pending
    waits; the periodic sweep catches it up)."""
    order.refresh_from_db(fields=["status"])
    live = _live_shipments(order)
    if order.status != OrderStatus.PAID or not live:
        return False
    if all(s.status in (S.SHIPPED, S.DELIVERED) for s in live):
        orders_services.mark_shipped(order=order, actor=as_seller(actor, order))
        return True
    return False


def sync_order_delivered(order: Order, *, actor: User | None) -> bool:
    """Bring the order up to its parcels: shipped when all left, delivered when all arrived."""
    order.refresh_from_db(fields=["status"])
    if order.status == OrderStatus.PAID:
        _sync_order_shipped(order, actor=actor)
        order.refresh_from_db(fields=["status"])
    live = _live_shipments(order)
    if order.status != OrderStatus.SHIPPED or not live:
        return False
    if all(s.status == S.DELIVERED for s in live):
        buyer = actor is not None and actor.pk == order.buyer_id
        orders_services.mark_delivered(order=order, actor=actor if buyer else as_seller(actor, order))
        return True
    return False


# ---------------------------------------------------------------- delivery


def _deliver(shipment: Shipment, *, actor: User | None, how: str, reason: str) -> Shipment:
    _move(shipment, S.DELIVERED, actor=actor, reason=reason)
    shipment.delivered_at = timezone.now()
    shipment.delivery_confirmation = how
    shipment.save(update_fields=["status", "delivered_at", "delivery_confirmation", "updated_at"])
    _record_trace(shipment, receipt=True)
    return shipment


def _confirmer(actor: User, order: Order) -> str:
    if actor.is_authenticated and actor.pk == order.buyer_id:
        return DeliveryConfirmation.BUYER
    # The county office over any of the order's parcels (a platform admin even before there is one).
    if policy.is_platform_admin(actor) or any(
            policy.can(actor, "shipment.oversee", s.producer) for s in order.shipments.all()):
        return DeliveryConfirmation.STAFF
    raise not_your_order()


@transaction.atomic
def confirm_delivery(*, actor: User, shipment: Shipment) -> Shipment:
    """The buyer confirms one parcel arrived (确认收货)."""
    shipment = _lock_shipment(shipment)
    how = _confirmer(actor, shipment.order)
    if shipment.status not in (S.SHIPPED, S.EXCEPTION):
        raise NothingToConfirm(details={"status": shipment.status})
    _deliver(shipment, actor=actor, how=how, reason="confirmed by buyer" if how == "buyer" else "confirmed by staff")
    sync_order_delivered(shipment.order, actor=actor)
    return shipment


@transaction.atomic
def confirm_order_delivery(*, actor: User, order: Order) -> list[Shipment]:
    """The buyer's button on their order: every shipped parcel of it arrived."""
    order = type(order).objects.select_for_update().get(pk=order.pk)
    how = _confirmer(actor, order)
    shipments = list(Shipment.objects.select_for_update().filter(order=order, status__in=(S.SHIPPED, S.EXCEPTION))
                     .exclude(status=S.EXCEPTION, tracking_number=""))
    if not shipments:
        raise NothingToConfirm()
    for shipment in shipments:
        _deliver(shipment, actor=actor, how=how, reason="confirmed by buyer" if how == "buyer" else "confirmed by staff")
    sync_order_delivered(order, actor=actor)
    return shipments


# ---------------------------------------------------------------- time-driven steps (run by services.sweep)


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


def auto_confirm_deliveries(*, now: dt.datetime | None = None) -> list[int]:
    """Parcels shipped N days ago and never confirmed are confirmed by the platform (one transaction each,
    so one order's problem cannot hold back the others)."""
    done = []
    days = settings.FULFILMENT_AUTO_CONFIRM_DAYS
    for pk in list(selectors.due_for_auto_confirm(now).values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                shipment = _lock_shipment(Shipment(pk=pk))
                if shipment.status != S.SHIPPED:
                    continue
                _deliver(shipment, actor=None, how=DeliveryConfirmation.AUTO,
                         reason=f"auto-confirmed {days} days after shipping")
                sync_order_delivered(shipment.order, actor=None)
                done.append(pk)
        except DomainError as exc:
            log.warning("auto-confirming shipment %s refused: %s (%s)", pk, exc.message, exc.code)
    return done


def complete_delivered_orders(*, now: dt.datetime | None = None) -> list[int]:
    """Orders delivered long enough ago, with no open after-sales request, are completed."""
    done = []
    for order in list(selectors.due_for_completion(now)):
        try:
            with transaction.atomic():
                orders_services.complete_order(order=order, actor=None)
                done.append(order.pk)
        except DomainError as exc:
            log.warning("completing order %s refused: %s (%s)", order.pk, exc.message, exc.code)
    return done


def sync_order_statuses() -> list[int]:
    """Catch up orders that are behind their parcels (selectors.orders_out_of_step)."""
    done = []
    for order in list(selectors.orders_out_of_step()):
        try:
            with transaction.atomic():
                before = order.status
                sync_order_delivered(order, actor=None)
                order.refresh_from_db(fields=["status"])
                if order.status != before:
                    done.append(order.pk)
        except DomainError as exc:
            log.warning("catching up order %s refused: %s (%s)", order.pk, exc.message, exc.code)
    return done


# ---------------------------------------------------------------- cancellation when an order is refunded


@transaction.atomic
def cancel_open_shipments(*, order: Order, actor: User | None, reason: str) -> list[int]:
    """Called when an order is cancelled or fully refunded before its parcels left."""
    cancelled = []
    for shipment in Shipment.objects.select_for_update().filter(order=order, status__in=Shipment.OPEN_STATUSES):
        _move(shipment, S.CANCELLED, actor=actor, reason=reason)
        shipment.save(update_fields=["status", "updated_at"])
        cancelled.append(shipment.pk)
    return cancelled


def cancel_orphaned_shipments(*, actor: User | None = None, order: Order | None = None) -> list[int]:
    """Cancel unsent parcels with nothing left to send (selectors.orphaned_shipments), one transaction each."""
    done = []
    qs = selectors.orphaned_shipments()
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
