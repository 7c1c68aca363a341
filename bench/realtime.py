"""Realtime pushes and idle sockets (DESIGN.md targets: push p99 ≤ 20 ms; 10k sockets ≤ 1.5 GB,
push p99 ≤ 50 ms while they are open).

One real daphne process with the Redis channel layer and a file SQLite database. Pushes come from
a separate process (`send_to_user`, as a Celery task would call it) through Redis to a client
socket; each push carries its send time (CLOCK_MONOTONIC is shared by all processes on a host).
Idle sockets are opened from another process (asyncio + websockets, in batches). Everything is
bounded by --budget seconds and every process is stopped at the end.

    .venv/bin/python bench/realtime.py [--sockets 10000] [--pushes 1000] [--budget 900]
                                       [--settle 25] [--no-baseline] [--no-write]

Two servers in one run: the baseline (plain daphne with its defaults, Python's default garbage
collector) and the web process as deployed (`python -m diymod.web`: keep-alive cadence and
collector tuning from settings). The idle sockets behave like client B: each sends a `ping`
message every 30 s (CONTRACT section 6). For the deployed server the run also measures how long
a dead socket (handshake done, then silent: no pong to any ping) stays open.

Needs Redis (DIYMOD_BENCH_REDIS_URL, default redis://127.0.0.1:6379/14).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import concurrent.futures
import contextlib
import json
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import median, percentile, rss_mb, section_write  # noqa: E402
from tests.support.daphne_servers import (  # noqa: E402
    BIN,
    daphne_running,
    manage_run,
    process_stop,
    server_env,
)

REDIS_URL = os.environ.get("DIYMOD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
ORIGIN = "https://www.reddit.com"
PUSH_INTERVAL_SECONDS = 0.005  # paced: this measures latency, not throughput
# With idle sockets open the pushes are spread over 50 s, longer than the keep-alive cycles
# (daphne's 20 s default, 45 s deployed, the clients' 30 s), so their pauses are in the sample.
LOADED_INTERVAL_SECONDS = 0.05
WARMUP_PUSHES = 10
CONNECT_BATCH = 250
CLIENT_PING_SECONDS = 30.0  # client B's heartbeat


def nofile_raise(wanted: int) -> int:
    """Raise the open-files limit (inherited by the server and client processes)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def daphne_pid(port: int) -> int:
    """The pid of the daphne listening on `port` (the context manager keeps the Popen)."""
    output = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True)
    marker = "pid="
    text = output.stdout
    return int(text[text.index(marker) + len(marker) :].split(",", 1)[0])


# --- roles run in their own processes -----------------------------------------------------------


def role_pusher(user_pk: int, count: int, interval: float) -> None:
    """Push `count` notices to one user from this (non-server) process, paced."""
    import django

    django.setup()
    from diymod.realtime import Notice, send_to_user

    failures = 0
    for sequence in range(count):
        stamp = json.dumps({"seq": sequence, "sent": time.monotonic()})
        failures += not send_to_user(user_pk, Notice(message=stamp))
        time.sleep(interval)
    print(json.dumps({"failures": failures}), flush=True)


async def idle_socket_open(uri: str) -> Any:
    from websockets.asyncio.client import connect

    return await connect(
        uri, origin=ORIGIN, proxy=None, compression=None, open_timeout=30, ping_interval=None
    )


async def role_clients(port: int, count: int, prefix: str) -> None:
    """Open `count` idle sockets (user `<prefix><i>` each), report progress, hold them until
    stdin closes."""
    sockets: list[Any] = []
    failures = 0
    reasons: dict[str, int] = {}
    for start in range(0, count, CONNECT_BATCH):
        batch = [
            idle_socket_open(f"ws://127.0.0.1:{port}/ws/{prefix}{index}")
            for index in range(start, min(count, start + CONNECT_BATCH))
        ]
        for outcome in await asyncio.gather(*batch, return_exceptions=True):
            if isinstance(outcome, BaseException):
                failures += 1
                reason = f"{type(outcome).__name__}: {outcome}"[:120]
                reasons[reason] = reasons.get(reason, 0) + 1
            else:
                sockets.append(outcome)
        print(json.dumps({"open": len(sockets), "failures": failures}), flush=True)
    print(json.dumps({"ready": len(sockets), "failures": failures}), flush=True)
    for reason, times in sorted(reasons.items(), key=lambda item: -item[1])[:5]:
        print(f"{times} x {reason}", file=sys.stderr, flush=True)
    heartbeat = asyncio.create_task(heartbeats_send(sockets))
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    heartbeat.cancel()
    for client in sockets:
        client.transport.abort()


