"""Image jobs: deduplication, the run (fetch → transform → store → push), failure and retry."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image

from diymod.realtime import user_group_name
from filters.models import User
from imaging import dispatch, jobs
from imaging.dispatch import image_job_retry, image_jobs_requeue_stuck
from imaging.fetching import FetchTransientError
from imaging.jobs import ImageJobRetryPolicy, image_job_run, image_job_run_task
from imaging.models import ImageJob
from imaging.requests import (
    image_config_for,
    image_job_request,
    image_job_wait,
    image_requests_allowed,
)
from imaging.storage import image_result_path
from tests.imaging.conftest import PUBLIC_URL
from tests.support.image_server import ImageServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("imaging_settings")]


@pytest.fixture
def dispatched(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Job ids handed to the queue (recorded instead of run, to test when and how often)."""
    calls: list[int] = []
    monkeypatch.setattr(dispatch, "image_job_dispatch", lambda *, job_id: calls.append(job_id))
    return calls


class GroupListener:
    """Subscribes a fresh channel to a user's group on the (in-memory) layer."""

    def __init__(self, user: User) -> None:
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(user_group_name(user.pk), self.channel)

    def frames(self) -> list[dict]:
        async def drain() -> list[dict]:
            frames = []
            while True:
                try:
                    message = await asyncio.wait_for(self.layer.receive(self.channel), 0.2)
                except TimeoutError:
                    return frames
                frames.append(message["frame"])

        return async_to_sync(drain)()


def request(user: User, url: str, filters: list[str] | None = None, **options: object) -> ImageJob:
    options.setdefault("intensity", 4)
    return image_job_request(
        user=user, image_url=url, filter_texts=filters or ["spiders"], **options
    )


def job_requested_and_committed(user: User, url: str, **options: object) -> ImageJob:
    with transaction.atomic():
        return request(user, url, **options)


# --- deduplication ---


def test_the_same_image_for_two_users_is_one_job_with_both_requesters(
    alice: User, bob: User, dispatched: list[int], django_capture_on_commit_callbacks
) -> None:
    url = "https://i.redd.it/abc.jpg"

    with django_capture_on_commit_callbacks(execute=True):
        first = request(alice, url)
    with django_capture_on_commit_callbacks(execute=True):
        second = request(bob, url)

    assert first.pk == second.pk
    assert ImageJob.objects.count() == 1
    assert set(first.requesters.all()) == {alice, bob}
    assert dispatched == [first.pk]


def test_asking_again_never_queues_twice(
    alice: User, dispatched: list[int], django_capture_on_commit_callbacks
) -> None:
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            job = request(alice, "https://i.redd.it/abc.jpg")

    assert dispatched == [job.pk]
    assert list(job.requesters.all()) == [alice]


def test_filter_order_case_and_spacing_do_not_make_a_new_job(
    alice: User, dispatched: list[int]
) -> None:
    first = request(alice, "https://i.redd.it/a.jpg", ["Spiders", "snakes"])
    second = request(alice, "https://i.redd.it/a.jpg", [" snakes", "spiders  "])

    assert first.pk == second.pk


def test_another_filter_set_or_another_url_is_another_job(
    alice: User, dispatched: list[int]
) -> None:
    base = request(alice, "https://i.redd.it/a.jpg", ["spiders"])
    other_filters = request(alice, "https://i.redd.it/a.jpg", ["spiders", "snakes"])
    other_url = request(alice, "https://i.redd.it/a.jpg?width=640", ["spiders"])

    assert len({base.pk, other_filters.pk, other_url.pk}) == 3


def test_the_database_refuses_a_second_row_for_the_same_image_and_filters(
    alice: User, dispatched: list[int]
) -> None:
    job = request(alice, "https://i.redd.it/a.jpg")

    with pytest.raises(IntegrityError), transaction.atomic():
        ImageJob.objects.create(
            image_url=job.image_url,
            url_hash=job.url_hash,
            filter_key=job.filter_key,
            intervention=job.intervention,
        )


