"""Background and periodic jobs of orders (Huey)."""

from __future__ import annotations

import logging

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
def expire_reservations_task() -> int:
    """Unpaid reservations past their deadline give their stock back (every minute)."""
    from .services import expire_reservations

    return expire_reservations()


@db_periodic_task(crontab(minute="*"))
def flash_sales_task() -> None:
    """Catch up sale starts/ends (if a timer was missed), then settle finished sales."""
    from .services import settle_sales, sync_sales

    sync_sales()
    settle_sales()


@db_periodic_task(crontab(minute="*"))
def reconcile_inventory_task() -> dict | None:
    """Redis backend: release orphaned reservations, replay lost releases, refresh database mirrors."""
    if settings.INVENTORY_BACKEND != "redis" or not settings.REDIS_URL:
        return None
    from .inventory import reconcile_redis

    return reconcile_redis().as_dict()


@db_task()
def sync_sale_task(sale_id: int) -> None:
    from .services import sync_sale

    sync_sale(sale_id=sale_id)
