"""Background jobs of the data centre and their progress (the Job row the page polls).

`start` records a queued Job and hands it to Huey after commit (tasks.py); the task calls `run`, which
marks the job running, passes a progress callback to the work (written at most every PROGRESS_EVERY
seconds, so a thousand series do not mean a thousand writes) and records the result or the failure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from zhunong.producers.models import Region

from .models import Job

log = logging.getLogger(__name__)
PROGRESS_EVERY = 0.5

# Sent after commit with `job`; tasks.schedule_job (connected in InsightsConfig.ready) queues it in Huey,
# so this module never imports the tasks that import it.
job_queued = Signal()


def _work(kind: str) -> Callable[..., dict]:
    if kind == Job.Kind.FORECAST:
        from .forecasting import run_forecasts

        return run_forecasts
    if kind == Job.Kind.FEEDBACK:
        from .feedback import mine_comments

        return mine_comments
    raise ValueError(kind)


def start(*, kind: str, region: Region | None, user=None) -> Job:  # noqa: ANN001
    """Queue a job (of a county, or every county); an unfinished job of the same kind and county is reused."""
    with transaction.atomic():
        running = Job.objects.filter(kind=kind, region=region, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).first()
        if running is not None:
            return running
        job = Job.objects.create(kind=kind, region=region, started_by=user if user and user.is_authenticated else None)
        transaction.on_commit(lambda: job_queued.send(sender=Job, job=job))
    return job


def run(job_id: int) -> Job:
    job = Job.objects.get(pk=job_id)
    if job.status not in (Job.Status.QUEUED, Job.Status.RUNNING):
        return job
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        Job.objects.filter(pk=job.pk).update(done=done, total=total)

    try:
        result = _work(job.kind)(county=job.region, progress=progress)
    except Exception as exc:
        log.exception("data-centre job %s failed", job.pk)
        Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, message=str(exc)[:300],
                                             finished_at=timezone.now())
    else:
        Job.objects.filter(pk=job.pk).update(status=Job.Status.DONE, result=result, finished_at=timezone.now())
    job.refresh_from_db()
    return job


def latest(*, kind: str, region: Region | None) -> Job | None:
    return Job.objects.filter(kind=kind, region=region).first()
