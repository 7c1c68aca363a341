"""The embedded default and a Celery worker run the same job function (issue 17, item 1): a job
whose fetch fails transiently is retried identically by both: the same runs of the same task,
the same waits from the one retry policy, the same end. The Celery side here is the task's own
`apply()`; tests/imaging/test_worker_integration.py checks a real worker against the policy."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from celery import signals
from django.db import transaction

from filters.models import User
from imaging.jobs import ImageJobRetryPolicy, image_job_run_task
from imaging.models import ImageJob
from imaging.requests import image_job_request
from tests.support.image_server import ImageServer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("imaging_settings"),
]


@dataclass
class TaskRuns:
    """Every run of a task in this process, as Celery's own signals report it."""

    runs: list[tuple[str, int, int]] = field(default_factory=list)  # task, job id, retries
    ends: dict[int, str] = field(default_factory=dict)  # job id -> final state
    ended: threading.Event = field(default_factory=threading.Event)

    def started(self, task: Any, args: tuple, **kwargs: Any) -> None:
        self.runs.append((task.name, int(args[0]), task.request.retries))

    def finished(self, task: Any, args: tuple, state: str | None = None, **kwargs: Any) -> None:
        if state != "RETRY":  # the run that ends the job's task for good
            self.ends[int(args[0])] = str(state)
            self.ended.set()

    def of(self, job_id: int) -> list[tuple[str, int]]:
        return [(name, retries) for name, job, retries in self.runs if job == job_id]


@pytest.fixture
def task_runs() -> Iterator[TaskRuns]:
    runs = TaskRuns()
    signals.task_prerun.connect(runs.started, weak=False)
    signals.task_postrun.connect(runs.finished, weak=False)
    try:
        yield runs
    finally:
        signals.task_prerun.disconnect(runs.started)
        signals.task_postrun.disconnect(runs.finished)


@pytest.fixture
def refused_url(settings) -> str:
    """An allowed address where nothing listens: every fetch is a refused connection."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    settings.DIYMOD_IMAGE_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
    return f"http://127.0.0.1:{port}/image.jpg"


def job_requested(url: str) -> ImageJob:
    """As /get_feed asks: in a transaction, so the dispatch follows the commit."""
    user, _ = User.objects.get_or_create(user_id="alice")
    with transaction.atomic():
        return image_job_request(user=user, image_url=url, filter_texts=["spiders"], intensity=4)


def run_embedded(url: str, settings: Any, task_runs: TaskRuns) -> int:
    """The embedded default: the job is dispatched after commit and runs in the background."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    task_runs.ended.clear()
    job = job_requested(url)
    # Nothing touches the database meanwhile (SQLite's table locks would add runs).
    assert task_runs.ended.wait(timeout=20), "the background run never ended"
    return job.pk


def run_by_celery(url: str, settings: Any, task_runs: TaskRuns) -> int:
    """What a worker does with the job's message, through the task's own `apply()`."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(image_job_run_task, "apply_async", lambda *args, **kwargs: None)
        job = job_requested(url)  # queued, its message "sent" nowhere
    image_job_run_task.apply(args=[job.pk])
    return job.pk


def retries_logged(caplog: pytest.LogCaptureFixture, job_id: int) -> list[tuple[int, float]]:
    return [
        (record.retry, record.delay)
        for record in caplog.records
        if getattr(record, "event", None) == "image_job_retry" and record.job_id == job_id
    ]


def job_outcome(job_id: int, task_runs: TaskRuns, caplog: pytest.LogCaptureFixture) -> dict:
    job = ImageJob.objects.get(pk=job_id)
    return {
        "runs": task_runs.of(job_id),
        "retries": retries_logged(caplog, job_id),
        "task end": task_runs.ends[job_id],
        "status": job.status,
        "attempts": job.attempts,
        "error kind": job.error.split(":")[0],
        "has result": bool(job.result),
    }


def expected_outcome(policy: ImageJobRetryPolicy, *, failures: int, recovers: bool) -> dict:
    """What the one policy says a job that fails `failures` times in a row goes through."""
    retries = min(failures, len(policy.transient_delays))
    return {
        "runs": [("imaging.tasks.image_job_run", n) for n in range(retries + 1)],
        "retries": [(n + 1, policy.transient_delays[n]) for n in range(retries)],
        "task end": "SUCCESS" if recovers else "FAILURE",
        "status": "done" if recovers else "failed",
        "attempts": retries + 1,
        "error kind": "" if recovers else "FetchTransientError",
        "has result": recovers,
    }


@dataclass
class BothPaths:
    settings: Any
    task_runs: TaskRuns
    caplog: pytest.LogCaptureFixture

    def outcomes(self, url_of: Any) -> dict[str, dict]:
        """The outcome of a job of `url_of(path name)` run each way (one URL per path: the
        same one would be the same job)."""
        self.caplog.set_level(logging.WARNING, logger="imaging.jobs")
        outcomes = {}
        for path in (run_embedded, run_by_celery):
            job_id = path(url_of(path.__name__), self.settings, self.task_runs)
            outcomes[path.__name__] = job_outcome(job_id, self.task_runs, self.caplog)
        return outcomes


@pytest.fixture
def both_paths(
    settings: Any, task_runs: TaskRuns, caplog: pytest.LogCaptureFixture, quick_retries: Any
) -> BothPaths:
    return BothPaths(settings, task_runs, caplog)


def test_the_embedded_default_and_celery_retry_a_flaky_image_identically_until_done(
    both_paths: BothPaths, image_server: ImageServer, quick_retries: ImageJobRetryPolicy
) -> None:
    outcomes = both_paths.outcomes(lambda path: image_server.url(f"/flaky?fail=2&key={path}"))

    assert outcomes["run_embedded"] == outcomes["run_by_celery"]
    assert outcomes["run_embedded"] == expected_outcome(quick_retries, failures=2, recovers=True)
    counters = image_server.httpd.counters
    assert counters["flaky:run_embedded"] == counters["flaky:run_by_celery"] == 3


def test_the_embedded_default_and_celery_give_up_on_a_refused_connection_identically(
    both_paths: BothPaths, refused_url: str, quick_retries: ImageJobRetryPolicy
) -> None:
    outcomes = both_paths.outcomes(lambda path: f"{refused_url}?path={path}")

    assert outcomes["run_embedded"] == outcomes["run_by_celery"]
    assert outcomes["run_embedded"] == expected_outcome(
        quick_retries, failures=len(quick_retries.transient_delays) + 1, recovers=False
    )
