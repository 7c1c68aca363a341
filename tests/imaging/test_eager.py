"""The embedded default (CELERY_TASK_ALWAYS_EAGER): jobs run (the Celery task, through its own
`apply()`) on a background thread after commit, never inside the request, and the push reaches
the user's socket through the in-memory channel layer of the same process."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import OperationalError

from diymod.asgi import application
from filters.models import User
from imaging.models import ImageJob
from imaging.requests import image_config_for, image_job_request
from tests.imaging.conftest import PUBLIC_URL
from tests.support.image_server import ImageServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("imaging_settings")]

ORIGIN = [(b"origin", b"https://www.reddit.com")]


@pytest.fixture
def eager(settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True


def request_in_a_view(user_id: str, image_url: str) -> tuple[ImageJob, dict | None]:
    """What /get_feed does: request the job and build the image config in one go."""
    user = User.objects.get(user_id=user_id)
    job = image_job_request(user=user, image_url=image_url, filter_texts=["spiders"], intensity=4)
    return job, image_config_for(job, filter_texts=["spiders"], best_filter="spiders")


async def job_status(job_id: int) -> str:
    """The job's status, read again when the test database (in-memory SQLite with a shared
    cache: table locks fail at once instead of waiting) is busy with the background write."""
    for _ in range(50):
        try:
            return (await ImageJob.objects.aget(pk=job_id)).status
        except OperationalError:
            await asyncio.sleep(0.02)
    raise AssertionError("the test database stayed locked")


async def job_status_when_settled(job_id: int, timeout: float = 10.0) -> str:
    async def settled() -> str:
        while (status := await job_status(job_id)) in ("queued", "running"):
            await asyncio.sleep(0.05)
        return status

    return await asyncio.wait_for(settled(), timeout)


@pytest.mark.usefixtures("eager")
async def test_the_feed_answers_deferred_at_once_and_the_socket_gets_the_push_later(
    image_server: ImageServer,
) -> None:
    # Debug mode makes asyncio refuse cross-thread calls into the loop: the push must run ON
    # the serving loop (the in-memory layer's queues are not thread-safe).
    asyncio.get_running_loop().set_debug(True)
    await User.objects.acreate(user_id="alice")
    socket = WebsocketCommunicator(application, "/ws/alice", headers=ORIGIN)
    connected, _ = await socket.connect()
    assert connected
    url = image_server.url("/gate?key=feed-answers-first&w=200&h=150")

    job, config = await database_sync_to_async(request_in_a_view)("alice", url)

    # The image server holds the fetch until the gate opens: the request came back first.
    assert config is not None and config["status"] == "DEFERRED"
    assert await job_status(job.pk) in ("queued", "running")
    assert await socket.receive_nothing(timeout=0.2)
    image_server.gate_open("feed-answers-first")
    frame = await socket.receive_json_from(timeout=10)
    assert frame["type"] == "image_processed"
    assert frame["image_url"] == url
    assert frame["processed_value"].startswith(f"{PUBLIC_URL}/media/images/")
    assert await job_status_when_settled(job.pk) == "done"
    await socket.disconnect()


@pytest.mark.usefixtures("eager")
async def test_two_users_of_the_same_image_each_get_one_push_and_the_image_is_fetched_once(
    image_server: ImageServer,
) -> None:
    await User.objects.acreate(user_id="alice")
    await User.objects.acreate(user_id="bob")
    sockets = {}
    for name in ("alice", "bob"):
        sockets[name] = WebsocketCommunicator(application, f"/ws/{name}", headers=ORIGIN)
        assert (await sockets[name].connect())[0]
    path = "/image.jpg?w=120&h=90&delay=0.3&seed=11"
    url = image_server.url(path)

    first, _ = await database_sync_to_async(request_in_a_view)("alice", url)
    second, _ = await database_sync_to_async(request_in_a_view)("bob", url)

    assert first.pk == second.pk
    for socket in sockets.values():
        frame = await socket.receive_json_from(timeout=10)
        assert frame["image_url"] == url
        assert await socket.receive_nothing(timeout=0.3)
    assert image_server.paths_requested().count(path) == 1
    for socket in sockets.values():
        await socket.disconnect()


@pytest.mark.usefixtures("eager", "quick_retries")
async def test_a_transient_error_is_retried_in_the_background(
    image_server: ImageServer,
) -> None:
    await User.objects.acreate(user_id="carol")
    url = image_server.url("/flaky?fail=1&key=eager-retry")

    job, _ = await database_sync_to_async(request_in_a_view)("carol", url)

    assert await job_status_when_settled(job.pk) == "done"
    assert image_server.httpd.counters["flaky:eager-retry"] == 2


@pytest.mark.usefixtures("eager")
async def test_a_refused_image_fails_in_the_background_and_pushes_nothing(
    image_server: ImageServer,
) -> None:
    await User.objects.acreate(user_id="dave")
    socket = WebsocketCommunicator(application, "/ws/dave", headers=ORIGIN)
    assert (await socket.connect())[0]

    job, _ = await database_sync_to_async(request_in_a_view)("dave", image_server.url("/text"))

    assert await job_status_when_settled(job.pk) == "failed"
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()
