"""Celery tasks: take a primary key, call one service (STYLE.md). Retries, time limits and late
acknowledgement are declared here.

`acks_late` + `reject_on_worker_lost`: a worker killed mid-job leaves its message unacknowledged,
so the broker hands it out again; the stuck-job sweep (beat) covers messages the broker only
redelivers after its visibility timeout. Runs are idempotent (imaging/runner.py).
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded

from imaging.fetching import FetchTransientError
from imaging.runner import image_job_fail, image_job_run
from imaging.services import image_jobs_requeue_stuck

SOFT_TIME_LIMIT_SECONDS = 40  # a fetch (5 s) plus an image model call (25 s)
HARD_TIME_LIMIT_SECONDS = 60
MAX_RETRIES = 4


class ImageJobTask(Task):
    def on_failure(
        self, exc: Exception, task_id: str, args: tuple, kwargs: dict, einfo: Any
    ) -> None:
        """Retries exhausted (or an unexpected crash): the job fails for good, visibly."""
        job_id = kwargs.get("job_id", args[0] if args else None)
        if job_id is not None:
            image_job_fail(job_id=int(job_id), error=f"{type(exc).__name__}: {exc}")


@shared_task(
    bind=True,
    base=ImageJobTask,
    name="imaging.tasks.image_job_run",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(FetchTransientError, SoftTimeLimitExceeded),
    retry_backoff=1,
    retry_backoff_max=20,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
    soft_time_limit=SOFT_TIME_LIMIT_SECONDS,
    time_limit=HARD_TIME_LIMIT_SECONDS,
)
def image_job_run_task(self: Task, job_id: int) -> str | None:
    job = image_job_run(job_id=job_id)
    return job.status if job is not None else None


@shared_task(name="imaging.tasks.image_jobs_requeue_stuck")
def image_jobs_requeue_stuck_task() -> int:
    return image_jobs_requeue_stuck()
