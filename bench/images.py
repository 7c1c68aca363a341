"""Images: from requesting a job to `image_processed` on the user's channel-layer group, through
a real `celery -A diymod worker` and Redis (DESIGN.md target: p50 ≤ 300 ms, p95 ≤ 800 ms).

    .venv/bin/python bench/images.py [--count 20] [--redis redis://127.0.0.1:6379/15]

The bench process plays the web process (it requests the jobs exactly as /get_feed does:
`image_job_request` in a transaction, queued after commit) and the browser (it listens on the
user's group with channels-redis, as the socket consumer does). Images are 1024x768 JPEGs from
a local server (tests/support/image_server.py), so the network is loopback: the figures are the
server's own cost. Three runs: one image at a time (latency), feeds of 5 matching pictures
requested together, and all at once (a stress case for one worker with 2 processes).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.report import median, percentile, section_write  # noqa: E402
from tests.support.image_server import ImageServer, image_bytes_make  # noqa: E402

WIDTH, HEIGHT = 1024, 768
# A Reddit page carries 25 posts; a handful of matching pictures per page is the common case.
FEED_IMAGES = 5
PUBLIC_URL = "https://bench.example"


def environment_prepare(workdir: Path, redis_url: str, server: ImageServer) -> dict[str, str]:
    database = workdir / "db.sqlite3"
    values = {
        "DJANGO_SETTINGS_MODULE": "diymod.settings",
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{database}?timeout=20&transaction_mode=IMMEDIATE",
        "DIYMOD_MEDIA_ROOT": str(workdir / "media"),
        "DIYMOD_IMAGE_ALLOWED_HOSTS": server.host_port,
        "DIYMOD_IMAGE_ALLOW_PRIVATE": "1",
        "DIYMOD_PUBLIC_URL": PUBLIC_URL,
        "DIYMOD_LOG_LEVEL": "warning",
        "PYTHONPATH": str(REPO),
    }
    for key in [key for key in os.environ if key.startswith("CELERY_")]:
        del os.environ[key]
    os.environ.update(values)
    return dict(os.environ)


def worker_start(env: dict[str, str], queue: str, log: Path) -> subprocess.Popen[bytes]:
    celery = str(Path(sys.executable).with_name("celery"))
    command = [
        celery, "-A", "diymod", "worker", "-Q", queue, "--pool", "prefork", "--concurrency", "2",
        "--loglevel", "INFO", "-n", f"{queue}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log.open("wb") as output:
        worker = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while b" ready." not in log.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("worker did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.2)
    return worker


class Listener:
    """The user's browser: every image_processed frame with its arrival time."""

    def __init__(self, redis_url: str) -> None:
        from channels_redis.core import RedisChannelLayer

        hosts = [{"address": redis_url, "socket_timeout": 15}]
        self.layer = RedisChannelLayer(hosts=hosts, prefix="diymod")
        self.arrivals: dict[str, float] = {}
        self.arrived = asyncio.Event()

    async def start(self, user_pk: int) -> None:
        from diymod.realtime import user_group_name

        self.group = user_group_name(user_pk)
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        self.task = asyncio.create_task(self.collect())

    async def collect(self) -> None:
        while True:
            message = await self.layer.receive(self.channel)
            self.arrivals.setdefault(message["frame"]["image_url"], time.perf_counter())
            self.arrived.set()

    async def wait_for(self, urls: list[str], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not all(url in self.arrivals for url in urls):
            if time.monotonic() > deadline:
                missing = [url for url in urls if url not in self.arrivals]
                raise SystemExit(f"no image_processed for {len(missing)} image(s)")
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), 1.0)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.layer.group_discard(self.group, self.channel)


def job_request(user, url: str) -> float:
    """Request one job as /get_feed does; returns the time the request started."""
    from django.db import transaction

    from imaging.requests import image_job_request

    started = time.perf_counter()
    with transaction.atomic():
        image_job_request(user=user, image_url=url, filter_texts=["spiders"], intensity=4)
    return started


async def run_sequential(user, listener: Listener, urls: list[str]) -> list[float]:
    latencies = []
    for url in urls:
        started = await asyncio.to_thread(job_request, user, url)
        await listener.wait_for([url])
        latencies.append((listener.arrivals[url] - started) * 1000)
    return latencies


async def run_burst(user, listener: Listener, urls: list[str]) -> list[float]:
    def request_all() -> dict[str, float]:
        return {url: job_request(user, url) for url in urls}

    starts = await asyncio.to_thread(request_all)
    await listener.wait_for(urls)
    return [(listener.arrivals[url] - starts[url]) * 1000 for url in urls]


