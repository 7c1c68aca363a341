"""A real `celery -A diymod worker` on Redis, a file SQLite database and the channels-redis
layer: jobs complete, each requester hears once, and a worker SIGKILLed mid-job loses nothing.

The test process plays the browser: it subscribes to the users' channel-layer groups on Redis
and counts what arrives. The web side runs as a subprocess (tests/imaging/worker_scenario.py)
with the worker's environment. Skipped when Redis is not reachable on 127.0.0.1:6379.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from diymod.realtime import user_group_name
from imaging.jobs import IMAGE_JOB_RETRIES
from tests.conftest import REDIS_TEST_URL, redis_available
from tests.support.image_server import ImageServer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.timeout(180),
    pytest.mark.skipif(not redis_available(), reason=f"Redis not reachable at {REDIS_TEST_URL}"),
]

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
CELERY = str(Path(sys.executable).with_name("celery"))
PUBLIC_URL = "https://images.example.test"


class WorkerWorld:
    """The processes of one scenario: environment, migrated database, workers, web calls."""

    def __init__(self, tmp_path: Path, image_server: ImageServer) -> None:
        self.tmp_path = tmp_path
        self.queue = f"imaging-test-{uuid.uuid4().hex[:12]}"
        self.database = tmp_path / "db.sqlite3"
        self.workers: list[subprocess.Popen[bytes]] = []
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("CELERY_", "DJANGO_SETTINGS", "DIYMOD_", "DATABASE_URL"))
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="diymod.settings",
            REDIS_URL=REDIS_TEST_URL,
            # As the embedded default's SQLite: writers queue (IMMEDIATE) and wait up to 20 s.
            DATABASE_URL=f"sqlite:///{self.database}?timeout=20&transaction_mode=IMMEDIATE",
            DIYMOD_MEDIA_ROOT=str(tmp_path / "media"),
            DIYMOD_IMAGE_ALLOWED_HOSTS=image_server.host_port,
            DIYMOD_IMAGE_ALLOW_PRIVATE="1",
            DIYMOD_PUBLIC_URL=PUBLIC_URL,
            DIYMOD_LOG_LEVEL="info",
            PYTHONPATH=str(REPO),
        )

    def scenario(self, *arguments: str, stdin: str = "") -> str:
        completed = subprocess.run(
            [PYTHON, "-m", "tests.imaging.worker_scenario", *arguments],
            cwd=REPO,
            env=self.env,
            input=stdin.encode(),
            capture_output=True,
            timeout=90,
        )
        assert completed.returncode == 0, completed.stderr.decode()[-3000:]
        return completed.stdout.decode()

    def jobs_request(self, requests: list[dict]) -> dict[str, int]:
        return json.loads(self.scenario("request", self.queue, stdin=json.dumps(requests)))

    def worker_start(self) -> subprocess.Popen[bytes]:
        log = self.tmp_path / f"worker-{len(self.workers)}.log"
        command = [
            CELERY, "-A", "diymod", "worker", "-Q", self.queue, "--pool", "prefork",
            "--concurrency", "2", "--loglevel", "INFO",
            "-n", f"{self.queue}-{len(self.workers)}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with log.open("wb") as output:
            # A session of its own: the kill reaches the pool's children too, as a crash would.
            worker = subprocess.Popen(
                command, cwd=REPO, env=self.env, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.workers.append(worker)
        deadline = time.monotonic() + 45
        while b" ready." not in log.read_bytes():
            assert worker.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "worker not ready:\n" + log.read_text()[-3000:]
            time.sleep(0.2)
        return worker

    def worker_kill(self, worker: subprocess.Popen[bytes]) -> None:
        try:
            os.killpg(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        worker.wait(timeout=10)

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                self.worker_kill(worker)

    def logs(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")[-4000:]
            for path in sorted(self.tmp_path.glob("worker-*.log"))
        )

    def statuses(self) -> dict[int, str]:
        with sqlite3.connect(self.database, timeout=20) as connection:
            return dict(connection.execute("SELECT id, status FROM imaging_imagejob"))

    def attempts(self) -> dict[int, int]:
        with sqlite3.connect(self.database, timeout=20) as connection:
            return dict(connection.execute("SELECT id, attempts FROM imaging_imagejob"))


@pytest.fixture
def image_server() -> Iterator[ImageServer]:
    with ImageServer() as running:
        yield running


@pytest.fixture
def world(tmp_path: Path, image_server: ImageServer) -> Iterator[WorkerWorld]:
    scenario = WorkerWorld(tmp_path, image_server)
    scenario.scenario("migrate")
    try:
        yield scenario
    finally:
        scenario.stop()


class Browser:
    """Subscribes to users' groups on the Redis channel layer and keeps every frame.

    The test must never block its event loop (start workers in threads): a receive stalled
    past the Redis client's timeout dies, and the frames after it would go unheard.
    """

    def __init__(self) -> None:
        from channels_redis.core import RedisChannelLayer

        # As in settings: a socket timeout longer than the layer's 5 s blocking pop.
        hosts = [{"address": REDIS_TEST_URL, "socket_timeout": 15}]
        self.layer = RedisChannelLayer(hosts=hosts, prefix="diymod")
        self.frames: dict[int, list[dict]] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.memberships: list[tuple[str, str]] = []

    async def user_listen(self, user_pk: int) -> None:
        channel = await self.layer.new_channel()
        await self.layer.group_add(user_group_name(user_pk), channel)
        self.memberships.append((user_group_name(user_pk), channel))
        self.frames[user_pk] = []
        self.tasks.append(asyncio.create_task(self.frames_collect(user_pk, channel)))

    async def frames_collect(self, user_pk: int, channel: str) -> None:
        while True:
            message = await self.layer.receive(channel)
            self.frames[user_pk].append(message["frame"])

    def urls_heard(self, user_pk: int) -> Counter[str]:
        return Counter(frame["image_url"] for frame in self.frames[user_pk])

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for group, channel in self.memberships:  # never flush: the Redis may be shared
            await self.layer.group_discard(group, channel)
        await self.layer.close_pools()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    listening = Browser()
    try:
        yield listening
    finally:
        await listening.close()


def user_pks(count: int) -> list[int]:
    """Unlikely to collide with any other test's users on the same Redis."""
    return random.sample(range(10**8, 10**9), count)


