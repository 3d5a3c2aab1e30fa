"""Background jobs of the data centre (Huey)."""

from __future__ import annotations

import logging

from huey.contrib.djhuey import db_task

from . import jobs

log = logging.getLogger(__name__)


@db_task()
def run_job_task(job_id: int) -> None:
    """A forecast or comment-mining job started from a data-centre page (jobs.start)."""
    jobs.run(job_id)


def schedule_job(sender, job, **kwargs) -> None:  # noqa: ANN001
    """Receiver of jobs.job_queued (connected in InsightsConfig.ready)."""
    try:
        run_job_task(job.pk)
    except Exception:
        log.exception("could not queue data-centre job %s", job.pk)