def test_very_long_urls_are_stored_whole(alice: User, dispatched: list[int]) -> None:
    url = "https://preview.redd.it/x.jpg?" + "a=1&" * 2000

    job = request(alice, url)

    job.refresh_from_db()
    assert job.image_url == url and len(job.url_hash) == 64


def test_a_job_is_queued_only_after_commit(
    alice: User, dispatched: list[int], django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request(alice, "https://i.redd.it/a.jpg")
        assert dispatched == []

    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("intensity", "choice", "expected"),
    [(1, None, "blur"), (3, None, "warning"), (5, None, "cartoon"), (5, "pixelate", "pixelate")],
)
def test_the_intervention_follows_the_filters_choice_else_the_intensity(
    alice: User, dispatched: list[int], intensity: int, choice: str | None, expected: str
) -> None:
    job = request(
        alice, f"https://i.redd.it/{intensity}.jpg", intensity=intensity, intervention=choice
    )

    assert job.intervention == expected


# --- the contract objects ---


def test_a_pending_job_gives_the_deferred_config(alice: User, dispatched: list[int]) -> None:
    job = request(alice, "https://i.redd.it/a.jpg", ["spiders", "snakes"])

    config = image_config_for(job, filter_texts=["spiders", "snakes"], best_filter="spiders")

    assert config == {
        "type": "cartoonish",
        "status": "DEFERRED",
        "filters": ["spiders", "snakes"],
        "best_filter_name": "spiders",
    }


def test_a_done_job_gives_the_completed_config_with_an_absolute_url(
    alice: User, image_server: ImageServer
) -> None:
    job = job_done(alice, image_server.url("/image.jpg?w=90&h=60"))

    config = image_config_for(job, filter_texts=["spiders"], best_filter="spiders")

    assert config == {
        "type": "cartoonish",
        "status": "COMPLETED",
        "processedUrl": f"{PUBLIC_URL}/media/{job.result}",
    }


def test_a_failed_job_gives_no_image_edit(alice: User, image_server: ImageServer) -> None:
    job = job_done(alice, image_server.url("/status?code=404"))

    assert job.status == ImageJob.Status.FAILED
    assert image_config_for(job, filter_texts=["spiders"], best_filter="spiders") is None


def test_without_a_public_url_results_use_the_requests_base(
    alice: User, image_server: ImageServer, settings, dispatched: list[int]
) -> None:
    settings.DIYMOD_PUBLIC_URL = ""
    job = request(alice, image_server.url("/image.jpg"), base_url="http://10.0.0.2:8000/")
    image_job_run(job_id=job.pk)
    job.refresh_from_db()

    config = image_config_for(
        job, filter_texts=["spiders"], best_filter="spiders", base_url="http://10.0.0.2:8000"
    )

    assert config["processedUrl"] == f"http://10.0.0.2:8000/media/{job.result}"


# --- running a job ---


def job_done(user: User, url: str, **options: object) -> ImageJob:
    job = request(user, url, **options)
    image_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_a_run_stores_the_transformed_image_and_records_timings(
    alice: User, image_server: ImageServer
) -> None:
    job = job_done(alice, image_server.url("/image.jpg?w=160&h=120"), intensity=1)

    stored = Image.open(image_result_path(job.result))
    assert job.status == ImageJob.Status.DONE and job.attempts == 1
    assert stored.size == (160, 120) == (job.result_width, job.result_height)
    assert job.result.startswith("images/") and job.result.endswith("-blur.jpg")
    assert job.fetch_ms is not None and job.transform_ms is not None and job.total_ms is not None
    assert job.started_at <= job.finished_at


