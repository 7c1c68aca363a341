"""Issue 12 on the socket: the Host header cannot poison another user's image URLs (item 2),
nobody waits on another user's job (item 3), a user's sockets are capped (item 5), and results
whose push a layer outage ate are told after it, once (item 7)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from filters.services import user_get_or_create
from tests.support.realtime_fixtures import REDDIT_ORIGIN, in_memory_layer_use, socket_open

pytestmark = pytest.mark.django_db(transaction=True)

IMAGE_URL = "https://i.redd.it/spider-host.jpg"


@pytest.fixture(autouse=True)
def fresh_layer(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from imaging import dispatch

    in_memory_layer_use(settings)
    # The tests finish jobs themselves: no background run may fail them first.
    monkeypatch.setattr(dispatch, "image_job_dispatch", lambda *, job_id: None)
    settings.DIYMOD_PUBLIC_URL = ""
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver", "other.example"]


async def handshake(path: str, host: bytes | None) -> tuple[bool, Any, WebsocketCommunicator]:
    from diymod.asgi import application

    headers = [*REDDIT_ORIGIN, *([(b"host", host)] if host is not None else [])]
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return connected, code, communicator


async def send(socket: WebsocketCommunicator, message: dict[str, Any]) -> None:
    await socket.send_to(text_data=json.dumps(message))


def wait_frame(image_url: str = IMAGE_URL) -> dict[str, Any]:
    return {"type": "wait_for_image", "data": {"image_url": image_url, "filters": ["spiders"]}}


def job_requested(user_id: str, base_url: str, image_url: str = IMAGE_URL) -> int:
    from imaging.requests import image_job_request

    user = user_get_or_create(user_id=user_id)
    job = image_job_request(
        user=user,
        image_url=image_url,
        filter_texts=["spiders"],
        intensity=1,
        base_url=base_url,
    )
    return job.pk


def job_finish(job_pk: int, *, notify: bool = True) -> None:
    from imaging.jobs import image_job_notify
    from imaging.models import ImageJob

    ImageJob.objects.filter(pk=job_pk).update(
        status="done", result="images/host-test.jpg", finished_at=timezone.now()
    )
    if notify:
        image_job_notify(job=ImageJob.objects.get(pk=job_pk))


# --- item 2: Host -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", [b"evil.example", b"evil.example:8000", b"localhost.evil.example", b"a b", b""]
)
async def test_a_socket_whose_host_is_not_allowed_is_refused_with_4400(host: bytes) -> None:
    connected, code, _ = await handshake("/ws/mallory", host)

    assert not connected and code == 4400


@pytest.mark.parametrize("host", [b"localhost:8000", b"127.0.0.1", b"other.example"])
async def test_a_socket_with_an_allowed_host_opens(host: bytes) -> None:
    connected, _, socket = await handshake("/ws/alice", host)

    assert connected
    await socket.disconnect()


async def test_the_victim_never_gets_another_hosts_url_whoever_created_the_job() -> None:
    # The attacker's socket with a forged Host is refused outright...
    attacker_connected, _, _ = await handshake("/ws/mallory", b"evil.example")
    assert not attacker_connected
    # ...and creating the job first over HTTP with another allowed name changes nothing.
    attacker_job = await sync_to_async(job_requested)("mallory", "http://other.example")
    victim_job = await sync_to_async(job_requested)("victim", "http://localhost:8000")
    assert attacker_job == victim_job  # one shared job (same picture)
    connected, _, victim = await handshake("/ws/victim", b"localhost:8000")
    assert connected
    await send(victim, wait_frame())
    assert await victim.receive_nothing(timeout=0.3)

    await sync_to_async(job_finish, thread_sensitive=False)(victim_job)

    frame = await victim.receive_json_from(timeout=5)
    assert frame["type"] == "image_processed"
    assert frame["processed_value"] == "http://localhost:8000/media/images/host-test.jpg"
    assert "other.example" not in json.dumps(frame) and "evil" not in json.dumps(frame)
    await victim.disconnect()


async def test_a_socket_answers_a_done_wait_with_its_own_hosts_url() -> None:
    job = await sync_to_async(job_requested)("victim", "http://other.example")
    await sync_to_async(job_finish)(job, notify=False)
    connected, _, socket = await handshake("/ws/victim", b"localhost:8000")
    assert connected

    await send(socket, wait_frame())

    frame = await socket.receive_json_from(timeout=5)
    assert frame["processed_value"].startswith("http://localhost:8000/media/")
    await socket.disconnect()


# --- item 3: scoping ----------------------------------------------------------------------------


async def test_waiting_for_another_users_job_is_not_found_and_their_push_never_arrives() -> None:
    job = await sync_to_async(job_requested)("alice", "")
    snoop = await socket_open("/ws/bob")

    await send(snoop, wait_frame())
    error = await snoop.receive_json_from(timeout=5)
    await sync_to_async(job_finish, thread_sensitive=False)(job)

    assert error["type"] == "error" and error["error"] == "no image job for this url"
    assert await snoop.receive_nothing(timeout=0.3)
    await snoop.disconnect()


# --- item 5: sockets per user -------------------------------------------------------------------


async def test_sockets_past_the_per_user_limit_are_refused_with_4429_and_slots_free_up(
    settings: Any,
) -> None:
    settings.DIYMOD_MAX_SOCKETS_PER_USER = 2
    first = await socket_open("/ws/alice")
    second = await socket_open("/ws/alice")

    connected, code, _ = await handshake("/ws/alice", None)
    other_user = await socket_open("/ws/bob")  # another user's budget is their own
    await first.disconnect()
    again = await socket_open("/ws/alice")

    assert not connected and code == 4429
    for socket in (second, other_user, again):
        await socket.disconnect()


async def test_refused_sockets_do_not_use_up_slots(settings: Any) -> None:
    settings.DIYMOD_MAX_SOCKETS_PER_USER = 1
    for _ in range(3):
        connected, code, _ = await handshake("/ws/alice", b"evil.example")
        assert not connected and code == 4400

    socket = await socket_open("/ws/alice")
    await socket.disconnect()


# --- item 7: a push lost in a layer outage ------------------------------------------------------


@pytest.fixture
def consumers(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every UserSocketConsumer that opens during the test, in order."""
    from feed.consumers.user_socket import UserSocketConsumer

    opened: list[Any] = []
    original = UserSocketConsumer.connect

    async def connect(self: UserSocketConsumer) -> None:
        opened.append(self)
        await original(self)

    monkeypatch.setattr(UserSocketConsumer, "connect", connect)
    return opened


