"""Load: feed traffic and open sockets against one and then two daphne processes in the
scaled-out configuration (PostgreSQL + Redis on loopback), from a second process.

    .venv/bin/python bench/load.py [--seconds 15] [--levels 2,8] [--sockets 40]
                                   [--idle-sockets 10000]

For each web-process count, and each (feed, concurrency) pair, a generator subprocess runs
`concurrency` clients posting /get_feed back to back for `--seconds`, spread round-robin over
the web processes (as a load balancer would), while `--sockets` WebSockets stay open and ping
every 2 s. It reports throughput (over the row, with the range of 3 s windows), latency
percentiles, errors (non-200 answers, exceptions, socket failures and unanswered pings) and
each row's ratio to its baseline in the same run. The web process is the deployed one
(`python -m diymod.web`: keep-alive cadence and collector tuning from settings); after the
one-process rows, `--idle-sockets` more sockets are opened on that process by
`bench/realtime.py`'s client role (one user each, client B's `ping` every 30 s) and the same
rows run again beside them. Feeds:
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
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import media_localise, median, percentile, rss_mb, section_write  # noqa: E402

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
        return media_localise(CAPTURE.read_text(encoding="utf-8"))
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
    finished: list[float] = []  # when each answer came, from the start
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
            finished.append(time.monotonic() - began)
            if answer.status_code != 200:
                errors["status"] += 1

    limits = httpx.Limits(max_connections=config["concurrency"] * 2)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        began = time.monotonic()
        await asyncio.gather(*(client_loop(i, client) for i in range(config["concurrency"])))
        elapsed = time.monotonic() - began
    return {"latencies": latencies, "finished": finished, "errors": errors, "elapsed": elapsed}


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


WINDOW_SECONDS = 3.0


def window_rates(result: dict) -> list[float]:
    """Answers per second in each whole window of the run (the spread of the throughput)."""
    windows = int(result["elapsed"] // WINDOW_SECONDS)
    counts = [0] * windows
    for moment in result["finished"]:
        if int(moment // WINDOW_SECONDS) < windows:
            counts[int(moment // WINDOW_SECONDS)] += 1
    return [count / WINDOW_SECONDS for count in counts] or [
        len(result["latencies"]) / max(result["elapsed"], 1e-9)
    ]


@dataclass
class Row:
    setup: str  # "1", "2", "1 + 10,000 idle sockets"
    feed: str
    concurrency: int
    result: dict
    rss: float  # the web processes' largest RSS (MB) at the end of the row
    # The rows this one is compared with, from the same run: one process without idle
    # sockets, same feed and concurrency, before and after the idle-socket rows.
    baselines: list[Row] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.result["latencies"]) / max(self.result["elapsed"], 1e-9)

    def versus(self) -> tuple[float, float] | None:
        """(req/s, p50) over the mean of the baselines'."""
        if not self.baselines:
            return None
        rate = sum(row.rate for row in self.baselines) / len(self.baselines)
        p50 = sum(row.p50 for row in self.baselines) / len(self.baselines)
        return (self.rate / rate, self.p50 / p50) if rate and p50 else None

    @property
    def p50(self) -> float:
        latencies = self.result["latencies"]
        return median(latencies) if latencies else 0.0

    def line(self) -> str:
        latencies, rates = self.result["latencies"], window_rates(self.result)
        errors = self.result["errors"]["status"] + self.result["errors"]["exception"]
        sockets = self.result["sockets"]
        socket_errors = sockets["failed"] + sockets["other"]
        p = [percentile(latencies, q) if latencies else 0.0 for q in (0.95, 0.99)]
        ratios = self.versus()
        versus = f"{ratios[0]:.2f}× req/s, {ratios[1]:.2f}× p50" if ratios else ""
        return (
            f"| {self.setup} | {self.feed} | {self.concurrency} | {len(latencies)} | "
            f"{self.rate:.1f} ({min(rates):.1f}–{max(rates):.1f}) | {self.p50:.0f} | "
            f"{p[0]:.0f} | {p[1]:.0f} | {errors} | {sockets['open']} open, "
            f"{sockets['pongs']} pongs, {socket_errors} errors | {self.rss:.0f} | {versus} |"
        )


def idle_sockets_open(server: Any, count: int, env: dict[str, str]) -> tuple[Any, dict]:
    """`count` idle sockets on `server` from bench/realtime.py's client role (its users are
    created first); the clients process and what opened. The caller stops the process."""
    from bench.realtime import clients_start, clients_wait, users_create

    user_pk, prefix = secrets.randbelow(10**9) + 10**6, f"idle-{secrets.token_hex(3)}-"
    users_create(env, user_pk, f"bench-{secrets.token_hex(4)}", prefix, count)
    clients = clients_start(server.port, count, prefix, env)
    return clients, clients_wait(clients, time.monotonic() + 240)


