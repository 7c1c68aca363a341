"""Load: feed traffic and open sockets against one and then two daphne processes in the
scaled-out configuration (PostgreSQL + Redis on loopback), from a second process.

    .venv/bin/python bench/load.py [--seconds 15] [--levels 2,8] [--sockets 40]

For each web-process count, and each (feed, concurrency) pair, a generator subprocess runs
`concurrency` clients posting /get_feed back to back for `--seconds`, spread round-robin over
the web processes (as a load balancer would), while `--sockets` WebSockets stay open and ping
every 2 s. It reports throughput, latency percentiles and errors (non-200 answers, exceptions,
socket failures and unanswered pings). Feeds:
- small: 5 posts whose text is new on every request (no cached decision applies: analyzer cost);
- page: the real 50-post Reddit capture (synthetic 50 posts when the capture is absent), the
  same page each time (decisions cached after the first: the parse/edit/serialise cost).
Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and `redis-server`; a private Redis is
started on a free port and a throw-away database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import median, percentile, section_write  # noqa: E402

CAPTURE = (
    ROOT.parent
    / "shared/fixtures/real/reddit"
    / "shreddit_subreddit-feed_r-MachineLearning_rendered-dom_50posts_5ads.html"
)
REDDIT_URL = "https://www.reddit.com/svc/shreddit/feeds/home-feed?after=abc"
ORIGIN = "https://www.reddit.com"
USERS = 20
FILTERS = ["spiders", "large language models", "GPU prices"]
WORDS = "cat dog lunch spider model paper GPU rain city train coffee music game movie".split()


# --- the generator process ----------------------------------------------------------------------


def small_feed(rng: random.Random) -> str:
    posts = []
    for _ in range(5):
        post_id = f"t3_{rng.getrandbits(40):x}"
        title = " ".join(rng.choice(WORDS) for _ in range(8))
        posts.append(
            f'<shreddit-post id="{post_id}" post-title="x" author="a" post-type="text" '
            f'permalink="/r/t/comments/{post_id}/"><a slot="title" href="/r/t/{post_id}">'
            f"{title}</a></shreddit-post>"
        )
    return "<shreddit-feed>" + "".join(posts) + "</shreddit-feed>"


def page_feed() -> str:
    if CAPTURE.exists():
        return CAPTURE.read_text(encoding="utf-8")
    rng = random.Random(50)
    return (
        small_feed(rng).replace("</shreddit-feed>", "")
        + "".join(
            small_feed(rng)[len("<shreddit-feed>") : -len("</shreddit-feed>")] for _ in range(9)
        )
        + "</shreddit-feed>"
    )


async def feed_clients(config: dict) -> dict:
    import httpx

    bases: list[str] = config["bases"]
    page = page_feed() if config["feed"] == "page" else ""
    latencies: list[float] = []
    errors = {"status": 0, "exception": 0}
    deadline = time.monotonic() + config["seconds"]
    counter = [0]

    async def client_loop(index: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(index)
        while time.monotonic() < deadline:
            turn = counter[0]
            counter[0] += 1
            body = page or small_feed(rng)
            payload = {
                "user_id": f"load-{turn % USERS}",
                "url": REDDIT_URL,
                "data": {"feed_info": {"response": body}},
            }
            started = time.perf_counter()
            try:
                answer = await client.post(f"{bases[turn % len(bases)]}/get_feed", json=payload)
            except httpx.HTTPError:
                errors["exception"] += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                errors["status"] += 1

    limits = httpx.Limits(max_connections=config["concurrency"] * 2)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        started = time.monotonic()
        await asyncio.gather(*(client_loop(i, client) for i in range(config["concurrency"])))
        elapsed = time.monotonic() - started
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed}


async def socket_holder(url: str, stop: asyncio.Event, tally: dict) -> None:
    import websockets

    try:
        async with websockets.connect(url, origin=ORIGIN, open_timeout=10) as socket:
            tally["open"] += 1
            while not stop.is_set():
                await socket.send('{"type": "ping"}')
                answer = json.loads(await asyncio.wait_for(socket.recv(), 10))
                tally["pongs" if answer.get("type") == "pong" else "other"] += 1
                try:
                    await asyncio.wait_for(stop.wait(), 2.0)
                except TimeoutError:
                    pass
    except Exception:  # counted, never raised: the figures report it
        tally["failed"] += 1


async def generate(config: dict) -> dict:
    stop = asyncio.Event()
    tally = {"open": 0, "failed": 0, "pongs": 0, "other": 0}
    ws_bases = [base.replace("http://", "ws://") for base in config["bases"]]
    holders = [
        asyncio.create_task(
            socket_holder(f"{ws_bases[n % len(ws_bases)]}/ws/load-{n % USERS}", stop, tally)
        )
        for n in range(config["sockets"])
    ]
    await asyncio.sleep(1.0)  # sockets open before the feed traffic starts
    result = await feed_clients(config)
    stop.set()
    await asyncio.gather(*holders)
    return {**result, "sockets": tally}


# --- the orchestrating process ------------------------------------------------------------------


def generator_run(config: dict) -> dict:
    completed = subprocess.run(
        [sys.executable, str(Path(__file__)), "--generate"],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        timeout=config["seconds"] + 120,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def users_prepare(base: str) -> None:
    import httpx

    with httpx.Client(base_url=base, timeout=60) as client:
        for n in range(USERS):
            for text in FILTERS:
                answer = client.post(
                    "/filters", json={"user_id": f"load-{n}", "filter_text": text}
                )
                answer.raise_for_status()


def warm(bases: list[str]) -> None:
    """One request of each kind per process: the model loads, as on any first request."""
    import httpx

    for base in bases:
        for body in (small_feed(random.Random(1)), page_feed()):
            payload = {
                "user_id": "load-0",
                "url": REDDIT_URL,
                "data": {"feed_info": {"response": body}},
            }
            httpx.post(f"{base}/get_feed", json=payload, timeout=120).raise_for_status()


def row(webs: int, feed: str, concurrency: int, result: dict) -> str:
    latencies = result["latencies"]
    errors = result["errors"]["status"] + result["errors"]["exception"]
    sockets = result["sockets"]
    socket_errors = sockets["failed"] + sockets["other"]
    throughput = len(latencies) / result["elapsed"] if result["elapsed"] else 0.0
    p = [percentile(latencies, q) if latencies else 0.0 for q in (0.5, 0.95, 0.99)]
    return (
        f"| {webs} | {feed} | {concurrency} | {len(latencies)} | {throughput:.1f} | "
        f"{p[0]:.0f} | {p[1]:.0f} | {p[2]:.0f} | {errors} | "
        f"{sockets['open']} open, {sockets['pongs']} pongs, {socket_errors} errors |"
    )


def bench(seconds: float, levels: list[int], sockets: int) -> str:
    from tests.integration.conftest import RedisServer, postgres_available, psql
    from tests.support.live_server import live_server_start, migrate, server_env

    if not postgres_available():
        raise SystemExit("PostgreSQL is not reachable on 127.0.0.1:5432 as postgres")
    redis = RedisServer()
    redis.start()
    database = f"diymod_load_{uuid.uuid4().hex[:8]}"
    assert psql(f"CREATE DATABASE {database}").returncode == 0
    rows: list[str] = []
    throughputs: dict[tuple[int, str, int], float] = {}
    try:
        env = server_env(
            {
                "REDIS_URL": redis.url,
                "DIYMOD_ANALYZER": "embedded",
                "OPENAI_API_KEY": "",
                "DIYMOD_LOG_LEVEL": "warning",
                "DIYMOD_MEDIA_ROOT": tempfile.mkdtemp(prefix="diymod-load-media-"),
            },
            database_url=f"postgres://postgres@127.0.0.1:5432/{database}",
        )
        migrate(env)
        for webs in (1, 2):
            servers = [
                live_server_start(env, database_url=env["DATABASE_URL"], run_migrate=False)
                for _ in range(webs)
            ]
            try:
                bases = [server.base_url for server in servers]
                if webs == 1:
                    users_prepare(bases[0])
                warm(bases)
                for feed in ("small", "page"):
                    for concurrency in levels:
                        config = {
                            "bases": bases,
                            "feed": feed,
                            "concurrency": concurrency,
                            "seconds": seconds,
                            "sockets": sockets,
                        }
                        result = generator_run(config)
                        rows.append(row(webs, feed, concurrency, result))
                        throughputs[(webs, feed, concurrency)] = len(result["latencies"]) / max(
                            result["elapsed"], 1e-9
                        )
                        print(rows[-1], flush=True)
            finally:
                for server in servers:
                    server.stop()
    finally:
        psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        redis.stop()
    ratios = [
        throughputs[(2, feed, level)] / throughputs[(1, feed, level)]
        for feed in ("small", "page")
        for level in levels
        if throughputs.get((1, feed, level))
    ]
    return "\n".join(
        [
            f"`bench/load.py`: {seconds:.0f} s per row; a separate generator process posts "
            f"/get_feed back to back from N concurrent clients, round-robin over the web "
            f"processes, while {sockets} WebSockets stay open and ping every 2 s. PostgreSQL and "
            "Redis on loopback, embedded analyzer, 3 filters per user, 20 users. `small`: 5 "
            "posts, new text every request (analyzer runs); `page`: the real 50-post Reddit "
            "capture, repeated (decisions cached). The generator shares the 2 cores.",
            "",
            "| web processes | feed | concurrency | requests | req/s | p50 ms | p95 ms | p99 ms "
            "| errors | sockets |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Two web processes over one: median throughput ratio {median(ratios):.2f}x "
            f"(range {min(ratios):.2f}-{max(ratios):.2f}x across rows).",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--levels", default="2,8")
    parser.add_argument("--sockets", type=int, default=40)
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.generate:
        config = json.loads(sys.stdin.read())
        print(json.dumps(asyncio.run(generate(config))), flush=True)
        return
    levels = [int(level) for level in arguments.levels.split(",")]
    body = bench(arguments.seconds, levels, arguments.sockets)
    section_write("load", "Load: one and two web processes", body)
    print(body)


if __name__ == "__main__":
    main()
