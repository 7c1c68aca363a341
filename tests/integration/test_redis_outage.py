"""Redis (cache, channel layer and broker at once) stopped for a few seconds under load, then
started again empty: `/get_feed` keeps answering, sockets stay up (pings and feeds over them
answered throughout; they would reconnect if dropped), and every image a socket waits for is
answered after the outage, once.

The Redis is this module's own (tests/integration/conftest.py), never the machine's shared one.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter

import httpx
import pytest
import websockets

from tests.feed.samples import reddit_feed
from tests.integration.conftest import (
    ORIGIN,
    REDDIT_URL,
    Cluster,
    RedisServer,
    feed_post,
    filter_add,
    shreddit_post,
)
from tests.integration.test_scale_out import deferred_sources

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OUTAGE_SECONDS = 4.0


class ReconnectingSocket:
    """A browser socket as client B keeps it: pings, reconnects when closed, and re-sends every
    pending `wait_for_image` after each (re)connect (CONTRACT section 6)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pending: set[str] = set()
        self.heard: Counter[str] = Counter()
        self.connections = 0
        self.task: asyncio.Task[None] | None = None
        self.socket: websockets.ClientConnection | None = None
        self.pongs = 0
        self.feeds: dict[str, asyncio.Future[dict]] = {}

    async def start(self) -> None:
        self.task = asyncio.create_task(self.run())
        deadline = time.monotonic() + 15
        while self.connections == 0:
            assert time.monotonic() < deadline, "the socket never connected"
            await asyncio.sleep(0.05)

    async def run(self) -> None:
        while True:
            try:
                async with websockets.connect(self.url, origin=ORIGIN, open_timeout=5) as socket:
                    self.socket = socket
                    self.connections += 1
                    for image_url in sorted(self.pending):
                        await self.wait_send(image_url)
                    await asyncio.gather(self.read(socket), self.ping(socket))
            except (OSError, websockets.WebSocketException, TimeoutError):
                pass
            self.socket = None
            await asyncio.sleep(0.5)

    async def read(self, socket: websockets.ClientConnection) -> None:
        async for raw in socket:
            frame = json.loads(raw)
            if frame.get("type") == "image_processed":
                self.heard[frame["image_url"]] += 1
                self.pending.discard(frame["image_url"])
            elif frame.get("type") == "pong":
                self.pongs += 1
            elif frame.get("requestId") in self.feeds:
                self.feeds.pop(frame["requestId"]).set_result(frame)

    async def ping(self, socket: websockets.ClientConnection) -> None:
        while True:
            await socket.send(json.dumps({"type": "ping"}))
            await asyncio.sleep(1.0)

    async def wait_send(self, image_url: str) -> None:
        if self.socket is not None:
            frame = {
                "type": "wait_for_image",
                "data": {"image_url": image_url, "filters": ["spiders"]},
            }
            await self.socket.send(json.dumps(frame))

    async def wait_for(self, image_urls: list[str]) -> None:
        self.pending.update(image_urls)
        for image_url in image_urls:
            await self.wait_send(image_url)

    async def feed(self, body: str) -> dict:
        """A feed sent over the socket as client A does; the answer frame."""
        request_id = uuid.uuid4().hex
        answered = self.feeds[request_id] = asyncio.get_running_loop().create_future()
        assert self.socket is not None, "the socket is down"
        data = {"url": REDDIT_URL, "platform": "reddit", "response": body}
        await self.socket.send(
            json.dumps({"type": "process_feed", "requestId": request_id, "data": data})
        )
        return await asyncio.wait_for(answered, 30)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


def other_endpoints_probe(base_url: str, user: str, images: list[str]) -> dict[str, int]:
    calls = {
        "filters": lambda client: client.get("/filters", params={"user_id": user}),
        "filter add": lambda client: client.post(
            "/filters", json={"user_id": user, "filter_text": "clowns", "intensity": 1}
        ),
        "chat": lambda client: client.post("/chat", json={"user_id": user, "message": "hi"}),
        "image result": lambda client: client.get(
            "/get_img_result", params={"img_url": images[0], "filters": '["spiders"]'}
        ),
        "ping": lambda client: client.get("/ping"),
        "healthz": lambda client: client.get("/healthz"),
    }
    with httpx.Client(base_url=base_url, timeout=20) as client:
        return {name: call(client).status_code for name, call in calls.items()}