def bench(seconds: float, levels: list[int], sockets: int, idle: int) -> str:
    from bench.realtime import nofile_raise
    from tests.integration.conftest import RedisServer, postgres_available, psql
    from tests.support.daphne_servers import process_stop
    from tests.support.live_server import live_server_start, migrate, server_env

    if not postgres_available():
        raise SystemExit("PostgreSQL is not reachable on 127.0.0.1:5432 as postgres")
    started = time.monotonic()
    nofile_raise(idle * 2 + 1024)  # inherited by the servers and the socket clients
    redis = RedisServer()
    redis.start()
    database = f"diymod_load_{uuid.uuid4().hex[:8]}"
    assert psql(f"CREATE DATABASE {database}").returncode == 0
    rows: list[Row] = []
    alone: dict[tuple[str, int], list[Row]] = {}  # one process, no idle sockets: baselines
    memory = ""

    def rows_run(setup: str, servers: list[Any], *, baseline: bool = False) -> None:
        bases = [server.base_url for server in servers]
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
                rss = max(rss_mb(server.process.popen.pid) for server in servers)
                row = Row(setup, feed, concurrency, result, rss)
                if baseline:
                    alone.setdefault((feed, concurrency), []).append(row)
                rows.append(row)
                print(row.line(), flush=True)

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
                warm_load = {"bases": bases, "feed": "small", "concurrency": max(levels)}
                generator_run({**warm_load, "seconds": 3.0, "sockets": 0})  # not reported
                rows_run(str(webs), servers, baseline=webs == 1)
                if webs == 1 and idle:
                    pid = servers[0].process.popen.pid
                    before = rss_mb(pid)
                    clients, opened = idle_sockets_open(servers[0], idle, env)
                    try:
                        time.sleep(10)  # the opening burst settles, as in bench/realtime.py
                        loaded = rss_mb(pid)
                        rows_run(f"1 + {opened['open']:,} idle sockets", servers)
                        memory = (
                            f"Idle sockets: {opened['open']:,} of {idle:,} opened, "
                            f"{opened['failures']} failed; the web process held {before:.0f} MB "
                            f"before them, {loaded:.0f} MB with them open, "
                            f"{rss_mb(pid):.0f} MB after their rows."
                        )
                    finally:
                        if clients.stdin:
                            clients.stdin.close()
                        process_stop(clients)
                    time.sleep(10)  # the closing burst settles
                    rows_run("1, again", servers, baseline=True)
            finally:
                for server in servers:
                    server.stop()
    finally:
        psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        redis.stop()
    for row in rows:
        if row.setup.startswith(("1 +", "2")):
            row.baselines = alone.get((row.feed, row.concurrency), [])
    return report(seconds, sockets, rows, memory, time.monotonic() - started)


def ratio_line(rows: list[Row], setup: str, label: str) -> str:
    versus = [row.versus() for row in rows if row.setup.startswith(setup)]
    rates = [ratios[0] for ratios in versus if ratios]
    p50s = [ratios[1] for ratios in versus if ratios]
    if not rates or not p50s:
        return f"{label}: not measured."
    return (
        f"{label}: throughput {median(rates):.2f}× (range {min(rates):.2f}–{max(rates):.2f}× "
        f"across rows), p50 latency {median(p50s):.2f}× ({min(p50s):.2f}–{max(p50s):.2f}×)."
    )


def report(seconds: float, sockets: int, rows: list[Row], memory: str, elapsed: float) -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return "\n".join(
        [
            f"`bench/load.py`: {seconds:.0f} s per row; a separate generator process posts "
            f"/get_feed back to back from N concurrent clients, round-robin over the web "
            f"processes, while {sockets} WebSockets stay open and ping every 2 s. PostgreSQL and "
            "Redis on loopback, embedded analyzer, 3 filters per user, 20 users. `small`: 5 "
            "posts, new text every request (analyzer runs); `page`: the real 50-post Reddit "
            "capture, repeated (decisions cached). The web process is the deployed one "
            "(`python -m diymod.web`, settings' keep-alive and collector tuning); the "
            "`idle sockets` rows run on the one-process server after bench/realtime.py's "
            "client role opened that many more sockets on it (one user each, a `ping` every "
            "30 s, as client B). Before the rows of each server set, 3 s of small feeds not "
            "reported (first requests are slower); the one-process rows run again after the "
            "idle sockets closed (`1, again`). req/s: over the whole row, with the range of its "
            "3 s windows; RSS: the largest web process's at the row's end; `vs. baseline`: "
            "against the mean of the two one-process rows of the same feed and concurrency, "
            "same run. The generator shares the 2 cores.",
            "",
            "| web processes | feed | concurrency | requests | req/s (3 s windows) | p50 ms "
            "| p95 ms | p99 ms | errors | sockets | RSS MB | vs. baseline |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|",
            *(row.line() for row in rows),
            "",
            ratio_line(rows, "2", "Two web processes over one"),
            ratio_line(rows, "1 +", "One process with the idle sockets over one without"),
            *([memory] if memory else []),
            "",
            f"Load average at the end (1, 5, 15 min; 2 cores, shared): {load}. "
            f"Whole run: {elapsed:.0f} s.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--levels", default="2,8")
    parser.add_argument("--sockets", type=int, default=40)
    parser.add_argument("--idle-sockets", type=int, default=10_000, help="0: no such rows")
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.generate:
        config = json.loads(sys.stdin.read())
        print(json.dumps(asyncio.run(generate(config))), flush=True)
        return
    levels = [int(level) for level in arguments.levels.split(",")]
    body = bench(arguments.seconds, levels, arguments.sockets, arguments.idle_sockets)
    section_write("load", "Load: one and two web processes", body)
    print(body)


if __name__ == "__main__":
    main()
