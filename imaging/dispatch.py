"""Sending a job to its task (imaging.jobs.image_job_run_task): the first time after commit, and
again when it is stuck, its result file is lost, or an operator retries it.

Scaled out, the task goes through the broker to a Celery worker. In the embedded default
(CELERY_TASK_ALWAYS_EAGER) `.delay()` would run it inside the HTTP request and make /get_feed
wait for the fetch; instead the very same task runs through its own `apply()` on a small
background thread pool, so the feed answers DEFERRED at once and the push follows through the
in-memory channel layer of the same process. Either way the task's retry policy applies.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import Q
from django.utils import timezone

from imaging.jobs import image_job_run_task
from imaging.models import ImageJob

logger = logging.getLogger(__name__)

EMBEDDED_THREADS = 2


class BrokerPause:
    """After a failed send the broker is left alone for `seconds`: the images of one feed must
    not each wait for it to fail again. Their jobs stay queued; the stuck-job sweep (or their
    next request) sends them."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.until = 0.0

    def active(self) -> bool:
        return time.monotonic() < self.until

    def start(self) -> None:
        self.until = time.monotonic() + self.seconds


BROKER_PAUSE = BrokerPause(seconds=10.0)


def image_job_dispatch(*, job_id: int) -> None:
    """Start the job's task: the background pool in the embedded default, else the broker."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        embedded_pool().submit(image_job_run_embedded, job_id)
        return
    if BROKER_PAUSE.active():
        return
    try:
        image_job_run_task.apply_async(args=[job_id], retry=False)
    except Exception:
        BROKER_PAUSE.start()
        logger.exception("image job %s: could not reach the broker; left queued", job_id)


def image_job_dispatch_on_commit(*, job_id: int) -> None:
    transaction.on_commit(lambda: image_job_dispatch(job_id=job_id), robust=True)


@lru_cache(maxsize=1)
def embedded_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=EMBEDDED_THREADS, thread_name_prefix="image-job")


def image_job_run_embedded(job_id: int) -> None:
    """The task as a worker runs it (its retries and their waits, its failure handling), on a
    pool thread. The push reaches sockets of this process: `realtime.send_to_user` runs it on
    their loop."""
    close_old_connections()
    try:
        image_job_run_task.apply(args=[job_id])
    except Exception:
        logger.exception("image job %s crashed in the background pool", job_id)
    finally:
        # Connections are per thread; a pool thread must not keep one open forever.
        connections.close_all()


# --- stuck jobs, lost results, retries ------------------------------------------------------


def image_job_is_stuck(job: ImageJob) -> bool:
    cutoff = timezone.now() - timedelta(seconds=settings.DIYMOD_IMAGE_STUCK_SECONDS)
    if job.status == ImageJob.Status.QUEUED:
        return job.queued_at <= cutoff
    if job.status == ImageJob.Status.RUNNING:
        return job.started_at is None or job.started_at <= cutoff
    return False


def image_job_requeue(*, job: ImageJob) -> bool:
    """Queue a stuck job (or a done one whose file is lost) again; runs are idempotent, so
    whichever run finishes first wins."""
    changes: dict = {"status": ImageJob.Status.QUEUED, "queued_at": timezone.now()}
    if job.status == ImageJob.Status.DONE:
        changes.update(attempts=0, result="")
    requeued = ImageJob.objects.filter(pk=job.pk, status=job.status).update(**changes)
    if requeued:
        image_job_dispatch_on_commit(job_id=job.pk)
    return bool(requeued)


def image_jobs_requeue_stuck(*, stuck_seconds: int | None = None) -> int:
    """Re-queue jobs queued or running for longer than `stuck_seconds` (a killed worker's
    jobs, lost messages); returns how many. Run by Celery beat and `manage.py image_jobs`."""
    seconds = settings.DIYMOD_IMAGE_STUCK_SECONDS if stuck_seconds is None else stuck_seconds
    cutoff = timezone.now() - timedelta(seconds=seconds)
    stuck = ImageJob.objects.filter(
        Q(status=ImageJob.Status.QUEUED, queued_at__lte=cutoff)
        | Q(status=ImageJob.Status.RUNNING, started_at__lte=cutoff)
        | Q(status=ImageJob.Status.RUNNING, started_at__isnull=True)
    )
    count = 0
    with transaction.atomic():
        for job in stuck.order_by("queued_at"):
            count += image_job_requeue(job=job)
    if count:
        logger.warning("re-queued %s stuck image job(s)", count)
    return count


@transaction.atomic
def image_job_retry(*, job: ImageJob) -> bool:
    """Run a failed (or stuck) job again from scratch: admin action and `image_jobs --retry`."""
    retried = (
        ImageJob.objects.filter(pk=job.pk)
        .exclude(status=ImageJob.Status.DONE)
        .update(status=ImageJob.Status.QUEUED, attempts=0, error="", queued_at=timezone.now())
    )
    if retried:
        image_job_dispatch_on_commit(job_id=job.pk)
    return bool(retried)
