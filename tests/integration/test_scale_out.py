"""Two daphne processes, two Celery workers, PostgreSQL and Redis on loopback (the `make up`
deployment): feeds through both web processes, image results pushed to sockets held by the other
one, and a worker SIGKILLed under load losing no job and telling each waiting socket once.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import Counter
from html import unescape

import httpx
import pytest
import websockets

from tests.feed.samples import reddit_feed
from tests.integration.conftest import (
    ORIGIN,
    Cluster,
    feed_post,
    filter_add,
    psql,
    shreddit_post,
)
from tests.support.image_server import ImageServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def deferred_sources(feed_html: str) -> list[str]:
    """The `src` of every image the server marked DEFERRED (CONTRACT section 5)."""
    sources = []
    for tag in re.findall(r"<img\b[^>]*>", feed_html):
        config = re.search(r'diy-mod-image="([^"]*)"', tag)
        source = re.search(r'\bsrc="([^"]*)"', tag)
        if config and source and json.loads(unescape(config.group(1))).get("status") == "DEFERRED":
            sources.append(unescape(source.group(1)))
    return sources


def spider_feed(image_server: ImageServer, tag: str, count: int, delay: float = 0.0) -> str:
    posts = [
        shreddit_post(
            f"t3_{tag}{n}",
            "I saw a huge spider in my kitchen",
            image_server.url(f"/image.jpg?w=320&h=240&seed={n}&tag={tag}&delay={delay}"),
        )
        for n in range(count)
    ]
    return reddit_feed(*posts)


class SocketListener:
    """One browser socket: keeps every `image_processed` frame it hears."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.heard: Counter[str] = Counter()
        self.task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self.task = asyncio.create_task(self.listen())
        await asyncio.wait_for(self.connected.wait(), 15)

    async def listen(self) -> None:
        async with websockets.connect(self.url, origin=ORIGIN, open_timeout=10) as socket:
            await socket.send(json.dumps({"type": "connection"}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            self.connected.set()
            async for raw in socket:
                frame = json.loads(raw)
                if frame.get("type") == "image_processed":
                    self.heard[frame["image_url"]] += 1

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


async def until(condition, timeout: float, message) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message())
        await asyncio.sleep(0.1)


def job_statuses(database_url: str, url_part: str) -> Counter[str]:
    """Statuses of the jobs whose image URL contains `url_part` (the database is the module's)."""
    name = database_url.rsplit("/", 1)[1]
    query = f"SELECT status FROM imaging_imagejob WHERE image_url LIKE '%{url_part}%'"
    listed = psql(query, database=name)
    assert listed.returncode == 0, listed.stderr
    lines = [line.strip() for line in listed.stdout.splitlines()[2:]]
    return Counter(line for line in lines if line in {"queued", "running", "done", "failed"})


@pytest.mark.timeout(150)
async def test_feeds_answer_on_both_web_processes_and_results_reach_sockets_on_the_other(
    cluster_base_env: dict[str, str], cluster_factory: list[Cluster], image_server: ImageServer
) -> None:
    cluster = Cluster(dict(cluster_base_env))
    cluster_factory.append(cluster)
    web_a, web_b = await asyncio.gather(
        asyncio.to_thread(cluster.web_start), asyncio.to_thread(cluster.web_start)
    )
    await asyncio.gather(
        asyncio.to_thread(cluster.worker_start, "w1"),
        asyncio.to_thread(cluster.worker_start, "w2"),
    )
    user = f"alice-{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(filter_add, web_a.base_url, user, "spiders")
    on_b = SocketListener(f"{web_b.ws_url}/ws/{user}")
    on_a = SocketListener(f"{web_a.ws_url}/ws/{user}")
    await on_b.start()
    await on_a.start()
    try:
        answers = await asyncio.gather(
            asyncio.to_thread(feed_post, web_a.base_url, user, spider_feed(image_server, "a", 3)),
            asyncio.to_thread(feed_post, web_b.base_url, user, spider_feed(image_server, "b", 2)),
        )
        sources: list[str] = []
        for answer in answers:
            assert answer.status_code == 200, answer.text
            sources += deferred_sources(answer.json()["feed"]["response"])
        assert len(sources) == 5, answers[0].json()["feed"]["response"][:2000]

        expected = Counter(sources)
        await until(
            lambda: on_a.heard == expected and on_b.heard == expected,
            60,
            lambda: f"a heard {on_a.heard}, b heard {on_b.heard}\n{cluster.logs()}",
        )
        await asyncio.sleep(1.0)  # a duplicate push would arrive now
        assert on_a.heard == expected and on_b.heard == expected
        # The pollers' view agrees, on either process.
        for web in (web_a, web_b):
            polled = httpx.get(
                f"{web.base_url}/get_img_result",
                params={"img_url": sources[0], "filters": '["spiders"]'},
                timeout=10,
            ).json()
            assert polled["status"] == "COMPLETED"
    finally:
        await on_a.stop()
        await on_b.stop()


@pytest.mark.timeout(180)
async def test_a_worker_sigkilled_under_load_loses_no_job_and_tells_each_socket_once(
    cluster_base_env: dict[str, str], cluster_factory: list[Cluster], image_server: ImageServer
) -> None:
    # Stuck after 4 s: the surviving worker's sweep picks up the dead worker's jobs quickly.
    cluster = Cluster({**cluster_base_env, "DIYMOD_IMAGE_STUCK_SECONDS": "4"})
    cluster_factory.append(cluster)
    web_a, web_b = await asyncio.gather(
        asyncio.to_thread(cluster.web_start), asyncio.to_thread(cluster.web_start)
    )
    doomed = await asyncio.to_thread(cluster.worker_start, "doomed")
    run = uuid.uuid4().hex[:6]
    users = [f"load-{n}-{run}" for n in range(3)]
    listeners: dict[str, list[SocketListener]] = {}
    for index, user in enumerate(users):
        await asyncio.to_thread(filter_add, web_a.base_url, user, "spiders")
        # Every user listens on both processes; feeds go in through one or the other.
        listeners[user] = [
            SocketListener(f"{web.ws_url}/ws/{user}") for web in (web_a, web_b)[: 1 + index % 2]
        ]
        for listener in listeners[user]:
            await listener.start()
    try:
        feeds = [
            asyncio.to_thread(
                feed_post,
                (web_a, web_b)[n % 2].base_url,
                user,
                spider_feed(image_server, f"{run}k{n}", 4, delay=1.5),
            )
            for n, user in enumerate(users)
        ]
        answers = await asyncio.gather(*feeds)
        expected: dict[str, Counter[str]] = {}
        for user, answer in zip(users, answers, strict=True):
            assert answer.status_code == 200, answer.text
            expected[user] = Counter(deferred_sources(answer.json()["feed"]["response"]))
            assert sum(expected[user].values()) == 4
        database = cluster.env["DATABASE_URL"]
        await until(
            lambda: job_statuses(database, run)["running"] > 0,
            30,
            lambda: f"{job_statuses(database, run)}\n{cluster.logs()}",
        )

        cluster.worker_kill(doomed)

        assert job_statuses(database, run)["done"] < 12
        await asyncio.to_thread(cluster.worker_start, "survivor")
        # The sweep beat would run every minute; run it now, and again until nothing is stuck.
        deadline = time.monotonic() + 90
        while job_statuses(database, run)["done"] < 12:
            assert time.monotonic() < deadline, f"{job_statuses(database, run)}\n{cluster.logs()}"
            await asyncio.sleep(4.5)
            await asyncio.to_thread(cluster.manage, "image_jobs", "--requeue-stuck")
        assert job_statuses(database, run) == Counter(done=12)

        def all_heard() -> bool:
            return all(
                listener.heard == expected[user] for user in users for listener in listeners[user]
            )

        await until(
            all_heard,
            20,
            lambda: f"{ {u: [x.heard for x in ls] for u, ls in listeners.items()} }",
        )
        await asyncio.sleep(1.5)  # a second push for any job would arrive now
        assert all_heard()
    finally:
        for group in listeners.values():
            for listener in group:
                await listener.stop()
