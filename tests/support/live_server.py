"""Real server processes for integration tests and benchmarks: daphne and Celery workers.

Everything is bound to 127.0.0.1, bounded in time, and stopped by the caller (use `with`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.daphne_servers import WEB_COMMAND, free_port

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def server_env(extra: dict[str, str] | None = None, *, database_url: str | None = None) -> dict:
    """The environment of a server process: the embedded default plus `extra`.

    Without a DATABASE_URL (given or inherited) each server gets its own SQLite file.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["DJANGO_SETTINGS_MODULE"] = "diymod.settings"
    env.setdefault("DIYMOD_LOG_LEVEL", "warning")
    if database_url:
        env["DATABASE_URL"] = database_url
    elif not env.get("DATABASE_URL"):
        folder = tempfile.mkdtemp(prefix="diymod-live-")
        env["DATABASE_URL"] = f"sqlite:///{folder}/db.sqlite3"
    env.update(extra or {})
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


@dataclass
class Process:
    popen: subprocess.Popen
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(sig)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def process_start(args: list[str], env: dict[str, str], name: str) -> Process:
    log = Path(tempfile.mkdtemp(prefix=f"diymod-{name}-")) / "output.log"
    handle = log.open("wb")
    popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    return Process(popen=popen, log=log)


@dataclass
class LiveServer:
    port: int
    env: dict[str, str]
    process: Process
    extra: list[Process] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self) -> None:
        for process in [*self.extra, self.process]:
            process.stop()

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def wait_until_serving(url: str, process: Process, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"server exited early:\n{process.output()[-3000:]}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.stop()
    tail = process.output()[-3000:]
    raise RuntimeError(f"server did not answer {url} within {timeout}s:\n{tail}")


def live_server_start(
    extra_env: dict[str, str] | None = None,
    *,
    database_url: str | None = None,
    port: int | None = None,
    run_migrate: bool = True,
) -> LiveServer:
    env = server_env(extra_env, database_url=database_url)
    if run_migrate:
        migrate(env)
    port = port or free_port()
    args = [*WEB_COMMAND, "-b", "127.0.0.1", "-p", str(port)]
    process = process_start(args, env, "daphne")
    wait_until_serving(f"http://127.0.0.1:{port}/ping", process)
    return LiveServer(port=port, env=env, process=process)


def celery_worker_start(env: dict[str, str], *, concurrency: int = 2, name: str = "w1") -> Process:
    args = [
        str(BIN / "celery"),
        "-A",
        "diymod",
        "worker",
        "--loglevel=info",
        f"--concurrency={concurrency}",
        f"--hostname={name}@%h",
        "--without-gossip",
        "--without-mingle",
    ]
    return process_start(args, env, f"celery-{name}")
