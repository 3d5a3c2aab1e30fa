"""Fulfilment's receivers of orders' signals (orders sits below fulfilment and cannot call it).

- `order_transitioned` is sent inside the transaction that changes the order. When an order becomes
  `paid`, its lines are routed to their producers' shipping points; when it becomes `cancelled` or
  `refunded`, parcels that have not left are cancelled. Each runs in a savepoint and never raises: a
  fulfilment problem must not undo a payment or a refund. The periodic sweep (services/sweep.py)
  repeats both, so anything that failed here is caught up within minutes.
- `parcels_shipped` asks how many of an order's parcels have left.

Connected when this module is imported (FulfilmentConfig.ready).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from zhunong.orders.signals import order_transitioned, parcels_shipped

from .models import Shipment
from .services.shipments import cancel_open_shipments, route_order

log = logging.getLogger(__name__)


@receiver(order_transitioned, dispatch_uid="zhunong.fulfilment.on_order_transitioned")
def on_order_transitioned(sender, order, from_status: str, to_status: str, actor=None, reason: str = "",  # noqa: ANN001
                          **kwargs) -> None:
    try:
        if to_status == "paid":
            with transaction.atomic():
                route_order(order=order)
        elif to_status in ("cancelled", "refunded"):
            with transaction.atomic():
                cancel_open_shipments(order=order, actor=actor, reason=f"order {to_status}")
    except Exception:  # the sweep retries; see the module docstring
        log.exception("fulfilment hook for order %s (%s → %s) failed; the sweep will retry",
                      order.pk, from_status, to_status)


@receiver(parcels_shipped, dispatch_uid="fulfilment.parcels_shipped")
def count_shipped_parcels(sender: type, *, order: Any, lock: bool = False, **kwargs: Any) -> int:  # noqa: ANN401
    """Parcels of the order that have left (shipped_at stays set if one then went astray)."""
    parcels = Shipment.objects.filter(order_id=order.pk)
    if lock:
        return sum(1 for s in parcels.select_for_update().only("pk", "shipped_at") if s.shipped_at is not None)
    return parcels.filter(shipped_at__isnull=False).count()