def test_every_requester_gets_one_image_processed_with_the_contract_payload(
    alice: User, bob: User, image_server: ImageServer, dispatched: list[int]
) -> None:
    url = image_server.url("/image.jpg?w=120&h=90&seed=7")
    listeners = {alice: GroupListener(alice), bob: GroupListener(bob)}
    request(alice, url, ["Spiders"])
    job = request(bob, url, ["spiders"])

    image_job_run(job_id=job.pk)

    job.refresh_from_db()
    result_url = f"{PUBLIC_URL}/media/{job.result}"
    for user, listener in listeners.items():
        (frame,) = listener.frames()
        assert frame["type"] == "image_processed"
        assert frame["image_url"] == url
        assert frame["processed_value"] == frame["result"] == result_url
        assert isinstance(frame["result"], str)
        # Each requester's own wording (issue 12.3: nothing of another user's request leaks).
        assert frame["filters"] == (["Spiders"] if user == alice else ["spiders"])
        assert frame["timestamp"]
        assert frame["data"]["image_url"] == url and frame["data"]["result"] == result_url
        inline = base64.b64decode(frame["base64_url"].removeprefix("data:image/jpeg;base64,"))
        assert inline == image_result_path(job.result).read_bytes()


def test_a_big_result_is_pushed_without_a_data_url(alice: User, image_server: ImageServer) -> None:
    listener = GroupListener(alice)

    job = job_done(
        alice, image_server.url("/image.png?w=1600&h=1200&alpha=1"), intervention="grayscale"
    )

    (frame,) = listener.frames()
    assert job.result.endswith(".png") and job.result_bytes >= 48 * 1024
    assert "base64_url" not in frame
    assert frame["processed_value"].endswith(".png")


def test_a_user_waits_for_their_own_request_and_never_for_another_users(
    alice: User, bob: User, dispatched: list[int]
) -> None:
    job = request(alice, "https://i.redd.it/a.jpg", ["spiders"])

    mine = image_job_wait(
        user=alice, image_url="https://i.redd.it/a.jpg", filter_texts=["Spiders"]
    )
    theirs = image_job_wait(
        user=bob, image_url="https://i.redd.it/a.jpg", filter_texts=["spiders"]
    )

    assert mine is not None and mine.pk == job.pk
    assert theirs is None  # bob never asked: alice's job is none of his business (issue 12.3)
    assert set(job.requesters.all()) == {alice}


def test_waiting_for_an_image_nobody_asked_for_is_none(bob: User) -> None:
    assert image_job_wait(user=bob, image_url="https://i.redd.it/zzz.jpg", filter_texts=[]) is None


def test_running_a_done_job_again_changes_nothing_and_pushes_nothing(
    alice: User, image_server: ImageServer
) -> None:
    job = job_done(alice, image_server.url("/image.jpg"))
    listener = GroupListener(alice)
    requests_before = len(image_server.requests)

    image_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImageJob.Status.DONE and job.attempts == 1
    assert listener.frames() == []
    assert len(image_server.requests) == requests_before


def test_a_job_left_running_by_a_dead_worker_completes_and_pushes_once(
    alice: User, image_server: ImageServer, dispatched: list[int]
) -> None:
    job = request(alice, image_server.url("/image.jpg?seed=3"))
    ImageJob.objects.filter(pk=job.pk).update(status="running", attempts=1)
    listener = GroupListener(alice)

    image_job_run(job_id=job.pk)
    image_job_run(job_id=job.pk)  # the redelivered message, after the first run finished

    job.refresh_from_db()
    assert job.status == ImageJob.Status.DONE and job.attempts == 2
    assert len(listener.frames()) == 1


# --- failure ---


@pytest.mark.parametrize(
    "path", ["/status?code=404", "/text", "/bomb?w=8000&h=8000", "/redirect?to=http://10.0.0.1/x"]
)
def test_a_permanent_fetch_error_fails_the_job_without_a_push(
    alice: User, image_server: ImageServer, path: str
) -> None:
    listener = GroupListener(alice)

    job = job_done(alice, image_server.url(path))

    assert job.status == ImageJob.Status.FAILED
    assert job.error and job.finished_at is not None and not job.result
    assert listener.frames() == []


def test_a_host_off_the_allow_list_fails_without_a_request(
    alice: User, image_server: ImageServer, settings
) -> None:
    settings.DIYMOD_IMAGE_ALLOWED_HOSTS = ["i.redd.it"]
    before = len(image_server.requests)

    job = job_done(alice, image_server.url("/image.jpg"))

    assert job.status == ImageJob.Status.FAILED and "allow-list" in job.error
    assert len(image_server.requests) == before


