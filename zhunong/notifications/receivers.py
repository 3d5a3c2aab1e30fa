"""Receivers of the lower apps' signals and of their history rows: each event is queued (after the commit
that made it) for emit_event, so the notification work never slows or breaks the change it follows."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from zhunong.fulfilment.models import AfterSalesTransition, Shipment, ShipmentTransition
from zhunong.live.models import StreamStatus, StreamTransition
from zhunong.orders.models import OrderStatus
from zhunong.orders.signals import order_transitioned

from . import tasks
from .kinds import Kind

log = logging.getLogger(__name__)


def _queue(kind: str, subject_id: int) -> None:
    def run() -> None:
        try:
            tasks.emit_event(kind, subject_id)
        except Exception:  # the change committed; a lost notification must not fail the request
            log.exception("could not queue notification %s for %s", kind, subject_id)

    transaction.on_commit(run)


def on_order_transitioned(sender: object, *, order: Any, from_status: str, to_status: str,  # noqa: ANN401
                          **kwargs: Any) -> None:  # noqa: ANN401
    if from_status == OrderStatus.RESERVED and to_status == OrderStatus.PAID:
        _queue(Kind.PAYMENT_CONFIRMED, order.pk)


def on_shipment_step(sender: object, *, instance: ShipmentTransition, created: bool, **kwargs: Any) -> None:  # noqa: ANN401
    if not created:
        return
    if instance.to_status == "shipped":
        _queue(Kind.SHIPPED, instance.shipment_id)
    elif instance.to_status == "delivered":
        _queue(Kind.DELIVERED, instance.shipment_id)


def on_shipment_created(sender: object, *, instance: Shipment, created: bool, **kwargs: Any) -> None:  # noqa: ANN401
    if created:
        _queue(Kind.NEW_ORDER_TO_SHIP, instance.pk)


def on_after_sales_step(sender: object, *, instance: AfterSalesTransition, created: bool,
                        **kwargs: Any) -> None:  # noqa: ANN401
    # A decision is approved or rejected; "refunded" follows an approval and is told as refund_paid.
    if created and instance.to_status in ("approved", "rejected"):
        _queue(Kind.AFTER_SALES_DECIDED, instance.request_id)


def on_stream_step(sender: object, *, instance: StreamTransition, created: bool, **kwargs: Any) -> None:  # noqa: ANN401
    if created and instance.to_status == StreamStatus.LIVE:
        _queue(Kind.STREAM_LIVE, instance.stream_id)


def on_flag_saved(sender: object, *, instance: Any, created: bool, **kwargs: Any) -> None:  # noqa: ANN401
    if created:
        _queue(Kind.INTEGRITY_FLAG, instance.pk)


def connect() -> None:
    order_transitioned.connect(on_order_transitioned, dispatch_uid="notifications.order")
    post_save.connect(on_shipment_step, sender=ShipmentTransition, dispatch_uid="notifications.shipment_step")
    post_save.connect(on_shipment_created, sender=Shipment, dispatch_uid="notifications.shipment_created")
    post_save.connect(on_after_sales_step, sender=AfterSalesTransition, dispatch_uid="notifications.after_sales")
    post_save.connect(on_stream_step, sender=StreamTransition, dispatch_uid="notifications.stream")
    # By name: supervision shares this layer (neither imports the other).
    post_save.connect(on_flag_saved, sender="supervision.IntegrityFlag", dispatch_uid="notifications.flag")
