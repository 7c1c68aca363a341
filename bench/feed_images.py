"""From `POST /get_feed` answering DEFERRED to `image_processed` arriving on the browser's socket.

Scaled out as deployed: a daphne process and a real Celery worker on Redis, the browser's socket
on daphne; a feed of 20 posts with a matching 1024x768 JPEG each, served by a local image server.
DESIGN.md target: p50 ≤ 300 ms, p95 ≤ 800 ms (the published system: 6–20 s).

    .venv/bin/python bench/feed_images.py [--runs 3] [--redis redis://127.0.0.1:6379/13]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import median, percentile, section_write  # noqa: E402
from tests.feed.samples import REDDIT_URL, reddit_feed, shreddit_post  # noqa: E402
from tests.support.image_server import ImageServer  # noqa: E402
from tests.support.live_server import celery_worker_start, live_server_start  # noqa: E402

IMAGES = 20


def feed_with_images(server: ImageServer, run: int) -> tuple[str, list[str]]:
    urls = [server.url(f"/image.jpg?w=1024&h=768&seed={run * 100 + n}") for n in range(IMAGES)]
    posts = [
        shreddit_post(f"t3_{run}_{n}", f"A spider photo number {n}", image=url)
        for n, url in enumerate(urls)
    ]
    return reddit_feed(*posts), urls


async def one_run(base_url: str, ws_url: str, body: str, urls: list[str]) -> list[float]:
    origin = {"Origin": "https://www.reddit.com"}
    async with websockets.connect(f"{ws_url}/ws/bench-user", additional_headers=origin) as socket:
        payload = {
            "user_id": "bench-user",
            "url": REDDIT_URL,
            "data": {"feed_info": {"response": body}},
        }
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            response = await client.post("/get_feed", json=payload)
        answered = time.perf_counter()
        response.raise_for_status()
        assert response.json()["stats"]["images"] == IMAGES, response.json()["stats"]
        waiting, arrivals = set(urls), []
        while waiting:
            frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=60))
            if frame.get("type") == "image_processed" and frame["image_url"] in waiting:
                waiting.discard(frame["image_url"])
                arrivals.append((time.perf_counter() - answered) * 1000)
    return arrivals


def run(runs: int, redis_url: str) -> str:
    workdir = Path(tempfile.mkdtemp(prefix="diymod-bench-images-"))
    with ImageServer() as images:
        env = {
            "REDIS_URL": redis_url,
            "DIYMOD_IMAGE_ALLOWED_HOSTS": images.host_port,
            "DIYMOD_IMAGE_ALLOW_PRIVATE": "1",
            "DIYMOD_MEDIA_ROOT": str(workdir / "media"),
            "DIYMOD_PLAYGROUND_IMAGES": "0",
        }
        server = live_server_start(env, database_url=f"sqlite:///{workdir}/db.sqlite3")
        worker = celery_worker_start(server.env, concurrency=2)
        server.extra.append(worker)
        with server, httpx.Client(base_url=server.base_url) as client:
            client.post(
                "/filters",
                json={"user_id": "bench-user", "filter_text": "spiders", "intensity": 4},
            ).raise_for_status()
            time.sleep(3)  # the worker connects to the broker
            asyncio.run(one_run(server.base_url, server.ws_url, *feed_with_images(images, 999)))
            arrivals: list[float] = []
            firsts: list[float] = []
            for index in range(runs):
                times = asyncio.run(
                    one_run(server.base_url, server.ws_url, *feed_with_images(images, index))
                )
                arrivals += times
                firsts.append(min(times))
    return "\n".join(
        [
            f"{runs} feeds of {IMAGES} posts, each with its own matching 1024x768 JPEG (new jobs "
            "every run), through daphne + one Celery worker (2 processes) + Redis on loopback. "
            "Time from the /get_feed answer (images DEFERRED) to each `image_processed` frame on "
            "the user's socket.",
            "",
            "| measure | ms |",
            "|---|---:|",
            f"| p50 over all images | {median(arrivals):.0f} |",
            f"| p95 over all images | {percentile(arrivals, 0.95):.0f} |",
            "| first image of a feed (median; 0: pushed before the answer was read) | "
            f"{median(firsts):.0f} |",
            f"| last image of a feed (max) | {max(arrivals):.0f} |",
            "",
            "All 20 jobs of a feed are queued at once, so later images wait for a free worker "
            "process: p95 grows with images per feed divided by worker processes.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    arguments = parser.parse_args()
    body = run(arguments.runs, arguments.redis)
    print(body)
    section_write("feed_images", "Images end to end (/get_feed → socket)", body)


if __name__ == "__main__":
    main()