def test_a_transient_error_puts_the_job_back_in_the_queue(
    alice: User, image_server: ImageServer, dispatched: list[int]
) -> None:
    job = request(alice, image_server.url("/status?code=503"))

    with pytest.raises(FetchTransientError):
        image_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImageJob.Status.QUEUED
    assert job.error.startswith("retrying:") and job.attempts == 1


def test_a_job_that_keeps_dying_is_given_up_after_the_attempt_limit(
    alice: User, image_server: ImageServer, dispatched: list[int]
) -> None:
    job = request(alice, image_server.url("/image.jpg"))
    max_attempts = jobs.IMAGE_JOB_RETRIES.max_attempts
    ImageJob.objects.filter(pk=job.pk).update(status="running", attempts=max_attempts)

    image_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImageJob.Status.FAILED and "attempts" in job.error


# --- the Celery task ---


def test_the_task_retries_transient_errors_until_the_host_recovers(
    alice: User, image_server: ImageServer, dispatched: list[int], quick_retries: object
) -> None:
    job = request(alice, image_server.url("/flaky?fail=2&key=task-recovers"))

    image_job_run_task.apply(args=[job.pk])

    job.refresh_from_db()
    assert job.status == ImageJob.Status.DONE and job.attempts == 3
    assert image_server.httpd.counters["flaky:task-recovers"] == 3


def test_the_task_fails_the_job_when_retries_run_out(
    alice: User,
    image_server: ImageServer,
    dispatched: list[int],
    quick_retries: ImageJobRetryPolicy,
) -> None:
    job = request(alice, image_server.url("/flaky?fail=99&key=task-gives-up"))

    image_job_run_task.apply(args=[job.pk])

    job.refresh_from_db()
    assert job.status == ImageJob.Status.FAILED
    assert "FetchTransientError" in job.error
    assert job.attempts == len(quick_retries.transient_delays) + 1
    assert image_server.httpd.counters["flaky:task-gives-up"] == job.attempts


def test_the_task_declares_late_acks_time_limits_and_a_growing_backoff(settings) -> None:
    task, policy = image_job_run_task, jobs.IMAGE_JOB_RETRIES
    assert task.acks_late and task.reject_on_worker_lost
    assert 0 < task.soft_time_limit < task.time_limit
    assert FetchTransientError in policy.transient_errors
    assert list(policy.transient_delays) == sorted(policy.transient_delays)
    # A job waiting for its last retry must never look stuck to the sweep.
    assert task.time_limit + sum(policy.transient_delays) < settings.DIYMOD_IMAGE_STUCK_SECONDS


# --- stuck jobs, retry ---


def test_stuck_jobs_are_requeued_and_live_ones_left_alone(
    alice: User, dispatched: list[int], django_capture_on_commit_callbacks
) -> None:
    long_ago = timezone.now() - timedelta(minutes=10)
    stuck_running = request(alice, "https://i.redd.it/1.jpg")
    stuck_queued = request(alice, "https://i.redd.it/2.jpg")
    live = request(alice, "https://i.redd.it/3.jpg")
    done = request(alice, "https://i.redd.it/4.jpg")
    ImageJob.objects.filter(pk=stuck_running.pk).update(status="running", started_at=long_ago)
    ImageJob.objects.filter(pk=stuck_queued.pk).update(queued_at=long_ago)
    ImageJob.objects.filter(pk=live.pk).update(status="running", started_at=timezone.now())
    ImageJob.objects.filter(pk=done.pk).update(status="done", started_at=long_ago)
    dispatched.clear()

    with django_capture_on_commit_callbacks(execute=True):
        count = image_jobs_requeue_stuck()

    assert count == 2
    assert sorted(dispatched) == sorted([stuck_running.pk, stuck_queued.pk])
    assert ImageJob.objects.get(pk=stuck_running.pk).status == ImageJob.Status.QUEUED
    assert ImageJob.objects.get(pk=live.pk).status == ImageJob.Status.RUNNING


