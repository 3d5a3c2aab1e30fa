"""Periodic fulfilment work for the Huey consumer (autodiscovered by huey.contrib.djhuey)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services.sweep import sweep

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/10"))
def fulfilment_sweep() -> dict:
    """Route paid orders, flag late parcels, auto-confirm deliveries, complete orders (every 10 min).

    Deadlines are measured in hours and days, so ten minutes of lag is invisible to buyers and producers."""
    result = sweep().as_dict()
    if any(result[k] for k in ("flagged_late", "auto_confirmed", "completed", "errors")) or result["routed"]:
        log.info("fulfilment sweep: %s", result)
    return result
