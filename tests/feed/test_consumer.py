"""The per-user WebSocket (CONTRACT section 6) against the real `diymod.asgi.application`."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from diymod import realtime
from filters.models import User
from filters.services import token_issue, user_get_or_create
from tests.support.realtime_fixtures import in_memory_layer_use, socket_open, socket_refused

pytestmark = pytest.mark.django_db(transaction=True)

REDDIT_URL = "https://www.reddit.com/svc/shreddit/feeds/home-feed?after=t3_x"
REDDIT_FEED = (
    '<shreddit-post id="t3_a1" post-title="Hello" author="someone" post-type="text">'
    '<a slot="title" href="/r/x/a1">Hello there</a>'
    '<div slot="text-body"><div class="md"><p>Tom &amp; Jerry &lt;3</p></div></div>'
    "</shreddit-post>"
    '<faceplate-partial slot="load-after" src="/svc/shreddit/more?after=t3_a1">'
    "</faceplate-partial>"
)


@pytest.fixture(autouse=True)
def fresh_layer(settings: Any) -> None:
    in_memory_layer_use(settings)


async def user_pk(user_id: str) -> int:
    return (await User.objects.aget(user_id=user_id)).pk


async def send(socket: WebsocketCommunicator, message: dict[str, Any]) -> None:
    await socket.send_to(text_data=json.dumps(message))


async def answer(socket: WebsocketCommunicator) -> dict[str, Any]:
    return await socket.receive_json_from(timeout=5)


async def answer_of_type(socket: WebsocketCommunicator, message_type: str) -> dict[str, Any]:
    message = await answer(socket)
    assert message["type"] == message_type, message
    return message


# --- handshake: path, identity, origin ----------------------------------------------------------


async def test_a_socket_opens_with_and_without_trailing_slash_and_creates_the_user() -> None:
    for path in ("/ws/alice", "/ws/bob/"):
        socket = await socket_open(path)
        await socket.disconnect()
    assert await User.objects.filter(user_id__in=["alice", "bob"]).acount() == 2


async def test_the_url_encoded_user_id_is_decoded_exactly_even_unknown() -> None:
    for user_id in ("unknown", "Zoë 42+user_ab=c", "1234567890123456789"):
        socket = await socket_open("/ws/" + quote(user_id, safe=""))
        await socket.disconnect()
        assert await User.objects.filter(user_id=user_id).aexists()


def test_the_raw_path_keeps_an_encoded_slash_inside_the_user_id() -> None:
    from feed.consumers.scope import path_user_id

    scope = {"raw_path": b"/ws/a%2Fb%20c/", "url_route": {"kwargs": {"user_id": "a/b c"}}}
    assert path_user_id(scope) == "a/b c"
    assert path_user_id({"raw_path": b"/ws/a%2F", "url_route": {}}) == "a/"


@pytest.mark.parametrize("path", ["/ws", "/ws/", "/ws//"])
async def test_a_path_without_a_user_id_is_refused(path: str) -> None:
    assert await socket_refused(path)


async def test_with_a_token_and_no_user_id_the_socket_is_the_token_users(settings: Any) -> None:
    settings.DIYMOD_AUTH = "token"
    alice = await sync_to_async(user_get_or_create)(user_id="alice")
    token = await sync_to_async(token_issue)(user=alice)
    socket = await socket_open(f"/ws?token={token}")
    assert await realtime.asend_to_user(alice.pk, realtime.Notice(message="yours"))
    assert (await answer_of_type(socket, "notice"))["message"] == "yours"
    await socket.disconnect()


async def test_a_user_id_of_255_characters_opens_and_256_is_refused() -> None:
    socket = await socket_open("/ws/" + "u" * 255)
    await socket.disconnect()
    assert await socket_refused("/ws/" + "u" * 256)


@pytest.mark.parametrize(
    "origin",
    [
        "https://www.reddit.com",
        "https://reddit.com",
        "https://x.com",
        "https://mobile.twitter.com",
        "chrome-extension://abcdefghijklmnop",
        "http://localhost:3000",
    ],
)
async def test_allowed_origins_open(origin: str) -> None:
    socket = await socket_open("/ws/alice", headers=[(b"origin", origin.encode())])
    await socket.disconnect()


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "https://reddit.com.evil.example", "http://www.reddit.com", "null"],
)
async def test_other_origins_are_refused(origin: str) -> None:
    assert await socket_refused("/ws/alice", headers=[(b"origin", origin.encode())])


async def test_an_origin_added_to_the_cors_list_is_allowed_on_the_socket_too(
    settings: Any,
) -> None:
    settings.DIYMOD_CORS_ORIGINS = [*settings.DIYMOD_CORS_ORIGINS, "https://tools.example"]
    socket = await socket_open("/ws/alice", headers=[(b"origin", b"https://tools.example")])
    await socket.disconnect()


async def test_a_missing_origin_is_accepted_as_a_non_browser_tool() -> None:
    socket = await socket_open("/ws/alice", headers=[])
    await socket.disconnect()


async def test_token_mode_refuses_a_socket_without_a_token(settings: Any) -> None:
    settings.DIYMOD_AUTH = "token"
    assert await socket_refused("/ws/alice")
    assert not await User.objects.filter(user_id="alice").aexists()


async def test_token_mode_opens_with_the_users_own_token_in_the_query(settings: Any) -> None:
    settings.DIYMOD_AUTH = "token"
    alice = await sync_to_async(user_get_or_create)(user_id="alice")
    token = await sync_to_async(token_issue)(user=alice)
    socket = await socket_open(f"/ws/alice?token={token}")
    await send(socket, {"type": "ping"})
    await answer_of_type(socket, "pong")
    await socket.disconnect()


async def test_token_mode_accepts_a_bearer_header_from_tools(settings: Any) -> None:
    settings.DIYMOD_AUTH = "token"
    alice = await sync_to_async(user_get_or_create)(user_id="alice")
    token = await sync_to_async(token_issue)(user=alice)
    socket = await socket_open(
        "/ws/alice", headers=[(b"authorization", f"Bearer {token}".encode())]
    )
    await socket.disconnect()


async def test_token_mode_refuses_another_users_token(settings: Any) -> None:
    settings.DIYMOD_AUTH = "token"
    alice = await sync_to_async(user_get_or_create)(user_id="alice")
    await sync_to_async(user_get_or_create)(user_id="bob")
    token = await sync_to_async(token_issue)(user=alice)
    assert await socket_refused(f"/ws/bob?token={token}")


@pytest.mark.parametrize("mode", ["token", "client-id"])
async def test_an_invalid_token_is_refused_in_both_modes(settings: Any, mode: str) -> None:
    settings.DIYMOD_AUTH = mode
    assert await socket_refused("/ws/alice?token=dm_not-a-real-token")


async def test_client_id_mode_refuses_a_valid_token_naming_another_user() -> None:
    alice = await sync_to_async(user_get_or_create)(user_id="alice")
    token = await sync_to_async(token_issue)(user=alice)
    assert await socket_refused(f"/ws/mallory?token={token}")


# --- simple messages ----------------------------------------------------------------------------


async def test_connection_is_acknowledged_with_a_message_and_timestamp() -> None:
    socket = await socket_open("/ws/alice")
    await send(socket, {"type": "connection", "data": {"client": "B"}, "id": "m1"})
    ack = await answer_of_type(socket, "connection_ack")
    assert ack["message"] and ack["timestamp"]
    assert ack["data"] == {"message": ack["message"], "timestamp": ack["timestamp"]}
    await socket.disconnect()


@pytest.mark.parametrize(
    "ping", [{"type": "ping"}, {"type": "ping", "data": {}, "id": "p1"}, {"type": "ping", "t": 1}]
)
async def test_a_ping_of_any_shape_gets_a_pong(ping: dict[str, Any]) -> None:
    socket = await socket_open("/ws/alice")
    await send(socket, ping)
    pong = await answer_of_type(socket, "pong")
    assert pong["timestamp"] == pong["data"]["timestamp"]
    await socket.disconnect()


async def test_a_pong_gets_no_reply() -> None:
    socket = await socket_open("/ws/alice")
    await send(socket, {"type": "pong"})
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_an_unknown_type_is_echoed() -> None:
    socket = await socket_open("/ws/alice")
    await send(socket, {"type": "hello_there", "data": {"x": 1}})
    echo = await answer_of_type(socket, "echo")
    assert "hello_there" in echo["message"] and echo["timestamp"]
    await socket.disconnect()


async def test_invalid_json_is_an_error_and_the_socket_stays_open() -> None:
    socket = await socket_open("/ws/alice")
    await socket.send_to(text_data="{not json")
    error = await answer_of_type(socket, "error")
    assert "Invalid JSON" in error["error"]
    await send(socket, {"type": "ping"})
    await answer_of_type(socket, "pong")
    await socket.disconnect()


async def test_a_json_value_that_is_not_an_object_is_an_error() -> None:
    socket = await socket_open("/ws/alice")
    await socket.send_to(text_data="[1, 2]")
    await answer_of_type(socket, "error")
    await socket.disconnect()


async def test_an_oversized_frame_is_an_error_and_the_socket_stays_open(settings: Any) -> None:
    from feed.consumers.user_socket import FRAME_OVERHEAD_BYTES

    settings.DIYMOD_FEED_MAX_BYTES = 2048
    socket = await socket_open("/ws/alice")
    huge = json.dumps({"type": "ping", "pad": "x" * (2048 + FRAME_OVERHEAD_BYTES)})
    await socket.send_to(text_data=huge)
    error = await answer_of_type(socket, "error")
    assert "too large" in error["error"]
    await send(socket, {"type": "ping"})
    await answer_of_type(socket, "pong")
    await socket.disconnect()


async def test_binary_frames_holding_json_are_read_and_garbage_is_an_error() -> None:
    socket = await socket_open("/ws/alice")
    await socket.send_to(bytes_data=b'{"type": "ping"}')
    await answer_of_type(socket, "pong")
    await socket.send_to(bytes_data=b"\xff\xfe")
    await answer_of_type(socket, "error")
    await socket.disconnect()


# --- pushes: every socket of the user, nobody else ----------------------------------------------


async def test_a_push_reaches_every_socket_of_the_user_and_no_other_user() -> None:
    first, second = await socket_open("/ws/alice"), await socket_open("/ws/alice/")
    stranger = await socket_open("/ws/bob")
    event = realtime.ImageProcessed("https://i.redd.it/a.jpg", "http://s/media/r.jpg", ["spiders"])
    assert await realtime.asend_to_user(await user_pk("alice"), event)
    for socket in (first, second):
        frame = await answer_of_type(socket, "image_processed")
        assert frame["image_url"] == "https://i.redd.it/a.jpg"
        assert frame["result"] == frame["data"]["processed_value"] == "http://s/media/r.jpg"
    assert await stranger.receive_nothing(timeout=0.3)
    for socket in (first, second, stranger):
        await socket.disconnect()


async def test_a_push_from_sync_code_in_a_thread_reaches_the_socket() -> None:
    socket = await socket_open("/ws/alice")
    pk = await user_pk("alice")
    sent = await sync_to_async(realtime.send_to_user, thread_sensitive=False)(
        pk, realtime.Notice(message="from a worker")
    )
    assert sent
    notice = await answer_of_type(socket, "notice")
    assert notice["message"] == notice["data"]["message"] == "from a worker"
    await socket.disconnect()


async def test_a_push_from_a_plain_thread_reaches_the_socket_on_the_serving_loop() -> None:
    # Like the embedded image pool: a thread with no event loop and no asgiref context.
    socket = await socket_open("/ws/alice")
    pk = await user_pk("alice")
    results: list[bool] = []
    thread = threading.Thread(
        target=lambda: results.append(realtime.send_to_user(pk, realtime.Notice(message="t")))
    )
    thread.start()
    notice = await answer_of_type(socket, "notice")
    await asyncio.to_thread(thread.join, 5)
    assert results == [True] and notice["message"] == "t"
    await socket.disconnect()


async def test_a_user_id_with_any_characters_still_gets_pushes() -> None:
    user_id = "ä b/c:*?" + "z" * 200
    socket = await socket_open("/ws/" + quote(user_id, safe=""))
    assert await realtime.asend_to_user(await user_pk(user_id), realtime.Notice(message="hi"))
    await answer_of_type(socket, "notice")
    await socket.disconnect()


async def test_a_failed_group_join_is_retried_on_the_next_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    original, calls = layer.group_add, []

    async def flaky_group_add(group: str, channel: str) -> None:
        calls.append(group)
        if len(calls) == 1:
            raise ConnectionError("layer hiccup")
        await original(group, channel)

    monkeypatch.setattr(layer, "group_add", flaky_group_add)
    socket = await socket_open("/ws/alice")  # the socket opens all the same
    pk = await user_pk("alice")
    await realtime.asend_to_user(pk, realtime.Notice(message="missed"))
    assert await socket.receive_nothing(timeout=0.2)
    await send(socket, {"type": "ping"})
    await answer_of_type(socket, "pong")
    await realtime.asend_to_user(pk, realtime.Notice(message="after the retry"))
    assert (await answer_of_type(socket, "notice"))["message"] == "after the retry"
    await socket.disconnect()


@pytest.mark.integration
async def test_a_burst_of_sockets_on_redis_all_join_and_all_get_the_push(settings: Any) -> None:
    from tests.conftest import REDIS_TEST_URL, redis_available

    if not redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_TEST_URL}")
    # More simultaneous handshakes than channels-redis has pooled connections (100).
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_TEST_URL], "prefix": f"diymodtest{secrets.token_hex(4)}"},
        }
    }
    settings.DIYMOD_MAX_SOCKETS_PER_USER = 200  # the burst, not the per-user cap, is tested
    await sync_to_async(user_get_or_create)(user_id="alice")
    sockets = await asyncio.gather(*(socket_open("/ws/alice") for _ in range(150)))
    try:
        assert await realtime.asend_to_user(await user_pk("alice"), realtime.Notice(message="all"))
        frames = await asyncio.gather(*(answer(socket) for socket in sockets))
        assert {frame["message"] for frame in frames} == {"all"}
    finally:
        await asyncio.gather(*(socket.disconnect() for socket in sockets))


async def test_a_closed_socket_leaves_the_group() -> None:
    socket = await socket_open("/ws/alice")
    pk = await user_pk("alice")
    await socket.disconnect()
    from channels.layers import get_channel_layer

    assert not get_channel_layer().groups.get(realtime.user_group_name(pk))


# --- process_feed: shapes, concurrency, failures (the consumer's own part) ----------------------


class GatedFeed:
    """Stands in for the feed service in scheduling tests: blocks until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def __call__(
        self, *, user: User, url: str, body: str, base_url: str | None, cancelled: Any
    ) -> Any:
        self.calls += 1
        self.release.wait(10)
        return type("Result", (), {"response": body.upper(), "stats": {}, "degraded": False})()


