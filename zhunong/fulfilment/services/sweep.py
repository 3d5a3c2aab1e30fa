"""The periodic run of fulfilment's time-driven steps (the Huey task and `zhunong fulfilment-sweep`)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from .shipments import (
    auto_confirm_deliveries,
    cancel_orphaned_shipments,
    complete_delivered_orders,
    flag_late_shipments,
    route_paid_orders,
    sync_order_statuses,
)

log = logging.getLogger(__name__)


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