async def heartbeats_send(sockets: list[Any]) -> None:
    """Client B's heartbeat: each socket sends `ping` every 30 s, phases spread evenly."""
    if not sockets:
        return
    gap = CLIENT_PING_SECONDS / len(sockets)
    while True:
        for client in sockets:
            with contextlib.suppress(Exception):
                await client.send('{"type": "ping"}')
            await asyncio.sleep(gap)


# --- the measurement ---------------------------------------------------------------------------


async def pushes_measure(
    uri: str, env: dict[str, str], user_pk: int, count: int, interval: float
) -> list[float]:
    """Latencies (ms) of `count` pushes from a separate process to one socket at `uri`."""
    client = await idle_socket_open(uri)
    await client.send(json.dumps({"type": "ping"}))
    await asyncio.wait_for(client.recv(), 10)  # after the pong the socket is in its group
    pusher = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--role",
        "pusher",
        "--user-pk",
        str(user_pk),
        "--pushes",
        str(count),
        "--interval",
        str(interval),
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    latencies: list[float] = []
    try:
        while len(latencies) < count:
            message = json.loads(await asyncio.wait_for(client.recv(), 30))
            if message.get("type") != "notice":
                continue
            sent = json.loads(message["message"])["sent"]
            latencies.append((time.monotonic() - sent) * 1000)
        await asyncio.wait_for(pusher.wait(), 30)
    finally:
        if pusher.returncode is None:
            pusher.kill()
        await client.close()
    return latencies[WARMUP_PUSHES:]


def clients_start(port: int, count: int, prefix: str, env: dict[str, str]) -> subprocess.Popen:
    command = [sys.executable, __file__, "--role", "clients", "--port", str(port)]
    command += ["--sockets", str(count), "--prefix", prefix]
    return subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def clients_wait(clients: subprocess.Popen, deadline: float) -> dict[str, int]:
    """Progress lines until `ready` (or the deadline: then what was open so far)."""
    assert clients.stdout is not None
    os.set_blocking(clients.stdout.fileno(), False)
    latest: dict[str, int] = {"open": 0, "failures": 0}
    buffer = b""
    while time.monotonic() < deadline and clients.poll() is None:
        chunk = clients.stdout.read() or b""
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            latest = json.loads(line)
            if "ready" in latest:
                return {"open": latest["ready"], "failures": latest["failures"], "done": 1}
        time.sleep(0.2)
    return {**latest, "done": 0}


def users_create(env: dict[str, str], user_pk: int, user_id: str, prefix: str, count: int) -> None:
    script = (
        "from filters.models import User\n"
        f"User.objects.create(id={user_pk}, user_id={user_id!r})\n"
        f"User.objects.bulk_create([User(user_id=f'{prefix}{{i}}') for i in range({count})],"
        " batch_size=2000)\n"
    )
    manage_run("shell", "-c", script, env=env, timeout=300)


def stats_line(label: str, values: list[float], target: float) -> str:
    if not values:
        return f"| {label} | – | – | – | – | no pushes measured |"
    p50, p99 = median(values), percentile(values, 0.99)
    verdict = "met" if p99 <= target else "MISSED"
    slow = sum(value > target for value in values)
    return (
        f"| {label} | {len(values)} | {p50:.2f} | {p99:.2f} | {max(values):.0f} | "
        f"{slow} | p99 ≤ {target:.0f} ms: {verdict} |"
    )


@dataclass
class Variant:
    """One server configuration to measure: the baseline or the web process as deployed."""

    label: str
    launcher: tuple[str, ...] | None = None  # None: `python -m diymod.web`, as deployed
    env: dict[str, str] = field(default_factory=dict)
    alone: list[float] = field(default_factory=list)
    under_load: list[float] = field(default_factory=list)
    opened: dict[str, int] = field(default_factory=lambda: {"open": 0, "failures": 0})
    rss: dict[str, float] = field(default_factory=dict)
    dead_linger: float | None = None  # seconds a silent socket stayed open


