"""Real server processes for integration tests and benchmarks: daphne, manage.py commands.

Every process started here is bounded in time and always stopped (terminate, then kill).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
# The web process as the Makefile and Procfile start it: daphne with the deployed options.
WEB_COMMAND = (sys.executable, "-m", "diymod.web")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(*, database_path: Path, redis_url: str | None, **extra: str) -> dict[str, str]:
    """A server's environment: a file database the processes share, the Redis layer when
    `redis_url` is given (else the embedded default: in-memory layer, one process)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DIYMOD_")}
    env.pop("REDIS_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="diymod.settings",
        DATABASE_URL=f"sqlite:///{database_path}",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def manage_run(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`manage.py <args>` in its own process; raises with its output when it fails."""
    completed = subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{completed.stderr[-3000:]}")
    return completed


def port_wait(port: int, *, timeout: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise TimeoutError(f"server on port {port} did not listen within {timeout} s")


def process_stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextlib.contextmanager
def daphne_running(
    *,
    env: dict[str, str],
    log_path: Path,
    port: int | None = None,
    startup_timeout: float = 30,
    extra_args: tuple[str, ...] = (),
    launcher: tuple[str, ...] | None = None,
) -> Iterator[int]:
    """The web process as deployed, on a free port; yields the port. `launcher` replaces it
    with another command line (e.g. plain daphne, for a baseline); it then gets no options but
    `-b`, `-p`, `extra_args` and the application."""
    port = port or free_port()
    command = [*(launcher or WEB_COMMAND), "-b", "127.0.0.1", "-p", str(port), *extra_args]
    if launcher:
        command.append("diymod.asgi:application")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            port_wait(port, timeout=startup_timeout, process=process)
            yield port
        finally:
            process_stop(process)
