"""Follow the order state machine through orders' `order_transitioned` signal.

The signal is sent inside the transaction that changes the order. When an order becomes `paid`, its
lines are routed to their producers' shipping points; when it becomes `cancelled` or `refunded`,
parcels that have not left are cancelled. Each runs in a savepoint and never raises: a fulfilment
problem must not undo a payment or a refund. The periodic sweep (services/sweep.py) repeats both, so
anything that failed here is caught up within minutes.
"""

from __future__ import annotations

import logging

from django.db import transaction

from .services.shipments import cancel_open_shipments, route_order

log = logging.getLogger(__name__)


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