@pytest.fixture
def gated_feed(monkeypatch: pytest.MonkeyPatch) -> Any:
    gate = GatedFeed()
    monkeypatch.setattr("feed.consumers.work.feed_moderate_in_thread", gate)
    yield gate
    gate.release.set()


def feed_request(request_id: str, *, nested: bool = True) -> dict[str, Any]:
    data = {"url": REDDIT_URL, "platform": "reddit", "response": REDDIT_FEED}
    if nested:
        return {"type": "process_feed", "requestId": request_id, "data": data}
    return {"type": "process_feed", "requestId": request_id, **data}


async def test_a_slow_feed_does_not_block_pings_and_a_fourth_feed_is_refused_at_once(
    gated_feed: GatedFeed,
) -> None:
    socket = await socket_open("/ws/alice")
    for number in (1, 2, 3):
        await send(socket, feed_request(f"r{number}"))
    await send(socket, {"type": "ping"})
    await answer_of_type(socket, "pong")
    await send(socket, feed_request("r4"))
    refused = await answer_of_type(socket, "error")
    assert refused["requestId"] == refused["data"]["requestId"] == "r4"
    gated_feed.release.set()
    answered = {(await answer_of_type(socket, "processing_response"))["requestId"] for _ in "123"}
    assert answered == {"r1", "r2", "r3"}
    assert gated_feed.calls == 3
    await socket.disconnect()


