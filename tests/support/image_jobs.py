"""Waiting for the image jobs of the embedded default, which run on a background thread pool
(imaging.dispatch.embedded_pool) and outlive the request that queued them."""

from __future__ import annotations

import threading
import time

from imaging.dispatch import embedded_pool
from imaging.jobs import PENDING
from imaging.models import ImageJob


def image_jobs_settle(timeout: float = 20.0) -> None:
    """Until no job is pending: their results are written (pushes may still be under way)."""
    deadline = time.monotonic() + timeout
    while ImageJob.objects.filter(status__in=PENDING).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def embedded_pool_drain(timeout: float = 30.0) -> None:
    """Until every job submitted so far has run to its end, pushes included; the next job gets
    a new pool. A test's database is flushed after this, so no job may still be using it."""
    pool = embedded_pool()
    embedded_pool.cache_clear()
    waiter = threading.Thread(target=pool.shutdown, kwargs={"wait": True}, daemon=True)
    waiter.start()
    waiter.join(timeout)
    assert not waiter.is_alive(), f"image jobs still running {timeout:.0f} s after the test"
