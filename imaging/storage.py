"""Where results live: their files under MEDIA_ROOT, their absolute URLs, and the pruning of old
jobs with their files.

A result's name is deterministic per (image, filter set, intervention) and written atomically,
so a second run of the same job overwrites the first whole instead of piling up.
"""

from __future__ import annotations

import base64
import os
import threading
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from imaging.models import ImageJob
from imaging.transforms import TransformedImage

RESULT_DIRECTORY = "images"
# Results below this size also travel inside the push as a data: URL (CONTRACT section 6).
INLINE_MAX_BYTES = 48 * 1024
FALLBACK_BASE_URL = "http://127.0.0.1:8000"


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


def image_result_lost(job: ImageJob) -> bool:
    """A done job whose file is missing (media wiped or moved): its URL would be a 404."""
    return job.status == ImageJob.Status.DONE and not image_result_path(job.result).is_file()


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