async def wait_until(condition, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message()
        await asyncio.sleep(0.1)


async def test_a_real_worker_runs_shared_jobs_and_tells_each_requester_once(
    world: WorkerWorld, browser: Browser, image_server: ImageServer
) -> None:
    alice, bob = user_pks(2)
    for user_pk in (alice, bob):
        await browser.user_listen(user_pk)
    shared, alone, other = (image_server.url(f"/image.jpg?w=320&h=240&seed={n}") for n in range(3))
    await asyncio.to_thread(world.worker_start)

    job_ids = await asyncio.to_thread(
        world.jobs_request,
        [
            {"user_pk": alice, "image_url": shared, "filters": ["spiders"]},
            {"user_pk": bob, "image_url": shared, "filters": ["Spiders"]},
            {"user_pk": alice, "image_url": alone, "filters": ["spiders"]},
            {"user_pk": bob, "image_url": other, "filters": ["spiders"]},
        ],
    )

    assert len(set(job_ids.values())) == 3
    await wait_until(
        lambda: set(world.statuses().values()) == {"done"}, 60, lambda: world.statuses()
    )
    expected = {alice: Counter([shared, alone]), bob: Counter([shared, other])}
    await wait_until(
        lambda: all(browser.urls_heard(pk) == urls for pk, urls in expected.items()),
        15,
        lambda: f"heard {browser.frames}\n{world.logs()}",
    )
    await asyncio.sleep(1.0)  # a duplicate would arrive now
    for user_pk, urls in expected.items():
        assert browser.urls_heard(user_pk) == urls
    frame = browser.frames[alice][0]
    assert frame["type"] == "image_processed"
    assert frame["processed_value"] == frame["result"]
    assert frame["processed_value"].startswith(f"{PUBLIC_URL}/media/images/")
    assert [path for path in image_server.paths_requested() if "seed=0" in path] == [
        "/image.jpg?w=320&h=240&seed=0"
    ]


async def test_a_worker_killed_mid_job_loses_no_job_and_tells_each_requester_once(
    world: WorkerWorld, browser: Browser, image_server: ImageServer
) -> None:
    alice, bob = user_pks(2)
    for user_pk in (alice, bob):
        await browser.user_listen(user_pk)
    urls = [image_server.url(f"/image.jpg?w=320&h=240&delay=1.5&seed={n}") for n in range(6)]
    requests = [{"user_pk": alice, "image_url": url, "filters": ["spiders"]} for url in urls]
    requests += [{"user_pk": bob, "image_url": url, "filters": ["spiders"]} for url in urls[:2]]
    first_worker = await asyncio.to_thread(world.worker_start)
    await asyncio.to_thread(world.jobs_request, requests)
    await wait_until(lambda: "running" in world.statuses().values(), 30, lambda: world.statuses())

    await asyncio.to_thread(world.worker_kill, first_worker)

    at_kill = world.statuses()
    assert "running" in at_kill.values() and set(at_kill.values()) != {"done"}
    await asyncio.to_thread(world.worker_start)
    await asyncio.to_thread(world.scenario, "requeue", world.queue)
    await wait_until(
        lambda: set(world.statuses().values()) == {"done"}, 90, lambda: world.statuses()
    )
    expected = {alice: Counter(urls), bob: Counter(urls[:2])}
    await wait_until(
        lambda: all(browser.urls_heard(pk) == heard for pk, heard in expected.items()),
        15,
        lambda: f"heard {browser.frames}\n{world.logs()}",
    )
    await asyncio.sleep(1.5)  # a duplicate push would arrive now
    for user_pk, heard in expected.items():
        assert browser.urls_heard(user_pk) == heard


async def test_a_real_worker_retries_a_flaky_image_as_the_one_policy_says(
    world: WorkerWorld, image_server: ImageServer
) -> None:
    """The countdown side of the task (tests/imaging/test_one_job_path.py compares the embedded
    default with the task's `apply()`): the worker waits the policy's delays, via the broker."""
    url = image_server.url("/flaky?fail=2&key=worker-retries")
    await asyncio.to_thread(world.worker_start)

    job_ids = await asyncio.to_thread(
        world.jobs_request, [{"user_pk": user_pks(1)[0], "image_url": url, "filters": ["x"]}]
    )

    job_id = job_ids[url]
    await wait_until(
        lambda: world.statuses().get(job_id) == "done", 60, lambda: f"{world.statuses()}"
    )
    assert world.attempts()[job_id] == 3
    assert image_server.httpd.counters["flaky:worker-retries"] == 3
    logged = re.findall(rf"image job {job_id}: [^\n]*?; retry (\d+) in ([0-9.]+) s", world.logs())
    # The worker's only job: Celery's own lines say which countdowns it scheduled.
    scheduled = re.findall(r"image_job_run\[[^\]]+\] retry: Retry in ([0-9.]+)s", world.logs())
    delays = IMAGE_JOB_RETRIES.transient_delays
    assert [(int(n), float(delay)) for n, delay in logged] == [(1, delays[0]), (2, delays[1])]
    assert [float(delay) for delay in scheduled] == [delays[0], delays[1]]