async def test_after_an_outage_a_socket_that_never_waited_is_told_each_missed_result_once(
    consumers: list[Any],
) -> None:
    """Client B's feeds come over HTTP: its socket sends no wait, yet must hear of results
    whose push was lost while the layer was down, once, even if a late push arrives too."""
    socket = await socket_open("/ws/alice", headers=[*REDDIT_ORIGIN, (b"host", b"localhost")])
    (consumer,) = consumers
    job = await sync_to_async(job_requested)("alice", "")
    # The layer fails (the consumer's failing receive reports it) and the push of a job
    # finishing meanwhile is lost.
    consumer.layer_failed()
    await sync_to_async(job_finish)(job, notify=False)

    assert await consumer.layer_recovered()
    frame = await socket.receive_json_from(timeout=5)
    await sync_to_async(job_finish, thread_sensitive=False)(job)  # a late push of the same

    assert frame["type"] == "image_processed" and frame["image_url"] == IMAGE_URL
    assert frame["processed_value"] == "http://localhost/media/images/host-test.jpg"
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_results_finished_long_before_the_outage_are_not_told_again(
    consumers: list[Any],
) -> None:
    from imaging.models import ImageJob

    socket = await socket_open("/ws/alice")
    (consumer,) = consumers
    job = await sync_to_async(job_requested)("alice", "")
    await ImageJob.objects.filter(pk=job).aupdate(
        status="done", result="images/old.jpg", finished_at=timezone.now() - timedelta(minutes=5)
    )

    consumer.layer_failed()
    assert await consumer.layer_recovered()

    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_an_explicit_wait_is_always_answered_even_if_told_before() -> None:
    job = await sync_to_async(job_requested)("alice", "")
    await sync_to_async(job_finish)(job, notify=False)
    socket = await socket_open("/ws/alice")

    await send(socket, wait_frame())
    first = await socket.receive_json_from(timeout=5)
    await send(socket, wait_frame())  # e.g. the page was re-rendered
    second = await socket.receive_json_from(timeout=5)

    assert first["type"] == second["type"] == "image_processed"
    await socket.disconnect()
