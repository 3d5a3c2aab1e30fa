"""Background and periodic jobs of orders (Huey)."""

from __future__ import annotations

import logging

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .flashsales import settle_sales, sync_sale, sync_sales
from .inventory import reconcile_redis
from .services import expire_reservations

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
def expire_reservations_task() -> int:
    """Unpaid reservations past their deadline give their stock back (every minute)."""
    return expire_reservations()


@db_periodic_task(crontab(minute="*"))
def flash_sales_task() -> None:
    """Catch up sale starts/ends (if a timer was missed), then settle finished sales."""
    sync_sales()
    settle_sales()


@db_periodic_task(crontab(minute="*"))
def reconcile_inventory_task() -> dict | None:
    """Redis backend: release orphaned reservations, replay lost releases, refresh database mirrors."""
    if settings.INVENTORY_BACKEND != "redis" or not settings.REDIS_URL:
        return None
    return reconcile_redis().as_dict()


@db_task()
def sync_sale_task(sale_id: int) -> None:
    sync_sale(sale_id=sale_id)


def schedule_sale_timers(sender, sale, **kwargs) -> None:  # noqa: ANN001
    """Receiver of flash_sale_scheduled (connected in OrdersConfig.ready): start and end the sale on time."""
    try:
        sync_sale_task.schedule(args=(sale.pk,), eta=sale.starts_at)
        sync_sale_task.schedule(args=(sale.pk,), eta=sale.ends_at)
    except Exception:
        log.exception("could not schedule timers of flash sale %s", sale.pk)