async def test_feed_slots_free_up_when_feeds_finish(gated_feed: GatedFeed) -> None:
    gated_feed.release.set()
    socket = await socket_open("/ws/alice")
    for number in range(6):
        await send(socket, feed_request(f"r{number}"))
        await answer_of_type(socket, "processing_response")
    await socket.disconnect()


async def test_processing_response_has_the_contract_shape_for_both_client_shapes(
    gated_feed: GatedFeed,
) -> None:
    gated_feed.release.set()
    socket = await socket_open("/ws/alice")
    for nested in (True, False):
        await send(socket, feed_request("req-1", nested=nested))
        reply = await answer_of_type(socket, "processing_response")
        assert reply["requestId"] == "req-1"
        assert reply["data"]["feed"]["response"] == REDDIT_FEED.upper()
        # CONTRACT section 6 (issue 13.3): the feed once, under `data`; small fields both places.
        assert "feed" not in reply
        assert isinstance(reply["data"]["processingTime"], float)
        assert reply["processingTime"] == reply["data"]["processingTime"]
        assert reply["data"]["requestId"] == "req-1"
    await socket.disconnect()


async def test_a_feed_without_a_body_is_an_error_keyed_by_request_id() -> None:
    socket = await socket_open("/ws/alice")
    await send(socket, {"type": "process_feed", "requestId": "r9", "data": {"url": REDDIT_URL}})
    error = await answer_of_type(socket, "error")
    assert error["requestId"] == "r9" and "response" in error["error"]
    await socket.disconnect()


