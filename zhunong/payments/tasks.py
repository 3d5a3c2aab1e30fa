"""Background and periodic jobs of payments (Huey): the sandbox gateway's webhook sender, reconciliation."""

from __future__ import annotations

import contextlib

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .models import SandboxWebhook
from .providers import deliver, deliver_due
from .services import reconcile_payments


@db_task()
def deliver_webhook_task(webhook_id: int) -> int | None:
    """The sandbox gateway sends one webhook (scheduled late on purpose; retried by the sweep)."""
    hook = SandboxWebhook.objects.filter(pk=webhook_id, delivered_at__isnull=True).first()
    return deliver(hook) if hook is not None else None


@db_periodic_task(crontab(minute="*"))
def deliver_due_webhooks_task() -> int:
    return deliver_due()


@db_periodic_task(crontab(minute="*/2"))
def reconcile_payments_task() -> dict:
    """Ask the gateway about sessions we have not heard of; retry refunds that did not go through."""
    return reconcile_payments()


def schedule_delivery(sender, webhook_id: int, delay: int, **kwargs) -> None:  # noqa: ANN001
    """Receiver of webhook_queued (connected in PaymentsConfig.ready)."""
    # If the queue is unreachable, the periodic sweep delivers whatever is due.
    with contextlib.suppress(Exception):
        deliver_webhook_task.schedule(args=(webhook_id,), delay=delay)