@pytest.mark.timeout(150)
async def test_a_redis_outage_keeps_feeds_answering_and_pending_images_are_answered_after(
    cluster_base_env: dict[str, str],
    cluster_factory: list[Cluster],
    redis_server: RedisServer,
    image_server,
) -> None:
    cluster = Cluster({**cluster_base_env, "DIYMOD_IMAGE_STUCK_SECONDS": "2"})
    cluster_factory.append(cluster)
    web_a, web_b = await asyncio.gather(
        asyncio.to_thread(cluster.web_start), asyncio.to_thread(cluster.web_start)
    )
    await asyncio.to_thread(cluster.worker_start, "w1")
    run = uuid.uuid4().hex[:6]
    user = f"outage-{run}"
    await asyncio.to_thread(filter_add, web_a.base_url, user, "spiders")
    sockets = [ReconnectingSocket(f"{web.ws_url}/ws/{user}") for web in (web_a, web_b)]
    for socket in sockets:
        await socket.start()

    def spider_feed(tag: str, delay: float) -> str:
        posts = [
            shreddit_post(
                f"t3_{tag}{n}",
                "A spider on my desk",
                image_server.url(f"/image.jpg?w=200&h=150&seed={n}&run={run}{tag}&delay={delay}"),
            )
            for n in range(2)
        ]
        return reddit_feed(*posts)

    answers: list[httpx.Response] = []
    stop_load = asyncio.Event()

    async def feed_load() -> None:
        """Feeds through both processes, before, during and after the outage."""
        count = 0
        while not stop_load.is_set():
            web = (web_a, web_b)[count % 2]
            body = spider_feed(f"load{count}", 0.0)
            answers.append(await asyncio.to_thread(feed_post, web.base_url, user, body))
            count += 1
            await asyncio.sleep(0.2)

    try:
        # Images still being fetched when Redis goes: their pushes have nowhere to go.
        before = await asyncio.to_thread(feed_post, web_a.base_url, user, spider_feed("slow", 3))
        slow_images = deferred_sources(before.json()["feed"]["response"])
        assert len(slow_images) == 2
        for socket in sockets:
            await socket.wait_for(slow_images)
        load = asyncio.create_task(feed_load())
        await asyncio.sleep(1.0)

        redis_server.stop()
        await asyncio.sleep(OUTAGE_SECONDS / 2)
        pongs_before = [socket.pongs for socket in sockets]
        others = await asyncio.to_thread(other_endpoints_probe, web_b.base_url, user, slow_images)
        # Client A's feeds travel over the socket: they are answered during the outage too.
        over_sockets = [await socket.feed(spider_feed("socket", 0.0)) for socket in sockets]
        await asyncio.sleep(OUTAGE_SECONDS / 2)
        pongs_during = [
            socket.pongs - before for socket, before in zip(sockets, pongs_before, strict=True)
        ]
        during = len(answers)
        redis_server.start()  # empty: groups, cache and queued messages are gone

        await asyncio.sleep(3.0)
        stop_load.set()
        await asyncio.wait_for(load, 60)

        statuses = Counter(answer.status_code for answer in answers)
        assert statuses == Counter({200: len(answers)}), (statuses, cluster.logs())
        assert during >= 3
        # Every other endpoint answers too: the cache-backed parts (chat state, rate limits)
        # fall back, nothing else depends on Redis; /healthz says what is down.
        assert all(status < 500 for name, status in others.items() if name != "healthz"), others
        assert others["healthz"] == 503
        for frame in over_sockets:
            assert frame["type"] == "processing_response", frame
            assert "__" in frame["data"]["feed"]["response"]  # moderated, not merely echoed
        assert all(count >= 1 for count in pongs_during), pongs_during
        shown = set()
        for answer in answers:
            shown.update(deferred_sources(answer.json()["feed"]["response"]))
        # The browser waits for every image it was shown deferred. The slow ones it asked for
        # before the outage are never asked for again: the sockets stayed up (no reconnect),
        # so the server itself answers the waits whose push the outage lost.
        for socket in sockets:
            await socket.wait_for(sorted(shown))
        every_image = shown | set(slow_images)

        # Jobs whose broker message was lost are sent again by the stuck-job sweep (beat).
        deadline = time.monotonic() + 60
        while not all(socket.heard.keys() >= every_image for socket in sockets):
            assert time.monotonic() < deadline, (
                f"unanswered: {[sorted(every_image - s.heard.keys()) for s in sockets]}\n"
                f"{cluster.logs()}"
            )
            await asyncio.to_thread(
                cluster.manage, "image_jobs", "--requeue-stuck", "--stuck-seconds", "2"
            )
            await asyncio.sleep(2.0)
        assert [socket.connections for socket in sockets] == [1, 1]  # never dropped
        # Told once: the lost push is answered once, and no late push doubles it.
        await asyncio.sleep(1.0)
        for socket in sockets:
            assert all(socket.heard[url] == 1 for url in slow_images), socket.heard
    finally:
        stop_load.set()
        for socket in sockets:
            await socket.stop()
        if not redis_server.ping():
            redis_server.start()


