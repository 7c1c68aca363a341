"""Running one image job: fetch → transform → store → mark done → push (DESIGN.md, "Images").

Idempotent and safe to run twice at once (a redelivered Celery message, a re-queued stuck job):
every state change is a conditional UPDATE, the result file name is deterministic and written
atomically, and only the run whose UPDATE turns the job to `done` pushes `image_processed`, so
each requester is told once.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from diymod import realtime
from imaging.editors import image_edit
from imaging.fetching import FetchRefused, FetchTransientError, image_fetch
from imaging.models import ImageJob
from imaging.transforms import TransformedImage

logger = logging.getLogger(__name__)

PENDING = (ImageJob.Status.QUEUED, ImageJob.Status.RUNNING)
# A job that keeps killing its worker (or timing out) must end some day.
MAX_ATTEMPTS = 8
# Results below this size also travel inside the push as a data: URL (CONTRACT section 6).
INLINE_MAX_BYTES = 48 * 1024
RESULT_DIRECTORY = "images"
FALLBACK_BASE_URL = "http://127.0.0.1:8000"
PUBLIC_FAILURE_MESSAGE = "The image could not be processed."


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
    claimed = ImageJob.objects.filter(pk=job_id, status__in=PENDING, attempts__lt=MAX_ATTEMPTS)
    if claimed.update(status=ImageJob.Status.RUNNING, started_at=now, attempts=F("attempts") + 1):
        return True
    image_job_fail(job_id=job_id, error=f"gave up after {MAX_ATTEMPTS} attempts")
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


# --- storage and URLs ---------------------------------------------------------------------------


def image_result_name(*, job: ImageJob, extension: str) -> str:
    """Deterministic, so a second run of the same job overwrites instead of piling up."""
    stem = f"{job.url_hash[:32]}-{job.filter_key[:16]}-{job.intervention}"
    return f"{RESULT_DIRECTORY}/{job.url_hash[:2]}/{stem}.{extension}"


def image_result_path(name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


def image_result_store(*, job: ImageJob, transformed: TransformedImage) -> str:
    """Write the result under MEDIA_ROOT atomically (temp file + rename): a reader never sees
    half a file, and two runs racing both leave a whole one."""
    name = image_result_name(job=job, extension=transformed.extension)
    path = image_result_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_bytes(transformed.data)
    os.replace(temporary, path)
    return name


def public_base_url(*, base_url: str | None = None) -> str:
    """DIYMOD_PUBLIC_URL when configured; else the base the reader itself reached us at (its
    Host checked against ALLOWED_HOSTS), never another user's; else the embedded default."""
    for candidate in (settings.DIYMOD_PUBLIC_URL, base_url):
        if candidate:
            return candidate.rstrip("/")
    return FALLBACK_BASE_URL


def image_result_url(job: ImageJob, base_url: str | None = None) -> str:
    """The absolute URL of a done job's result (pages on reddit.com must load it: never
    relative, CONTRACT section 5)."""
    media_url = str(settings.MEDIA_URL)
    if not media_url.startswith("/"):
        media_url = f"/{media_url}"
    media_url = media_url if media_url.endswith("/") else f"{media_url}/"
    return f"{public_base_url(base_url=base_url)}{media_url}{job.result}"


def image_result_data_url(job: ImageJob) -> str | None:
    """A data: URL of a small result (None when big or unreadable)."""
    if not job.result or (job.result_bytes or 0) >= INLINE_MAX_BYTES:
        return None
    try:
        data = image_result_path(job.result).read_bytes()
    except OSError:
        return None
    if len(data) >= INLINE_MAX_BYTES:
        return None
    content_type = "image/png" if job.result.endswith(".png") else "image/jpeg"
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


# --- push ---------------------------------------------------------------------------------------


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
