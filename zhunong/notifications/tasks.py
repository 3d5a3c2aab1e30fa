"""Huey tasks: turn events into notifications, send each delivery (retried), remind followers before a
stream, and sweep what no signal announces (refunds paid or given up, parcels gone late)."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from zhunong.core.errors import DomainError
from zhunong.fulfilment.models import Shipment
from zhunong.live.models import Stream, StreamStatus
from zhunong.payments.models import Refund

from . import services
from .errors import SubjectGone
from .kinds import REMINDER_LEAD_MINUTES, Kind
from .models import Delivery, Notification
from .signals import deliveries_queued

log = logging.getLogger(__name__)

# Sweeps look this far back: older events were either notified then or are no longer news.
SWEEP_DAYS = 3


@db_task(retries=3, retry_delay=30)
def emit_event(kind: str, subject_id: int) -> int:
    try:
        return len(services.emit(kind=kind, subject_id=subject_id))
    except SubjectGone as exc:  # a deleted order, a purged stream: nobody to tell about nothing
        log.info("notification %s for %s skipped: %s", kind, subject_id, exc.code)
        return 0
    except DomainError as exc:
        log.warning("notification %s for %s refused: %s", kind, subject_id, exc.code)
        return 0


@db_task(retries=4, retry_delay=60)
def deliver(delivery_id: int) -> str:
    return services.deliver(delivery_id=delivery_id)


def queue_deliveries(sender: object = None, *, delivery_ids: list[int], **kwargs: object) -> None:
    """Receiver of deliveries_queued (after commit), connected in NotificationsConfig.ready."""
    for pk in delivery_ids:
        deliver(pk)


def _not_yet_told(ids: list[int], key: str) -> list[int]:
    """The ids whose event (`key` with {id}) nobody has been told of yet: a sweep re-reads only new events."""
    keys = {key.format(id=pk): pk for pk in ids}
    told = set(Notification.objects.filter(event_key__in=list(keys)).values_list("event_key", flat=True))
    return [pk for k, pk in keys.items() if k not in told]


def remind_followers(*, now: dt.datetime | None = None) -> int:
    """Streams starting within REMINDER_LEAD_MINUTES: their followers' reminders (once per stream)."""
    now = now or timezone.now()
    soon = Stream.objects.filter(status=StreamStatus.SCHEDULED, planned_start__gt=now,
                                 planned_start__lte=now + dt.timedelta(minutes=REMINDER_LEAD_MINUTES))
    count = 0
    for stream_id in _not_yet_told(list(soon.values_list("pk", flat=True)), "stream:{id}:reminder"):
        count += len(services.emit(kind=Kind.STREAM_REMINDER, subject_id=stream_id))
    return count


def sweep_unannounced(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Events that change rows without a signal: refunds confirmed by the gateway, refunds escalated after
    their retries, parcels marked late by fulfilment's sweep. emit() is idempotent, so a second sweep of the
    same event tells nobody twice."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=SWEEP_DAYS)
    found = {"refund_paid": 0, "refund_failed": 0, "parcel_late": 0}
    for kind, key, ids in (
        (Kind.REFUND_PAID, "refund:{id}:paid",
         Refund.objects.filter(status=Refund.Status.SUCCEEDED, completed_at__gte=since, unapplied=False)),
        (Kind.REFUND_FAILED, "refund:{id}:failed",
         Refund.objects.filter(escalated_at__gte=since).exclude(status=Refund.Status.SUCCEEDED)),
        (Kind.PARCEL_LATE, "shipment:{id}:late", Shipment.objects.filter(late=True, late_flagged_at__gte=since)),
    ):
        for pk in _not_yet_told(list(ids.values_list("pk", flat=True)), key):
            found[kind] += len(services.emit(kind=kind, subject_id=pk))
    return found


def retry_failed() -> int:
    """Deliveries left failed after Huey's retries (a long outage): tried again, at most once each."""
    count = 0
    for pk in Delivery.objects.filter(status=Delivery.Status.FAILED).values_list("pk", flat=True)[:500]:
        try:
            services.deliver(delivery_id=pk)
            count += 1
        except Exception:
            log.exception("delivery %s failed again", pk)
    return count


@db_periodic_task(crontab(minute="*"))
def notifications_minutely() -> dict:
    """Reminders are due to the minute; the sweeps are cheap (indexed, a few days back)."""
    result = {"reminders": remind_followers(), **sweep_unannounced(), "retried": retry_failed()}
    if any(result.values()):
        log.info("notifications: %s", result)
    return result


deliveries_queued.connect(queue_deliveries, dispatch_uid="notifications.queue_deliveries")
