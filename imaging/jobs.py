"""An image job's life: claim → fetch → edit → store → complete → push (DESIGN.md, "Images"),
its one retry policy, and the Celery task that runs it in every deployment.

Both dispatch modes (imaging/dispatch.py) run `image_job_run_task`: a Celery worker takes it
from the broker, the embedded default calls its `apply()` on a background thread. A failed run
is therefore retried the same way in both, as IMAGE_JOB_RETRIES says.

Idempotent and safe to run twice at once (a redelivered Celery message, a re-queued stuck job):
every state change is a conditional UPDATE, the result file name is deterministic and written
atomically (imaging/storage.py), and only the run whose UPDATE turns the job to `done` pushes
`image_processed`, so each requester is told once.

`acks_late` + `reject_on_worker_lost`: a worker killed mid-job leaves its message unacknowledged,
so the broker hands it out again; the stuck-job sweep (beat) covers messages the broker only
redelivers after its visibility timeout.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError
from django.db.models import F
from django.utils import timezone

from diymod import realtime
from imaging.editors import image_edit
from imaging.fetching import FetchRefused, FetchTransientError, image_fetch
from imaging.models import ImageJob
from imaging.storage import image_result_data_url, image_result_store, image_result_url
from imaging.transforms import TransformedImage

logger = logging.getLogger(__name__)

PENDING = (ImageJob.Status.QUEUED, ImageJob.Status.RUNNING)
SOFT_TIME_LIMIT_SECONDS = 40  # a fetch (5 s) plus an image model call (25 s)
HARD_TIME_LIMIT_SECONDS = 60


@dataclass(frozen=True)
class ImageJobRetryPolicy:
    """When a job's run is tried again, and how soon. Read at run time by the task, whichever
    process runs it."""

    # Errors another run may get past: a host's 5xx or 429, a timeout, a soft time limit.
    transient_errors: tuple[type[BaseException], ...]
    # Seconds before the next run after the first, second, ... run failed transiently; when
    # they run out, the job fails.
    transient_delays: tuple[float, ...]
    # SQLite (the embedded default) refuses a write while another thread writes: the same run
    # goes again in place after each of these (the run is idempotent).
    locked_delays: tuple[float, ...]
    # Runs started, whatever ended them (a killed worker, a redelivery, a re-queue): a job
    # that keeps killing its worker must end some day.
    max_attempts: int

    def transient_delay(self, error: BaseException, *, retries: int) -> float | None:
        """The wait before the next run after `retries` retries so far; None: give up."""
        if not isinstance(error, self.transient_errors) or retries >= len(self.transient_delays):
            return None
        return self.transient_delays[retries]

    def locked_delay(self, error: BaseException, *, retries: int) -> float | None:
        """The wait before running again after a "database is locked"; None: not one, or
        locked too often."""
        locked = isinstance(error, OperationalError) and "locked" in str(error)
        if not locked or retries >= len(self.locked_delays):
            return None
        return self.locked_delays[retries]


# The worker's exponential back-off (1, 2, 4, 8 s); all of it stays far below
# DIYMOD_IMAGE_STUCK_SECONDS, so a job waiting for its retry is never taken for a stuck one.
IMAGE_JOB_RETRIES = ImageJobRetryPolicy(
    transient_errors=(FetchTransientError, SoftTimeLimitExceeded),
    transient_delays=(1.0, 2.0, 4.0, 8.0),
    locked_delays=(0.05, 0.1, 0.2, 0.4, 0.8, 1.6),
    max_attempts=8,
)


# --- the task -----------------------------------------------------------------------------------


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
    max_retries=None,  # IMAGE_JOB_RETRIES decides
    soft_time_limit=SOFT_TIME_LIMIT_SECONDS,
    time_limit=HARD_TIME_LIMIT_SECONDS,
)
def image_job_run_task(self: Task, job_id: int) -> str | None:
    """Run job `job_id` once; after a transient failure, schedule the next run as the policy
    says (the job fails when it says no more: `ImageJobTask.on_failure`)."""
    policy = IMAGE_JOB_RETRIES
    try:
        job = image_job_run_unlocked(job_id=job_id)
    except policy.transient_errors as error:
        retries = self.request.retries
        delay = policy.transient_delay(error, retries=retries)
        if delay is None:
            raise
        image_job_retry_log(job_id=job_id, error=error, retry=retries + 1, delay=delay)
        if self.request.is_eager:
            # apply() runs the retry at once, ignoring the countdown: wait here what a worker
            # would wait (the embedded default runs this on a background thread).
            time.sleep(delay)
        raise self.retry(exc=error, countdown=delay) from None
    return job.status if job is not None else None


def image_job_retry_log(*, job_id: int, error: BaseException, retry: int, delay: float) -> None:
    logger.warning(
        "image job %s: %s; retry %s in %s s",
        job_id,
        error,
        retry,
        delay,
        extra={"event": "image_job_retry", "job_id": job_id, "retry": retry, "delay": delay},
    )


# --- the run ------------------------------------------------------------------------------------


def image_job_run_unlocked(*, job_id: int) -> ImageJob | None:
    """`image_job_run`, run again in place while SQLite answers "database is locked"."""
    retries = 0
    while True:
        try:
            return image_job_run(job_id=job_id)
        except OperationalError as error:
            delay = IMAGE_JOB_RETRIES.locked_delay(error, retries=retries)
            if delay is None:
                raise
        retries += 1
        time.sleep(delay)


def image_job_run(*, job_id: int) -> ImageJob | None:
    """Do the work of job `job_id` unless it is finished already. FetchTransientError propagates
    (after putting the job back to `queued`) so that the caller can retry later."""
    if not image_job_claim(job_id=job_id):
        return ImageJob.objects.filter(pk=job_id).first()
    job = ImageJob.objects.get(pk=job_id)
    try:
        started = time.perf_counter()
        fetched = image_fetch(url=job.image_url)
        fetched_at = time.perf_counter()
        edited = image_edit(
            image=fetched.image, intervention=job.intervention, filter_texts=job.filters
        )
        transformed_at = time.perf_counter()
    except FetchTransientError as error:
        image_job_requeue_after_error(job_id=job_id, error=str(error))
        raise
    except (FetchRefused, ValueError, OSError) as error:
        image_job_fail(job_id=job_id, error=f"{type(error).__name__}: {error}")
        return ImageJob.objects.get(pk=job_id)
    name = image_result_store(job=job, transformed=edited.image)
    details = {
        "fetch_ms": round((fetched_at - started) * 1000),
        "transform_ms": round((transformed_at - fetched_at) * 1000),
        "error": edited.note,  # done, but not as configured (e.g. the model failed): say so
    }
    image_job_complete(job=job, name=name, transformed=edited.image, details=details)
    return ImageJob.objects.get(pk=job_id)


def image_job_claim(*, job_id: int) -> bool:
    """Mark the job running (again); False when it is finished or was given up on."""
    now = timezone.now()
    max_attempts = IMAGE_JOB_RETRIES.max_attempts
    claimed = ImageJob.objects.filter(pk=job_id, status__in=PENDING, attempts__lt=max_attempts)
    if claimed.update(status=ImageJob.Status.RUNNING, started_at=now, attempts=F("attempts") + 1):
        return True
    image_job_fail(job_id=job_id, error=f"gave up after {max_attempts} attempts")
    return False


def image_job_complete(
    *, job: ImageJob, name: str, transformed: TransformedImage, details: dict[str, object]
) -> bool:
    """The pending → done transition; only the run that makes it pushes (tell each client once).
    `queued` counts as pending too: a stuck job re-queued while its first run was still alive
    lets whichever run finishes first complete it."""
    now = timezone.now()
    done = ImageJob.objects.filter(pk=job.pk, status__in=PENDING).update(
        status=ImageJob.Status.DONE,
        result=name,
        result_width=transformed.width,
        result_height=transformed.height,
        result_bytes=len(transformed.data),
        finished_at=now,
        total_ms=round((now - job.created_at).total_seconds() * 1000),
        **details,
    )
    if not done:
        return False
    job.refresh_from_db()
    logger.info("image job %s done in %s ms (%s)", job.pk, job.total_ms, job.intervention)
    image_job_notify(job=job)
    return True


def image_job_fail(*, job_id: int, error: str) -> bool:
    """Give up on a job for good (no push: the contract has no failure event; pollers see
    FAILED and sockets simply keep the original image covered by the client's spinner)."""
    now = timezone.now()
    job = ImageJob.objects.filter(pk=job_id).only("created_at").first()
    if job is None:
        return False
    failed = ImageJob.objects.filter(pk=job_id, status__in=PENDING).update(
        status=ImageJob.Status.FAILED,
        error=error[:2000],
        finished_at=now,
        total_ms=round((now - job.created_at).total_seconds() * 1000),
    )
    if failed:
        logger.warning("image job %s failed: %s", job_id, error)
    return bool(failed)


def image_job_requeue_after_error(*, job_id: int, error: str) -> None:
    """Back to `queued` while a retry waits, so the stuck-job sweep measures from now."""
    ImageJob.objects.filter(pk=job_id, status=ImageJob.Status.RUNNING).update(
        status=ImageJob.Status.QUEUED, error=f"retrying: {error}"[:2000], queued_at=timezone.now()
    )


# --- the push -----------------------------------------------------------------------------------


def image_processed_event(
    *, job: ImageJob, filters: list[str] | None = None, base_url: str | None = None
) -> realtime.ImageProcessed:
    """The `image_processed` event of a done job (CONTRACT section 6). The WebSocket consumer
    uses it too, to answer `wait_for_image` at once when the result exists."""
    return realtime.ImageProcessed(
        image_url=job.image_url,
        processed_value=image_result_url(job, base_url),
        filters=list(job.filters if filters is None else filters),
        base64_url=image_result_data_url(job),
    )


def image_job_notify(*, job: ImageJob) -> int:
    """Push the result to every requester, each with the result URL of their own base and
    their own filters (nobody sees another user's address or wording); returns how many
    pushes the layer accepted (sockets re-ask after a layer outage: feed.consumers)."""
    requests = job.requests.values_list("user_id", "filters", "base_url")
    sent = 0
    for user_pk, filters, base_url in requests:
        event = image_processed_event(job=job, filters=filters, base_url=base_url or None)
        sent += bool(realtime.send_to_user(user_pk, event))
    return sent