def test_asking_for_a_stuck_job_requeues_it_even_without_beat(
    alice: User, bob: User, dispatched: list[int], django_capture_on_commit_callbacks
) -> None:
    job = request(alice, "https://i.redd.it/1.jpg")
    ImageJob.objects.filter(pk=job.pk).update(queued_at=timezone.now() - timedelta(hours=1))
    dispatched.clear()

    with django_capture_on_commit_callbacks(execute=True):
        request(bob, "https://i.redd.it/1.jpg")

    assert dispatched == [job.pk]


def test_retrying_a_failed_job_queues_it_afresh(
    alice: User, dispatched: list[int], django_capture_on_commit_callbacks
) -> None:
    job = request(alice, "https://i.redd.it/1.jpg")
    ImageJob.objects.filter(pk=job.pk).update(status="failed", attempts=5, error="boom")
    dispatched.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert image_job_retry(job=job)

    job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == ("queued", 0, "")
    assert dispatched == [job.pk]


def test_a_done_job_is_not_retried(alice: User, dispatched: list[int]) -> None:
    job = request(alice, "https://i.redd.it/1.jpg")
    ImageJob.objects.filter(pk=job.pk).update(status="done")

    assert not image_job_retry(job=job)


def test_the_image_jobs_command_lists_and_retries_failed_jobs(
    alice: User,
    dispatched: list[int],
    capsys: pytest.CaptureFixture[str],
    django_capture_on_commit_callbacks,
) -> None:
    failed = request(alice, "https://i.redd.it/1.jpg")
    request(alice, "https://i.redd.it/2.jpg")
    ImageJob.objects.filter(pk=failed.pk).update(status="failed", error="host answered 404")
    dispatched.clear()

    call_command("image_jobs", "--status", "failed")
    listing = capsys.readouterr().out
    with django_capture_on_commit_callbacks(execute=True):
        call_command("image_jobs", "--retry")
    retried = capsys.readouterr().out

    assert "https://i.redd.it/1.jpg" in listing and "2.jpg" not in listing
    assert "host answered 404" in listing
    assert "Re-queued 1 job(s)" in retried
    assert dispatched == [failed.pk]


def test_a_result_file_is_replaced_whole_by_a_second_run(
    alice: User, image_server: ImageServer
) -> None:
    job = job_done(alice, image_server.url("/image.jpg?w=50&h=40"))
    path: Path = image_result_path(job.result)
    first = path.read_bytes()
    ImageJob.objects.filter(pk=job.pk).update(status="queued")

    image_job_run(job_id=job.pk)

    assert path.read_bytes() == first
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left
    assert Image.open(BytesIO(first)).size == (50, 40)


def test_a_done_job_whose_file_is_gone_is_made_again_on_the_next_request(
    alice: User,
    image_server: ImageServer,
    dispatched: list[int],
    django_capture_on_commit_callbacks,
) -> None:
    job = job_done(alice, image_server.url("/image.jpg?w=40&h=30"))
    image_result_path(job.result).unlink()
    dispatched.clear()

    with django_capture_on_commit_callbacks(execute=True):
        again = request(alice, job.image_url)

    assert dispatched == [job.pk]
    assert image_config_for(again, filter_texts=["spiders"], best_filter="spiders")["status"] == (
        "DEFERRED"
    )
    image_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImageJob.Status.DONE and image_result_path(job.result).is_file()


def test_pruning_deletes_old_finished_jobs_and_their_files_only(
    alice: User, image_server: ImageServer, dispatched: list[int]
) -> None:
    old_done = job_done(alice, image_server.url("/image.jpg?w=30&h=20&seed=21"))
    recent_done = job_done(alice, image_server.url("/image.jpg?w=30&h=20&seed=22"))
    old_pending = request(alice, "https://i.redd.it/pending.jpg")
    long_ago = timezone.now() - timedelta(days=40)
    ImageJob.objects.filter(pk__in=[old_done.pk, old_pending.pk]).update(finished_at=long_ago)

    call_command("image_jobs", "--prune-days", "30")

    assert set(ImageJob.objects.values_list("pk", flat=True)) == {recent_done.pk, old_pending.pk}
    assert not image_result_path(old_done.result).exists()
    assert image_result_path(recent_done.result).exists()


