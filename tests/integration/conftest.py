"""The scaled-out deployment on loopback for fault tests: daphne web processes and Celery workers
on PostgreSQL and a Redis of the test's own (never the machine's shared Redis: the outage test
stops it, and no other engineer's worker may pick up our tasks).

Each test module gets a fresh PostgreSQL database (dropped after); every process is started by a
`Cluster` and killed in its `stop()`, which the fixtures call in `finally`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.image_server import ImageServer
from tests.support.live_server import (
    BIN,
    ROOT,
    LiveServer,
    Process,
    free_port,
    live_server_start,
    migrate,
    server_env,
)

POSTGRES_HOST = os.environ.get("DIYMOD_TEST_POSTGRES_HOST", "127.0.0.1")
ORIGIN = "https://www.reddit.com"
REDDIT_URL = "https://www.reddit.com/svc/shreddit/feeds/home-feed?after=abc"


def psql(sql: str, database: str = "postgres") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["psql", "-h", POSTGRES_HOST, "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1",
         "-c", sql],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def postgres_available() -> bool:
    if shutil.which("psql") is None:
        return False
    try:
        return psql("SELECT 1").returncode == 0
    except subprocess.TimeoutExpired:
        return False


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh database for the module on 127.0.0.1:5432, dropped afterwards."""
    if not postgres_available():
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_HOST}:5432 as postgres")
    name = f"diymod_it_{uuid.uuid4().hex[:10]}"
    created = psql(f"CREATE DATABASE {name}")
    assert created.returncode == 0, created.stderr
    try:
        yield f"postgres://postgres@{POSTGRES_HOST}:5432/{name}"
    finally:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class RedisServer:
    """A private `redis-server` on a free loopback port, stoppable and restartable on that port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="diymod-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self.ping():
            assert self.process.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not answer"
            time.sleep(0.05)

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.3).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # an outage, not a shutdown: nothing is saved anyway
            self.process.wait(10)
        self.process = None


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def image_server() -> Iterator[ImageServer]:
    with ImageServer() as running:
        yield running


@dataclass
class Cluster:
    """Web processes and workers sharing one environment (database, Redis, media folder)."""

    env: dict[str, str]
    webs: list[LiveServer] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)

    def web_start(self) -> LiveServer:
        server = live_server_start(
            self.env, database_url=self.env["DATABASE_URL"], run_migrate=False
        )
        self.webs.append(server)
        return server

    def worker_start(self, name: str) -> Process:
        args = [
            str(BIN / "celery"), "-A", "diymod", "worker", "--loglevel=info", "--pool=prefork",
            "--concurrency=2", f"--hostname={name}@%h", "--without-gossip", "--without-mingle",
            "--without-heartbeat",
        ]  # fmt: skip
        env = dict(self.env)
        worker = process_start_in_session(args, env, f"celery-{name}")
        self.workers.append(worker)
        deadline = time.monotonic() + 60
        while " ready." not in worker.output():
            assert worker.popen.poll() is None, worker.output()[-3000:]
            assert time.monotonic() < deadline, "worker not ready:\n" + worker.output()[-3000:]
            time.sleep(0.2)
        return worker

    def worker_kill(self, worker: Process) -> None:
        """SIGKILL the worker and its pool children at once, as a crash would."""
        try:
            os.killpg(worker.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        worker.popen.wait(10)

    def manage(self, *args: str) -> str:
        completed = subprocess.run(
            [str(BIN / "python"), "manage.py", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert completed.returncode == 0, completed.stderr[-3000:]
        return completed.stdout

    def logs(self) -> str:
        parts = [f"--- web {w.port}\n{w.process.output()[-3000:]}" for w in self.webs]
        parts += [f"--- worker\n{w.output()[-3000:]}" for w in self.workers]
        return "\n".join(parts)

    def stop(self) -> None:
        for worker in self.workers:
            if worker.popen.poll() is None:
                self.worker_kill(worker)
        for web in self.webs:
            web.stop()


def embedded_server_start(extra_env: dict[str, str]) -> LiveServer:
    """One daphne on the embedded default (its own SQLite file, in-memory layer, eager jobs),
    whatever DATABASE_URL / REDIS_URL the test run itself has (CI sets both)."""
    folder = tempfile.mkdtemp(prefix="diymod-it-embedded-")
    return live_server_start(
        {"REDIS_URL": "", "DIYMOD_MEDIA_ROOT": f"{folder}/media", **extra_env},
        database_url=f"sqlite:///{folder}/db.sqlite3",
    )


def process_start_in_session(args: list[str], env: dict[str, str], name: str) -> Process:
    """As `process_start`, in a session of its own so a kill reaches the pool's children."""
    log = Path(tempfile.mkdtemp(prefix=f"diymod-{name}-")) / "output.log"
    with log.open("wb") as handle:
        popen = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    return Process(popen=popen, log=log)


