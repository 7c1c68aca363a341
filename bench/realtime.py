"""Realtime pushes and idle sockets (DESIGN.md targets: push p99 ≤ 20 ms; 10k sockets ≤ 1.5 GB,
push p99 ≤ 50 ms while they are open).

One real daphne process with the Redis channel layer and a file SQLite database. Pushes come from
a separate process (`send_to_user`, as a Celery task would call it) through Redis to a client
socket; each push carries its send time (CLOCK_MONOTONIC is shared by all processes on a host).
Idle sockets are opened from another process (asyncio + websockets, in batches). Everything is
bounded by --budget seconds and every process is stopped at the end.

    .venv/bin/python bench/realtime.py [--sockets 10000] [--pushes 1000] [--budget 400]
                                       [--settle 25] [--no-diagnostic] [--no-write]

Needs Redis (DIYMOD_BENCH_REDIS_URL, default redis://127.0.0.1:6379/14).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import median, percentile, section_write  # noqa: E402
from tests.support.daphne_servers import (  # noqa: E402
    daphne_running,
    manage_run,
    process_stop,
    server_env,
)

REDIS_URL = os.environ.get("DIYMOD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
ORIGIN = "https://www.reddit.com"
PUSH_INTERVAL_SECONDS = 0.005  # paced: this measures latency, not throughput
# With idle sockets open the pushes are spread over 25 s, longer than daphne's 20 s keep-alive
# cycle, so the periodic pauses of a loaded server are inside the sample.
LOADED_INTERVAL_SECONDS = 0.025
WARMUP_PUSHES = 10
CONNECT_BATCH = 250


def nofile_raise(wanted: int) -> int:
    """Raise the open-files limit (inherited by the server and client processes)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for client in sockets:
        client.transport.abort()


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
    """One server configuration to measure; the diagnostic one explains the default's stalls."""

    label: str
    daphne_args: tuple[str, ...] = ()
    server_gc: bool = True
    alone: list[float] = field(default_factory=list)
    under_load: list[float] = field(default_factory=list)
    opened: dict[str, int] = field(default_factory=lambda: {"open": 0, "failures": 0})
    rss: dict[str, float] = field(default_factory=dict)


def variant_measure(
    variant: Variant, *, args: argparse.Namespace, env: dict[str, str], work: Path, ids: Any
) -> None:
    user_pk, user_id, prefix = ids
    launcher = None if variant.server_gc else GC_OFF_LAUNCHER
    with daphne_running(
        env=env,
        log_path=work / f"daphne-{secrets.token_hex(2)}.log",
        extra_args=variant.daphne_args,
        launcher=launcher,
    ) as port:
        pid = daphne_pid(port)
        uri = f"ws://127.0.0.1:{port}/ws/{user_id}"
        variant.alone = asyncio.run(
            pushes_measure(uri, env, user_pk, args.pushes, PUSH_INTERVAL_SECONDS)
        )
        variant.rss["alone"] = rss_mb(pid)
        clients = clients_start(port, args.sockets, prefix, env)
        try:
            variant.opened = clients_wait(clients, time.monotonic() + args.budget / 3)
            # Let the opening burst settle (one keep-alive ping round of daphne, promotions of
            # the new objects to the old GC generation): a server's steady state.
            time.sleep(args.settle)
            variant.rss["loaded"] = rss_mb(pid)
            if clients.poll() is None:
                variant.under_load = asyncio.run(
                    pushes_measure(uri, env, user_pk, args.pushes, LOADED_INTERVAL_SECONDS)
                )
            variant.rss["after"] = rss_mb(pid)
        finally:
            if clients.stdin:
                clients.stdin.close()
            process_stop(clients)


# daphne with the server's garbage collector off: a diagnostic, never a deployment.
GC_OFF_LAUNCHER = (
    sys.executable,
    "-c",
    "import gc, sys; gc.disable(); from daphne.cli import CommandLineInterface; "
    "sys.exit(CommandLineInterface.entrypoint())",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--role", choices=["bench", "pusher", "clients"], default="bench")
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--pushes", type=int, default=1000)
    parser.add_argument("--budget", type=float, default=400.0, help="seconds, whole run")
    parser.add_argument("--user-pk", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--interval", type=float, default=PUSH_INTERVAL_SECONDS)
    parser.add_argument("--prefix", default="bench-idle-")
    parser.add_argument("--settle", type=float, default=25.0, help="seconds before measuring")
    parser.add_argument("--no-diagnostic", action="store_true", help="daphne defaults only")
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
    variants = [Variant("daphne defaults (as deployed)")]
    if not args.no_diagnostic:
        variants.append(
            Variant(
                "diagnostic: daphne --ping-interval 600, server GC off",
                daphne_args=("--ping-interval", "600"),
                server_gc=False,
            )
        )
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
        "One daphne process (WebSocket limits as in the Makefile), Redis channel layer",
        "(channels-redis), file SQLite. Pushes: `send_to_user(pk, Notice(...))` from a separate",
        "Python process (as a Celery task calls it), one every "
        f"{PUSH_INTERVAL_SECONDS * 1000:.0f} ms (every {LOADED_INTERVAL_SECONDS * 1000:.0f} ms "
        "with idle sockets open, to span daphne's 20 s keep-alive cycle), to one socket of the "
        "user; latency = receipt in",
        "the client minus send time (one monotonic clock on one host); the first "
        f"{WARMUP_PUSHES} pushes (warm-up) left out. Idle sockets are opened from another process",
        f"in batches of {CONNECT_BATCH} (one user each; RLIMIT_NOFILE {limit:,}); the pushes",
        f"start {args.settle:.0f} s after they are all open. `slow` counts pushes over target.",
        "The diagnostic server (never a deployment) turns off the two process-wide pauses that",
        "grow with the number of sockets: daphne's keep-alive ping sweep over every socket and",
        "Python's full garbage collection over every socket's objects; the realtime path",
        "(Redis, group send, consumer) is the same.",
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
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