def test_an_unreachable_broker_leaves_jobs_queued_and_is_not_retried_for_every_image(
    alice: User, settings, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    attempts: list[int] = []

    def broker_down(*, args: list[int], retry: bool) -> None:
        attempts.append(args[0])
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(image_job_run_task, "apply_async", broker_down)
    monkeypatch.setattr(dispatch, "BROKER_PAUSE", dispatch.BrokerPause(seconds=10.0))

    with django_capture_on_commit_callbacks(execute=True):
        first = request(alice, "https://i.redd.it/1.jpg")
    with django_capture_on_commit_callbacks(execute=True):
        request(alice, "https://i.redd.it/2.jpg")

    assert attempts == [first.pk]
    assert set(ImageJob.objects.values_list("status", flat=True)) == {"queued"}


# --- issue 12: per-requester treatment and address, bounded work ------------------------------


def test_another_users_treatment_is_another_job_and_never_chosen_for_them(
    alice: User, bob: User, dispatched: list[int]
) -> None:
    url = "https://i.redd.it/shared.jpg"
    attacker = request(alice, url, ["spiders"], intervention="grayscale")
    victim = request(bob, url, ["spiders"], intervention="blur")
    same_as_victim = request(alice, "https://i.redd.it/other.jpg", ["spiders"], intensity=1)

    assert attacker.pk != victim.pk
    assert (attacker.intervention, victim.intervention) == ("grayscale", "blur")
    assert set(victim.requesters.all()) == {bob} and set(attacker.requesters.all()) == {alice}
    assert same_as_victim.intervention == "blur"  # intensity 1 picks blur, like bob's choice
    assert ImageJob.objects.filter(url_hash=victim.url_hash).count() == 2


def test_two_users_who_would_get_the_same_picture_share_one_job(
    alice: User, bob: User, dispatched: list[int]
) -> None:
    first = request(alice, "https://i.redd.it/x.jpg", ["spiders"], intervention="blur")
    second = request(bob, "https://i.redd.it/x.jpg", ["Spiders"], intensity=1)

    assert first.pk == second.pk and ImageJob.objects.count() == 1


def test_changing_ones_treatment_moves_ones_request_to_the_other_job(
    alice: User, dispatched: list[int]
) -> None:
    from imaging.selectors import image_job_find_for

    url = "https://i.redd.it/y.jpg"
    request(alice, url, ["spiders"], intervention="blur")
    later = request(alice, url, ["spiders"], intervention="pixelate")

    found = image_job_find_for(user=alice, image_url=url, filter_texts=["spiders"])
    assert found is not None and found.pk == later.pk


def test_each_requester_is_pushed_the_url_of_their_own_base_never_the_creators(
    alice: User, bob: User, image_server: ImageServer, settings, dispatched: list[int]
) -> None:
    settings.DIYMOD_PUBLIC_URL = ""
    url = image_server.url("/image.jpg?w=90&h=60&seed=12")
    listeners = {alice: GroupListener(alice), bob: GroupListener(bob)}
    # The creator reached the server through another (allowed) name than the victim.
    request(alice, url, base_url="http://attacker-chosen.example:8000")
    job = request(bob, url, base_url="http://127.0.0.1:8000")

    image_job_run(job_id=job.pk)

    job.refresh_from_db()
    (attacker_frame,) = listeners[alice].frames()
    (victim_frame,) = listeners[bob].frames()
    assert victim_frame["processed_value"] == f"http://127.0.0.1:8000/media/{job.result}"
    assert "attacker-chosen" not in str(victim_frame)
    assert attacker_frame["processed_value"].startswith("http://attacker-chosen.example:8000/")


def test_a_post_with_thousands_of_images_queues_only_the_per_post_cap(settings) -> None:
    settings.DIYMOD_IMAGES_PER_POST = 20
    settings.DIYMOD_IMAGES_PER_FEED = 100

    assert image_requests_allowed(wanted=3000, already_in_feed=0) == 20
    assert image_requests_allowed(wanted=5, already_in_feed=0) == 5
    assert image_requests_allowed(wanted=20, already_in_feed=90) == 10
    assert image_requests_allowed(wanted=20, already_in_feed=100) == 0