async def test_an_internal_failure_returns_the_feed_unmodified(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("analyzer exploded")

    monkeypatch.setattr("feed.consumers.work.feed_moderate_in_thread", broken)
    socket = await socket_open("/ws/alice")
    await send(socket, feed_request("r1"))
    reply = await answer_of_type(socket, "processing_response")
    assert reply["requestId"] == "r1"
    assert reply["data"]["feed"]["response"] == REDDIT_FEED
    assert reply["degraded"] is True and reply["degraded_reason"] == "internal error"
    await socket.disconnect()


async def test_the_feed_runs_for_the_sockets_own_user(
    gated_feed: GatedFeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def recording(*, user: User, url: str, body: str, base_url: str | None, cancelled: Any) -> Any:
        seen.append(user.user_id)
        return gated_feed(user=user, url=url, body=body, base_url=base_url)

    monkeypatch.setattr("feed.consumers.work.feed_moderate_in_thread", recording)
    gated_feed.release.set()
    socket = await socket_open("/ws/alice")
    await send(socket, {**feed_request("r1"), "user_id": "bob"})
    await answer_of_type(socket, "processing_response")
    assert seen == ["alice"]
    await socket.disconnect()


# --- process_feed through the real feed service -------------------------------------------------


async def test_process_feed_gives_the_same_feed_as_http_get_feed(api_client: Any) -> None:
    pytest.importorskip("feed.services")
    socket = await socket_open("/ws/alice")
    await send(socket, feed_request("same-1"))
    reply = await answer_of_type(socket, "processing_response")
    await socket.disconnect()

    def http_feed() -> str:
        body = {
            "user_id": "alice",
            "url": REDDIT_URL,
            "data": {"feed_info": {"response": REDDIT_FEED}},
        }
        response = api_client.post("/get_feed", body, format="json")
        assert response.status_code == 200, response.content
        return response.json()["feed"]["response"]

    assert reply["data"]["feed"]["response"] == await sync_to_async(http_feed)()


async def test_an_unsupported_platform_is_an_error_keyed_by_request_id() -> None:
    pytest.importorskip("feed.services")
    socket = await socket_open("/ws/alice")
    request = feed_request("bad-1")
    request["data"]["url"] = "https://example.com/feed"
    await send(socket, request)
    error = await answer_of_type(socket, "error")
    assert error["requestId"] == "bad-1"
    assert "Unsupported platform" in error["error"]
    await socket.disconnect()


async def test_pings_are_answered_while_a_real_feed_is_processed() -> None:
    pytest.importorskip("feed.services")
    socket = await socket_open("/ws/alice")
    await send(socket, feed_request("f1"))
    await send(socket, {"type": "ping"})
    seen = {(await answer(socket))["type"] for _ in range(2)}
    assert seen == {"pong", "processing_response"}
    await socket.disconnect()


async def test_sockets_close_cleanly_with_a_feed_in_flight(gated_feed: GatedFeed) -> None:
    socket = await socket_open("/ws/alice")
    await send(socket, feed_request("r1"))
    await asyncio.sleep(0.05)
    await socket.disconnect()
    gated_feed.release.set()


# --- wait_for_image (through the imaging module's real job model and push) ----------------------

IMAGE_URL = "https://i.redd.it/spider.jpeg?width=640&amp;s=abc"


async def image_job_make(
    status: str, filters: list[str] | None = None, requester: str | None = "alice"
) -> Any:
    """A job in `status`, asked for by `requester` (a socket only finds jobs its user asked
    for: issue 12, item 3)."""
    from imaging.models import ImageJob, ImageRequest
    from imaging.selectors import filter_key_make, url_hash_make

    filters = ["spiders"] if filters is None else filters
    job = await ImageJob.objects.acreate(
        image_url=IMAGE_URL,
        url_hash=url_hash_make(IMAGE_URL),
        filter_key=filter_key_make(filters),
        filters=filters,
        intervention="blur",
        status=status,
        result="images/spider-result.jpg" if status == "done" else "",
    )
    if requester is not None:
        user = await sync_to_async(user_get_or_create)(user_id=requester)
        await ImageRequest.objects.acreate(
            user=user,
            job=job,
            url_hash=job.url_hash,
            filter_key=job.filter_key,
            filters=filters,
        )
    return job


def wait_message(*, nested: bool = True) -> dict[str, Any]:
    data = {"image_url": IMAGE_URL, "filters": ["spiders"]}
    return (
        {"type": "wait_for_image", "data": data} if nested else {"type": "wait_for_image", **data}
    )


@pytest.mark.parametrize("nested", [True, False])
async def test_wait_for_a_done_image_answers_image_processed_at_once(
    nested: bool, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "diymod.test"]
    await image_job_make("done")
    socket = await socket_open("/ws/alice", headers=[(b"host", b"diymod.test:8443")])
    await send(socket, wait_message(nested=nested))
    frame = await answer_of_type(socket, "image_processed")
    assert frame["image_url"] == frame["data"]["image_url"] == IMAGE_URL
    assert frame["processed_value"].startswith("http")
    assert frame["processed_value"].endswith("/images/spider-result.jpg")
    assert frame["result"] == frame["processed_value"]
    assert frame["filters"] == ["spiders"]
    await socket.disconnect()


async def test_wait_for_a_pending_image_answers_when_the_job_finishes_and_only_to_its_user() -> (
    None
):
    from imaging.jobs import image_job_notify
    from imaging.models import ImageJob

    job = await image_job_make("running")
    socket = await socket_open("/ws/alice")
    stranger = await socket_open("/ws/bob")
    await send(socket, wait_message())
    assert await socket.receive_nothing(timeout=0.3)
    # The waiting user is a requester of the job, so the job's own push reaches them.
    assert await job.requesters.filter(user_id="alice").aexists()

    def job_finish() -> None:
        ImageJob.objects.filter(pk=job.pk).update(status="done", result="images/done.jpg")
        image_job_notify(job=ImageJob.objects.get(pk=job.pk))

    await sync_to_async(job_finish, thread_sensitive=False)()
    frame = await answer_of_type(socket, "image_processed")
    assert frame["image_url"] == IMAGE_URL and frame["result"].endswith("/images/done.jpg")
    assert await stranger.receive_nothing(timeout=0.3)
    await socket.disconnect()
    await stranger.disconnect()


async def test_wait_for_an_image_nobody_queued_is_an_error_naming_the_image() -> None:
    socket = await socket_open("/ws/alice")
    await send(socket, wait_message())
    error = await answer_of_type(socket, "error")
    assert error["error"] == "no image job for this url"
    assert error["image_url"] == IMAGE_URL
    await socket.disconnect()


async def test_wait_for_a_failed_image_is_an_error() -> None:
    await image_job_make("failed")
    socket = await socket_open("/ws/alice")
    await send(socket, wait_message())
    error = await answer_of_type(socket, "error")
    assert error["error"] == "image processing failed" and error["image_url"] == IMAGE_URL
    await socket.disconnect()


async def test_wait_for_image_without_an_image_url_is_an_error() -> None:
    socket = await socket_open("/ws/alice")
    await send(socket, {"type": "wait_for_image", "data": {"filters": ["spiders"]}})
    error = await answer_of_type(socket, "error")
    assert "image_url" in error["error"]
    await socket.disconnect()


async def test_filters_sent_as_a_json_string_find_the_same_job() -> None:
    await image_job_make("done")
    socket = await socket_open("/ws/alice")
    await send(
        socket, {"type": "wait_for_image", "image_url": IMAGE_URL, "filters": '["spiders"]'}
    )
    await answer_of_type(socket, "image_processed")
    await socket.disconnect()


# --- through a real daphne process --------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.timeout(120)
async def test_daphne_carries_feed_sized_frames_and_answers_oversized_ones_with_an_error(
    tmp_path: Path,
) -> None:
    from websockets.asyncio.client import connect

    from tests.support.daphne_servers import daphne_running, manage_run, server_env

    env = server_env(database_path=tmp_path / "db.sqlite3", redis_url=None)
    await asyncio.to_thread(manage_run, "migrate", "--noinput", env=env)
    with daphne_running(env=env, log_path=tmp_path / "daphne.log") as port:
        client = await connect(
            f"ws://127.0.0.1:{port}/ws/alice", origin="https://www.reddit.com", proxy=None
        )
        try:
            # An X timeline is 1-1.5 MB: above daphne's own default cap of 1 MiB.
            await client.send(json.dumps({"type": "ping", "pad": "x" * 1_500_000}))
            assert json.loads(await asyncio.wait_for(client.recv(), 10))["type"] == "pong"
            await client.send(json.dumps({"type": "ping", "pad": "x" * 9_000_000}))
            error = json.loads(await asyncio.wait_for(client.recv(), 10))
            assert error["type"] == "error" and "too large" in error["error"]
            await client.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(client.recv(), 10))["type"] == "pong"
        finally:
            await client.close()


@pytest.mark.integration
@pytest.mark.timeout(120)
async def test_daphne_refuses_a_foreign_origin_and_reads_an_encoded_slash_in_the_user_id(
    tmp_path: Path,
) -> None:
    import sqlite3

    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    from tests.support.daphne_servers import daphne_running, manage_run, server_env

    env = server_env(database_path=tmp_path / "db.sqlite3", redis_url=None)
    await asyncio.to_thread(manage_run, "migrate", "--noinput", env=env)
    with daphne_running(env=env, log_path=tmp_path / "daphne.log") as port:
        with pytest.raises(InvalidStatus) as refused:
            await connect(
                f"ws://127.0.0.1:{port}/ws/alice", origin="https://evil.example", proxy=None
            )
        assert refused.value.response.status_code == 403
        client = await connect(
            f"ws://127.0.0.1:{port}/ws/a%2Fb%20c/", origin="https://x.com", proxy=None
        )
        await client.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(client.recv(), 10))["type"] == "pong"
        await client.close()
    with sqlite3.connect(tmp_path / "db.sqlite3") as database:
        user_ids = {row[0] for row in database.execute("SELECT user_id FROM filters_user")}
    assert user_ids == {"a/b c"}


