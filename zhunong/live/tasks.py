"""Periodic live-room work for the Huey consumer (autodiscovered by huey.contrib.djhuey)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .chat import fill_minute_gaps
from .streams import purge_records

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
def close_minute_series() -> int:
    """Every minute: a live stream's previous minute gets a row even if no server process wrote to it
    (nobody watching, nothing said), so the series has explicit zeros instead of holes."""
    return fill_minute_gaps()


@db_periodic_task(crontab(hour="3", minute="40"))
def purge_live_records() -> dict:
    """Daily: delete room records older than RECORD_RETENTION_DAYS (see the purge_live_records command)."""
    counts = purge_records()
    if counts["streams"]:
        log.info("purged live records: %s", counts)
    return counts
