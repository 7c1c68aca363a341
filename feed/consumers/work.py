"""The socket's slow work, run in worker threads: moderating a feed, looking up an image job."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from channels.db import database_sync_to_async

from diymod import realtime
from feed.services import feed_moderate, feed_unmodified
from filters.models import User
from imaging.jobs import image_processed_event
from imaging.models import ImageJob
from imaging.requests import image_job_wait
from imaging.selectors import image_requests_done_since

NO_IMAGE_JOB = "no image job for this url"
IMAGE_FAILED = "image processing failed"

# Feeds get their own threads: a burst of slow feeds (model calls) must not starve the quick
# database work of handshakes and image look-ups, which use the default executor.
FEED_THREADS = 8
feed_executor = ThreadPoolExecutor(max_workers=FEED_THREADS, thread_name_prefix="diymod-ws-feed")


def threaded_db(function: Any, executor: ThreadPoolExecutor | None = None) -> Any:
    """`function` as a coroutine run in a worker thread with Django's connection hygiene.

    Worker threads, not the one shared "sync thread": work of different sockets runs side by
    side and a slow call never queues the others.
    """
    return database_sync_to_async(function, thread_sensitive=False, executor=executor)


def feed_moderate_in_thread(
    *, user: User, url: str, body: str, base_url: str | None, cancelled: threading.Event
) -> Any:
    return feed_moderate(user=user, url=url, body=body, base_url=base_url, cancelled=cancelled)


def feed_unmodified_in_thread(url: str, body: str) -> str:
    return feed_unmodified(url=url, body=body)


def image_wait_in_thread(
    *, user: User, image_url: str, filter_texts: list[str], base_url: str | None
) -> realtime.ImageProcessed | str | None:
    """The ready event, NO_IMAGE_JOB, a failure message, or None while the job is pending."""
    job = image_job_wait(
        user=user, image_url=image_url, filter_texts=filter_texts, base_url=base_url or ""
    )
    if job is None:
        return NO_IMAGE_JOB
    # Read the status AFTER finding our request: a job finishing in between either pushes to
    # us (we are a requester) or is seen done here. Never neither.
    job.refresh_from_db()
    if job.status == ImageJob.Status.DONE:
        event = image_processed_event(job=job, filters=filter_texts, base_url=base_url)
        # Clients key on exactly the string they sent (CONTRACT section 6).
        return dataclasses.replace(event, image_url=image_url)
    if job.status == ImageJob.Status.FAILED:
        return IMAGE_FAILED
    return None


def image_results_missed_in_thread(
    *, user: User, since: datetime, base_url: str | None
) -> list[realtime.ImageProcessed]:
    """The `image_processed` events of the user's jobs done since `since` (a layer outage may
    have eaten their push), each with the user's own filters and this socket's base URL."""
    return [
        image_processed_event(job=request.job, filters=request.filters, base_url=base_url)
        for request in image_requests_done_since(user=user, since=since)
    ]