# Plain daphne with its own defaults (20 s pings) and Python's default collector: the baseline.
BASELINE = Variant(
    "baseline: plain daphne, default collector",
    launcher=(
        str(BIN / "daphne"),
        "--websocket-max-message-size",
        "16777216",
        "--websocket-max-frame-size",
        "16777216",
    ),
    env={"DIYMOD_GC_FREEZE": "0", "DIYMOD_GC_THRESHOLDS": "700,10,10"},
)


def dead_socket_linger(port: int, user_id: str, limit: float) -> float | None:
    """Seconds from a finished handshake to the server closing a socket that then says nothing
    and answers no ping (a browser that vanished without closing); None past `limit`."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /ws/{user_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {ORIGIN}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request.encode())
        started = time.monotonic()
        connection.settimeout(limit)
        try:
            while connection.recv(65536):  # frames are read, never answered
                pass
        except TimeoutError:
            return None
        except ConnectionResetError:
            pass  # closed by the server with a reset rather than a FIN: closed all the same
        return time.monotonic() - started


def variant_measure(
    variant: Variant, *, args: argparse.Namespace, env: dict[str, str], work: Path, ids: Any
) -> None:
    user_pk, user_id, prefix = ids
    with daphne_running(
        env={**env, **variant.env},
        log_path=work / f"daphne-{secrets.token_hex(2)}.log",
        launcher=variant.launcher,
    ) as port:
        pid = daphne_pid(port)
        uri = f"ws://127.0.0.1:{port}/ws/{user_id}"
        variant.alone = asyncio.run(
            pushes_measure(uri, env, user_pk, args.pushes, PUSH_INTERVAL_SECONDS)
        )
        variant.rss["alone"] = rss_mb(pid)
        clients = clients_start(port, args.sockets, prefix, env)
        try:
            variant.opened = clients_wait(clients, time.monotonic() + args.budget / 4)
            # Let the opening burst settle (promotions of the new objects to the old GC
            # generation): a server's steady state.
            time.sleep(args.settle)
            variant.rss["loaded"] = rss_mb(pid)
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                dead = pool.submit(dead_socket_linger, port, f"{prefix}dead", 200.0)
                if clients.poll() is None:
                    variant.under_load = asyncio.run(
                        pushes_measure(uri, env, user_pk, args.pushes, LOADED_INTERVAL_SECONDS)
                    )
                variant.rss["after"] = rss_mb(pid)
                variant.dead_linger = dead.result()
        finally:
            if clients.stdin:
                clients.stdin.close()
            process_stop(clients)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--role", choices=["bench", "pusher", "clients"], default="bench")
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--pushes", type=int, default=1000)
    parser.add_argument("--budget", type=float, default=900.0, help="seconds, whole run")
    parser.add_argument("--user-pk", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--interval", type=float, default=PUSH_INTERVAL_SECONDS)
    parser.add_argument("--prefix", default="bench-idle-")
    parser.add_argument("--settle", type=float, default=25.0, help="seconds before measuring")
    parser.add_argument("--no-baseline", action="store_true", help="the deployed server only")
    parser.add_argument("--keep", default="", help="a directory for the database and logs")
    parser.add_argument("--no-write", action="store_true", help="print, do not write the report")
    args = parser.parse_args()
    if args.role == "pusher":
        role_pusher(args.user_pk, args.pushes, args.interval)
    elif args.role == "clients":
        asyncio.run(role_clients(args.port, args.sockets, args.prefix))
    else:
        bench(args)


def bench(args: argparse.Namespace) -> None:
    import redis

    started = time.monotonic()
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        sys.exit(f"Redis is not reachable at {REDIS_URL}")
    limit = nofile_raise(args.sockets * 2 + 1024)
    variants = [] if args.no_baseline else [BASELINE]
    variants.append(Variant("as deployed: python -m diymod.web"))
    with tempfile.TemporaryDirectory(prefix="diymod-bench-realtime-") as directory:
        work = Path(args.keep or directory)
        work.mkdir(parents=True, exist_ok=True)
        env = server_env(database_path=work / "db.sqlite3", redis_url=REDIS_URL)
        env["DIYMOD_LOG_LEVEL"] = "warning"
        manage_run("migrate", "--noinput", env=env)
        # Random ids: other runs and test suites may share this Redis database.
        user_pk = secrets.randbelow(10**9) + 10**6
        user_id, prefix = f"bench-{secrets.token_hex(4)}", f"idle-{secrets.token_hex(3)}-"
        users_create(env, user_pk, user_id, prefix, args.sockets)
        for variant in variants:
            if time.monotonic() - started > args.budget * 0.6:
                break  # not enough time left for another full variant
            ids = (user_pk, user_id, prefix)
            variant_measure(variant, args=args, env=env, work=work, ids=ids)
    body = report_body(args, limit, variants)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    body += f"\n\nLoad average at the end (1, 5, 15 min; 2 cores, shared): {load}."
    body += f"\n\nWhole run: {time.monotonic() - started:.0f} s."
    print(body)
    if not args.no_write:
        section_write("realtime", "Realtime: push latency and idle sockets", body)


def report_body(args: argparse.Namespace, limit: int, variants: list[Variant]) -> str:
    lines = [
        "One web process, Redis channel layer (channels-redis), file SQLite. Pushes:",
        "`send_to_user(pk, Notice(...))` from a separate Python process (as a Celery task calls",
        f"it), one every {PUSH_INTERVAL_SECONDS * 1000:.0f} ms (every "
        f"{LOADED_INTERVAL_SECONDS * 1000:.0f} ms with idle sockets open, so the sample spans",
        "every keep-alive cycle), to one socket of the user; latency = receipt in the client",
        "minus send time (one monotonic clock on one host); the first "
        f"{WARMUP_PUSHES} pushes (warm-up) left out.",
        f"Idle sockets are opened from another process in batches of {CONNECT_BATCH} (one user",
        f"each; RLIMIT_NOFILE {limit:,}) and each sends client B's `ping` every "
        f"{CLIENT_PING_SECONDS:.0f} s; the pushes start {args.settle:.0f} s after they are all",
        "open. `slow` counts pushes over target. Baseline: plain daphne (20 s keep-alive pings",
        "to every socket, swept every 2 s) with Python's default collector. As deployed:",
        "`python -m diymod.web` (pings only after 45 s of silence, so sockets that ping",
        "every 30 s are never pinged; start-up objects frozen; collector thresholds",
        "50000/20/100, DIYMOD_GC_THRESHOLDS).",
        "",
        "| server, pushes | n | p50 ms | p99 ms | max ms | slow | |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for variant in variants:
        if not variant.alone:
            continue
        lines.append(stats_line(f"{variant.label}, no other sockets", variant.alone, 20))
        sockets = f"{variant.opened['open']:,} idle sockets open"
        lines.append(stats_line(f"{variant.label}, {sockets}", variant.under_load, 50))
    lines.append("")
    for variant in variants:
        if not variant.alone:
            continue
        opened = variant.opened["open"]
        rss = variant.rss
        per_socket_kb = (rss["loaded"] - rss["alone"]) * 1024 / max(1, opened)
        if opened < 10_000:
            verdict = f"not shown (only {opened:,} sockets open)"
        else:
            verdict = "met" if rss["loaded"] <= 1536 else "MISSED"
        lines.append(
            f"- {variant.label}: {opened:,} of {args.sockets:,} sockets opened"
            f"{'' if variant.opened.get('done') else ' (stopped at the time budget)'}, "
            f"{variant.opened['failures']} failed; server RSS {rss['alone']:.0f} MB with one "
            f"socket, {rss['loaded']:.0f} MB with all open ({per_socket_kb:.0f} KB per socket), "
            f"{rss['after']:.0f} MB after the pushes. 10,000 sockets ≤ 1.5 GB: {verdict}."
            f" {linger_line(variant.dead_linger)}"
        )
    return "\n".join(lines)


def linger_line(seconds: float | None) -> str:
    if seconds is None:
        return "A dead socket (silent after its handshake) was still open after 200 s."
    return f"A dead socket (silent after its handshake) was closed after {seconds:.0f} s."


if __name__ == "__main__":
    main()
