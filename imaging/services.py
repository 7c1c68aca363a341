"""Writes for image jobs: request (deduplicated), wait, dispatch, re-queue, retry.

Dispatch: with a real broker a committed job goes to Celery (`.delay()`). In the embedded
default (CELERY_TASK_ALWAYS_EAGER) Celery would run the job inside the HTTP request and make
/get_feed wait for the fetch; instead the job runs on a small background thread pool after
commit, so the feed answers DEFERRED at once and the push follows through the in-memory channel
layer of the same process.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import OperationalError, close_old_connections, connections, transaction
from django.db.models import Q
from django.utils import timezone

from filters.models import User
from imaging.fetching import FetchTransientError
from imaging.models import ImageJob, ImageRequest
from imaging.runner import (
    image_job_fail,
    image_job_run,
    image_processed_event,
    image_result_path,
    image_result_url,
)
from imaging.selectors import filter_key_make, image_request_find, url_hash_make
from imaging.transforms import intervention_choose

logger = logging.getLogger(__name__)

__all__ = [
    "image_config_for",
    "image_job_dispatch",
    "image_job_request",
    "image_job_retry",
    "image_job_run",
    "image_job_wait",
    "image_requests_allowed",
    "image_jobs_prune",
    "image_jobs_requeue_stuck",
    "image_processed_event",
    "image_result_url",
]

CONFIG_TYPE = "cartoonish"  # the only deferred type the extension knows (CONTRACT section 5)
EAGER_THREADS = 2
EAGER_RETRY_DELAYS = (0.5, 2.0, 5.0)
DATABASE_LOCKED_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)
# After a failed send to the broker, jobs are left queued this long without trying again.
BROKER_PAUSE_SECONDS = 10.0
_broker_down_until = [0.0]


def image_job_request(
    *,
    user: User,
    image_url: str,
    filter_texts: list[str],
    intensity: int,
    intervention: str | None = None,
    base_url: str = "",
) -> ImageJob:
    """The job that makes this picture (image, filter set, intervention), created and queued
    (after commit) when new, and `user`'s own request of it recorded (with their validated
    `base_url`) so the push and /get_img_result reach them and only them. Never queues twice:
    the unique constraint decides between concurrent creators."""
    url_hash, filter_key = url_hash_make(image_url), filter_key_make(filter_texts)
    chosen = intervention_choose(intensity=intensity, requested=intervention)
    with transaction.atomic():
        job, created = ImageJob.objects.get_or_create(
            url_hash=url_hash,
            filter_key=filter_key,
            intervention=chosen,
            defaults={
                "image_url": image_url,
                "filters": [text for text in filter_texts if text.strip()],
            },
        )
        image_request_record(
            user=user, job=job, filter_texts=filter_texts, base_url=base_url, move=True
        )
        if created:
            transaction.on_commit(lambda: image_job_dispatch(job_id=job.pk), robust=True)
        elif job_is_stuck(job) or job_result_lost(job):
            # Heals jobs whose dispatch was lost (a restart of the embedded server, a broker
            # outage) even where no beat process runs the sweep, and results whose file is gone.
            if image_job_requeue(job=job):
                job.status = ImageJob.Status.QUEUED
    return job


def image_requests_allowed(*, wanted: int, already_in_feed: int) -> int:
    """How many of a post's `wanted` images may ask for a job: at most DIYMOD_IMAGES_PER_POST
    per post and DIYMOD_IMAGES_PER_FEED per feed (`already_in_feed` marked so far), so one
    hostile post of 3,000 images cannot queue 3,000 jobs. Images past the cap are left as they
    are (the post's text marker still shows)."""
    per_post, per_feed = settings.DIYMOD_IMAGES_PER_POST, settings.DIYMOD_IMAGES_PER_FEED
    allowed = max(0, min(wanted, per_post, per_feed - already_in_feed))
    if allowed < wanted:
        logger.info("image cap: %s of a post's %s images get a job", allowed, wanted)
    return allowed


def image_request_record(
    *, user: User, job: ImageJob, filter_texts: list[str], base_url: str, move: bool
) -> ImageRequest:
    """`user`'s request of (image, filter set): made, or pointed at `job` when `move` (their
    filter's treatment changed), its base URL refreshed when one is given."""
    request, created = ImageRequest.objects.get_or_create(
        user=user,
        url_hash=job.url_hash,
        filter_key=job.filter_key,
        defaults={
            "job": job,
            "filters": [text for text in filter_texts if text.strip()],
            "base_url": base_url[:255],
        },
    )
    if created:
        return request
    changes: dict[str, object] = {"requested_at": timezone.now()}
    if move and request.job_id != job.pk:
        changes["job"] = job
    if base_url:
        changes["base_url"] = base_url[:255]
    ImageRequest.objects.filter(pk=request.pk).update(**changes)
    return request


def image_job_wait(
    *, user: User, image_url: str, filter_texts: list[str], base_url: str = ""
) -> ImageJob | None:
    """The job a socket of `user` waits for (CONTRACT section 6, `wait_for_image`): the one
    they asked for themselves (their socket's validated `base_url` is kept for their push);
    None when they never asked, whoever else did."""
    request = image_request_find(user=user, image_url=image_url, filter_texts=filter_texts)
    if request is None:
        return None
    if base_url and request.base_url != base_url[:255]:
        ImageRequest.objects.filter(pk=request.pk).update(base_url=base_url[:255])
    return request.job


def image_config_for(
    job: ImageJob, *, filter_texts: list[str], best_filter: str, base_url: str | None = None
) -> dict | None:
    """The `diy-mod-image` object of CONTRACT section 5 for this job: DEFERRED while pending,
    COMPLETED with the absolute result URL when done. None for a failed job: the image is then
    left as it is (the feed never breaks over an image we could not fetch)."""
    if job.status == ImageJob.Status.DONE:
        return {
            "type": CONFIG_TYPE,
            "status": "COMPLETED",
            "processedUrl": image_result_url(job, base_url),
        }
    if job.status == ImageJob.Status.FAILED:
        return None
    return {
        "type": CONFIG_TYPE,
        "status": "DEFERRED",
        "filters": list(filter_texts),
        "best_filter_name": best_filter,
    }


# --- dispatch -----------------------------------------------------------------------------------


def image_job_dispatch(*, job_id: int) -> None:
    """Start the job: Celery with a broker, the background pool in the eager default."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        eager_pool().submit(image_job_run_in_background, job_id)
        return
    if time.monotonic() < _broker_down_until[0]:
        # The broker failed moments ago: do not make every image of this feed wait for it to
        # fail again. The job stays queued; the stuck-job sweep (or its next request) sends it.
        return
    from imaging.tasks import image_job_run_task

    try:
        image_job_run_task.apply_async(args=[job_id], retry=False)
    except Exception:
        _broker_down_until[0] = time.monotonic() + BROKER_PAUSE_SECONDS
        logger.exception("image job %s: could not reach the broker; left queued", job_id)


@lru_cache(maxsize=1)
def eager_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=EAGER_THREADS, thread_name_prefix="image-job")


def image_job_run_in_background(job_id: int) -> None:
    """The eager mode's stand-in for the Celery task: same run, same bounded retries. (The
    push reaches sockets of this process: `realtime.send_to_user` runs it on their loop.)"""
    close_old_connections()
    try:
        image_job_run_with_retries(job_id=job_id)
    except Exception:
        logger.exception("image job %s crashed in the background pool", job_id)
    finally:
        # Connections are per thread; a pool thread must not keep one open forever.
        connections.close_all()


def image_job_run_with_retries(*, job_id: int) -> None:
    transient_delays = iter(EAGER_RETRY_DELAYS)
    locked_delays = iter(DATABASE_LOCKED_DELAYS)
    while True:
        try:
            image_job_run(job_id=job_id)
            return
        except FetchTransientError as error:
            delay = next(transient_delays, None)
            if delay is None:
                image_job_fail(job_id=job_id, error=f"FetchTransientError: {error}")
                return
        except OperationalError as error:
            # SQLite (the embedded default) can refuse a write while another thread writes;
            # the run is idempotent, so running it again is safe.
            delay = next(locked_delays, None)
            if delay is None or "locked" not in str(error):
                raise
        time.sleep(delay)


# --- stuck jobs, retries ------------------------------------------------------------------------


def stuck_seconds_setting() -> int:
    return settings.DIYMOD_IMAGE_STUCK_SECONDS


def job_is_stuck(job: ImageJob, stuck_seconds: int | None = None) -> bool:
    seconds = stuck_seconds_setting() if stuck_seconds is None else stuck_seconds
    cutoff = timezone.now() - timedelta(seconds=seconds)
    if job.status == ImageJob.Status.QUEUED:
        return job.queued_at <= cutoff
    if job.status == ImageJob.Status.RUNNING:
        return job.started_at is None or job.started_at <= cutoff
    return False


def job_result_lost(job: ImageJob) -> bool:
    """A done job whose file is missing (media wiped or moved): its URL would be a 404."""
    return job.status == ImageJob.Status.DONE and not image_result_path(job.result).is_file()


def image_job_requeue(*, job: ImageJob) -> bool:
    """Queue a stuck job (or a done one whose file is lost) again; runs are idempotent, so
    whichever run finishes first wins."""
    changes: dict = {"status": ImageJob.Status.QUEUED, "queued_at": timezone.now()}
    if job.status == ImageJob.Status.DONE:
        changes.update(attempts=0, result="")
    requeued = ImageJob.objects.filter(pk=job.pk, status=job.status).update(**changes)
    if requeued:
        transaction.on_commit(lambda: image_job_dispatch(job_id=job.pk), robust=True)
    return bool(requeued)


def image_jobs_requeue_stuck(*, stuck_seconds: int | None = None) -> int:
    """Re-queue jobs queued or running for longer than `stuck_seconds` (a killed worker's
    jobs, lost messages); returns how many. Run by Celery beat and `manage.py image_jobs`."""
    seconds = stuck_seconds_setting() if stuck_seconds is None else stuck_seconds
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
        transaction.on_commit(lambda: image_job_dispatch(job_id=job.pk), robust=True)
    return bool(retried)


def image_jobs_prune(*, older_than_days: int) -> int:
    """Delete finished jobs (and their result files) older than `older_than_days`; a later
    request for the same image simply makes it again. Returns how many jobs went."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    old = ImageJob.objects.filter(
        status__in=[ImageJob.Status.DONE, ImageJob.Status.FAILED], finished_at__lt=cutoff
    )
    count = 0
    for job in old.iterator():
        if job.result:
            image_result_path(job.result).unlink(missing_ok=True)
        job.delete()
        count += 1
    return count