def cluster_env(
    *, postgres_url: str, redis_url: str, image_server: ImageServer, media_root: Path, **extra: str
) -> dict[str, str]:
    env = server_env(
        {
            "REDIS_URL": redis_url,
            "DIYMOD_MEDIA_ROOT": str(media_root),
            "DIYMOD_IMAGE_ALLOWED_HOSTS": image_server.host_port,
            "DIYMOD_IMAGE_ALLOW_PRIVATE": "1",
            "DIYMOD_IMAGE_FETCH_TIMEOUT_SECONDS": "5",
            "DIYMOD_ANALYZER": "embedded",
            "DIYMOD_LOG_LEVEL": "warning",
            "DIYMOD_LOG_FORMAT": "plain",
            "OPENAI_API_KEY": "",
            "PYTHONUNBUFFERED": "1",
            **extra,
        },
        database_url=postgres_url,
    )
    for key in [key for key in env if key.startswith("CELERY_")]:
        del env[key]
    return env


@pytest.fixture(scope="module")
def cluster_base_env(
    postgres_url: str, redis_server: RedisServer, image_server: ImageServer
) -> dict[str, str]:
    media = Path(tempfile.mkdtemp(prefix="diymod-it-media-"))
    env = cluster_env(
        postgres_url=postgres_url,
        redis_url=redis_server.url,
        image_server=image_server,
        media_root=media,
    )
    migrate(env)
    return env


# --- the browser's side -------------------------------------------------------------------------


def shreddit_post(post_id: str, title: str, image: str = "") -> str:
    media = (
        f'<div slot="post-media-container"><img class="i18n-post-media-img" src="{image}" '
        f'alt="a photo of a spider"></div>'
        if image
        else ""
    )
    return (
        f'<shreddit-post id="{post_id}" post-title="x" author="someone" post-type="image" '
        f'permalink="/r/t/comments/{post_id}/"><a slot="title" href="/r/t/{post_id}">{title}</a>'
        f"{media}</shreddit-post>"
    )


def feed_post(
    base_url: str,
    user_id: str,
    body: str,
    *,
    timeout: float = 30.0,
    client: httpx.Client | None = None,
) -> httpx.Response:
    payload = {"user_id": user_id, "url": REDDIT_URL, "data": {"feed_info": {"response": body}}}
    if client is not None:
        return client.post(f"{base_url}/get_feed", json=payload, timeout=timeout)
    return httpx.post(f"{base_url}/get_feed", json=payload, timeout=timeout)


def filter_add(base_url: str, user_id: str, text: str, intensity: int = 4) -> int:
    response = httpx.post(
        f"{base_url}/filters",
        json={"user_id": user_id, "filter_text": text, "intensity": intensity},
        timeout=15,
    )
    assert response.status_code == 200, response.text
    return int(response.json()["filter_id"])


@pytest.fixture
def cluster_factory(cluster_base_env: dict[str, str]) -> Iterator[list[Cluster]]:
    """Clusters made in a test are stopped after it, whatever happens."""
    made: list[Cluster] = []
    try:
        yield made
    finally:
        for cluster in made:
            cluster.stop()


def wait_for(condition, timeout: float, message) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(0.1)