def job_breakdown(urls: list[str]) -> dict[str, float]:
    """Medians from the job rows: waiting for a worker, fetching, transforming, whole run."""
    from imaging.models import ImageJob
    from imaging.selectors import url_hash_make

    jobs = [
        job
        for job in ImageJob.objects.filter(url_hash__in=[url_hash_make(url) for url in urls])
        if job.started_at and job.finished_at and job.fetch_ms is not None
    ]
    return {
        "queue": median(
            [(job.started_at - job.created_at).total_seconds() * 1000 for job in jobs]
        ),
        "fetch": median([job.fetch_ms for job in jobs]),
        "transform": median([job.transform_ms for job in jobs]),
        "run": median([(job.finished_at - job.started_at).total_seconds() * 1000 for job in jobs]),
    }


def table_row(name: str, values: list[float]) -> str:
    return (
        f"| {name} | {len(values)} | {median(values):.0f} | {percentile(values, 0.95):.0f} "
        f"| {max(values):.0f} |"
    )


async def bench(count: int, redis_url: str) -> str:
    import django

    with tempfile.TemporaryDirectory() as workdir_name, ImageServer() as server:
        workdir = Path(workdir_name)
        env = environment_prepare(workdir, redis_url, server)
        django.setup()
        from django.core.management import call_command

        from diymod.celery import app
        from filters.models import User

        await asyncio.to_thread(call_command, "migrate", verbosity=0, interactive=False)
        queue = f"bench-images-{secrets.token_hex(6)}"
        app.conf.task_default_queue = queue
        worker = worker_start(env, queue, workdir / "worker.log")
        try:
            user = await asyncio.to_thread(User.objects.create_user, f"bench-{queue}")
            listener = Listener(redis_url)
            await listener.start(user.pk)

            def urls(run: str) -> list[str]:
                path = f"/image.jpg?w={WIDTH}&h={HEIGHT}"
                return [server.url(f"{path}&seed={n}&run={run}") for n in range(count)]

            # Generated up front (cached by the server), so a fetch measures serving, not drawing.
            for seed in range(count):
                image_bytes_make(WIDTH, HEIGHT, "JPEG", seed=seed)
            # Warm-up: the pool's first job in each child imports Pillow, numpy, httpx.
            await run_burst(user, listener, urls("warmup")[:4])
            sequential_urls, burst_urls = urls("sequential"), urls("burst")
            sequential = await run_sequential(user, listener, sequential_urls)
            feeds: list[float] = []
            for start in range(0, count, FEED_IMAGES):
                page = urls(f"feed{start}")[start : start + FEED_IMAGES]
                feeds += await run_burst(user, listener, page)
            burst = await run_burst(user, listener, burst_urls)
            parts = await asyncio.to_thread(job_breakdown, sequential_urls)
            await listener.stop()
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
    return "\n".join(
        [
            f"{count} images, {WIDTH}x{HEIGHT} JPEG, intervention cartoon; one Celery worker "
            "(prefork, 2 processes), Redis broker and channels-redis; timed from the job "
            "request (the /get_feed side, after commit) to `image_processed` arriving on the "
            "user's group.",
            "",
            "| run | images | p50 ms | p95 ms | max ms |",
            "|---|---|---|---|---|",
            table_row("one at a time", sequential),
            table_row(f"feeds of {FEED_IMAGES} matching images", feeds),
            table_row(f"all {count} at once", burst),
            "",
            "Where the time goes (one at a time, medians from the job rows): "
            f"request to a worker starting it {parts['queue']:.0f} ms; the run "
            f"{parts['run']:.0f} ms, of which fetch + decode {parts['fetch']:.0f} ms (loopback) "
            f"and transform + encode {parts['transform']:.0f} ms; the rest is the push.",
            f"Target (DESIGN.md): p50 ≤ 300 ms, p95 ≤ 800 ms; one at a time p50 is "
            f"{median(sequential) / 300:.2f}x the target. The published system took 6–20 s "
            f"per image: {6000 / median(sequential):.0f}x slower than this p50 at its best.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument(
        "--redis", default=os.environ.get("DIYMOD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    arguments = parser.parse_args()
    body = asyncio.run(bench(arguments.count, arguments.redis))
    print(body)
    section_write("images", "Images: request → image_processed (real worker, Redis)", body)


if __name__ == "__main__":
    main()