# --- issue 13.3 and 12: one copy of the feed, hostile frames, work stopped for a gone socket ---


async def test_a_real_feed_travels_once_under_data() -> None:
    """Issue 13.3: the 1.3 MB real page comes back in a frame barely larger than itself."""
    from tests.support.captures import real_capture

    page = real_capture(
        "reddit", "shreddit_subreddit-feed_r-MachineLearning_rendered-dom_50posts_5ads.html"
    )
    socket = await socket_open("/ws/alice")
    data = {"url": REDDIT_URL, "platform": "reddit", "response": page}
    await send(socket, {"type": "process_feed", "requestId": "big", "data": data})

    raw = await socket.receive_from(timeout=60)

    frame = json.loads(raw)
    assert frame["type"] == "processing_response"
    assert frame["requestId"] == frame["data"]["requestId"] == "big"
    assert "feed" not in frame
    assert frame["data"]["feed"]["response"] == page  # alice has no filters: unchanged
    assert len(raw) < len(json.dumps(page)) + 4096
    await socket.disconnect()


@pytest.mark.parametrize("as_text", [False, True])
async def test_a_frame_nested_100000_deep_is_an_error_and_the_socket_stays_open(
    as_text: bool,
) -> None:
    """Issue 12.4: RecursionError in the stdlib parser used to end the consumer (1011)."""
    nested = "[" * 100_000 + "]" * 100_000
    if as_text:  # client A's shape: `data` is JSON text
        frame = json.dumps({"type": "process_feed", "requestId": "deep", "data": nested})
    else:
        frame = '{"type": "process_feed", "requestId": "deep", "data": ' + nested + "}"
    socket = await socket_open("/ws/alice")

    await socket.send_to(text_data=frame)

    error = await answer_of_type(socket, "error")
    assert error["data"]["error"]
    await send(socket, {"type": "ping"})
    await answer_of_type(socket, "pong")
    await socket.disconnect()


