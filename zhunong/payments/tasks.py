"""Background and periodic jobs of payments (Huey): the sandbox gateway's webhook sender, reconciliation."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task()
def deliver_webhook_task(webhook_id: int) -> int | None:
    """The sandbox gateway sends one webhook (scheduled late on purpose; retried by the sweep)."""
    from .models import SandboxWebhook
    from .providers import deliver

    hook = SandboxWebhook.objects.filter(pk=webhook_id, delivered_at__isnull=True).first()
    return deliver(hook) if hook is not None else None


@db_periodic_task(crontab(minute="*"))
def deliver_due_webhooks_task() -> int:
    from .providers import deliver_due

    return deliver_due()


@db_periodic_task(crontab(minute="*/2"))
def reconcile_payments_task() -> dict:
    """Ask the gateway about sessions we have not heard of; retry refunds that did not go through."""
    from .services import reconcile_payments

    return reconcile_payments()
