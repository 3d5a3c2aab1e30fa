"""Detectors of integrity supervision: pure functions over a read event log (eventlog.EventLog) that
return flags `{"abuse", "order_ids", "session_ids", "account_ids", "score", "evidence"}`
(docs/supervision.md). The same code scans imported logs and this platform's own streams."""

from __future__ import annotations

from zhunong.supervision.eventlog import EventLog

from . import below_cost, fake_orders, quota, traffic

DETECTORS = {
    "quota": quota.detect,
    "fake_order": fake_orders.detect,
    "inflated_traffic": traffic.detect,
    "below_cost": below_cost.detect,
}


def scan(log: EventLog, *, only: tuple[str, ...] = ()) -> list[dict]:
    """Every detector's flags, strongest first."""
    flags: list[dict] = []
    for name, detect in DETECTORS.items():
        if not only or name in only:
            flags.extend(detect(log))
    flags.sort(key=lambda f: (-f["score"], f["abuse"]))
    return flags