async def test_a_feed_that_fails_comes_back_with_its_own_markers_defanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12.1: the unmodified fallback is not a way around the defang pass."""

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("analyzer exploded")

    monkeypatch.setattr("feed.consumers.work.feed_moderate_in_thread", broken)
    hostile = REDDIT_FEED.replace("Hello there", "&#95;_BLUR_START__&lt;img src=x&gt;")
    socket = await socket_open("/ws/alice")
    data = {"url": REDDIT_URL, "platform": "reddit", "response": hostile}
    await send(socket, {"type": "process_feed", "requestId": "r1", "data": data})

    reply = await answer_of_type(socket, "processing_response")

    returned = reply["data"]["feed"]["response"]
    assert reply["data"]["degraded"] is True
    assert returned == hostile.replace("&#95;_BLUR", "&#95;_\u200bBLUR")
    await socket.disconnect()


async def test_closing_the_socket_tells_its_feed_work_to_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12.5: the thread cannot be killed, so the analysis is told through an event it
    checks between steps (see feed.services.posts_match)."""
    started, seen = threading.Event(), {}

    def slow(**kwargs: Any) -> Any:
        seen["cancelled"] = kwargs["cancelled"]
        started.set()
        kwargs["cancelled"].wait(10)
        return type("Result", (), {"response": "", "stats": {}, "degraded": False})()

    monkeypatch.setattr("feed.consumers.work.feed_moderate_in_thread", slow)
    socket = await socket_open("/ws/alice")
    await send(socket, feed_request("r1"))
    await asyncio.to_thread(started.wait, 5)
    assert not seen["cancelled"].is_set()

    await socket.disconnect()

    assert await asyncio.to_thread(seen["cancelled"].wait, 5)