@pytest.mark.timeout(150)
async def test_a_socket_that_never_waited_hears_of_results_finished_in_an_outage_once(
    cluster_base_env: dict[str, str],
    cluster_factory: list[Cluster],
    redis_server: RedisServer,
    image_server,
) -> None:
    """Client B's feeds come over HTTP and its socket need not send `wait_for_image`: a job
    that finishes while Redis is down loses its push, and the socket must still be told, once
    (issue 12, item 7), on whichever web process it is."""
    cluster = Cluster(cluster_base_env)
    cluster_factory.append(cluster)
    web_a = await asyncio.to_thread(cluster.web_start)  # one at a time: 2 shared cores
    web_b = await asyncio.to_thread(cluster.web_start)
    await asyncio.to_thread(cluster.worker_start, "w1")
    run = uuid.uuid4().hex[:6]
    user = f"silent-{run}"
    await asyncio.to_thread(filter_add, web_a.base_url, user, "spiders")
    sockets = [ReconnectingSocket(f"{web.ws_url}/ws/{user}") for web in (web_a, web_b)]
    for socket in sockets:
        await socket.start()
    posts = [
        shreddit_post(
            f"t3_quiet{n}",
            "A spider on my desk",
            image_server.url(f"/image.jpg?w=120&h=90&seed={n}&run={run}&delay=2.5"),
        )
        for n in range(2)
    ]
    try:
        answer = await asyncio.to_thread(feed_post, web_a.base_url, user, reddit_feed(*posts))
        images = deferred_sources(answer.json()["feed"]["response"])
        assert len(images) == 2
        # The worker holds both jobs (fetching, 2.5 s); Redis goes before they finish.
        await asyncio.sleep(0.5)
        redis_server.stop()
        await asyncio.sleep(OUTAGE_SECONDS + 1.0)  # the jobs finish meanwhile: pushes fail
        redis_server.start()

        deadline = time.monotonic() + 40
        while not all(socket.heard.keys() >= set(images) for socket in sockets):
            assert time.monotonic() < deadline, (
                f"unanswered: {[sorted(set(images) - s.heard.keys()) for s in sockets]}\n"
                f"{cluster.logs()}"
            )
            await asyncio.sleep(0.5)
        await asyncio.sleep(3.0)  # a late or doubled push would arrive by now
        for socket in sockets:
            assert all(socket.heard[url] == 1 for url in images), socket.heard
        assert not any(socket.pending for socket in sockets)  # none of them ever waited
        assert [socket.connections for socket in sockets] == [1, 1]
    finally:
        for socket in sockets:
            await socket.stop()
        if not redis_server.ping():
            redis_server.start()


async def test_a_failed_layer_receive_is_retried_after_the_socket_rejoins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The unit under the test above: failures never reach channels' dispatch loop, and the
    receive resumes only once `recovered()` (the re-join) succeeds."""
    from diymod import realtime

    monkeypatch.setattr(realtime, "RECEIVE_RETRY_FIRST_SECONDS", 0.01)
    outcomes: list[object] = [ConnectionError("down"), ConnectionError("down"), {"type": "x"}]
    joins = [False, True, True]
    calls: list[str] = []

    async def receive() -> dict:
        calls.append("receive")
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome  # type: ignore[return-value]

    async def recovered() -> bool:
        calls.append("join")
        return joins.pop(0)

    message = await asyncio.wait_for(
        realtime.layer_receive_resilient(receive, recovered=recovered)(), 5
    )

    assert message == {"type": "x"}
    assert calls == ["receive", "join", "join", "receive", "join", "receive"]
