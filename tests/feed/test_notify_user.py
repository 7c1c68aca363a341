"""`manage.py notify_user`: in-process, and across processes through Redis and two daphnes."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command

from filters.services import user_get_or_create
from tests.conftest import REDIS_TEST_URL, redis_available
from tests.support.realtime_fixtures import in_memory_layer_use, socket_open


@pytest.fixture
def fresh_layer(settings: Any) -> None:
    in_memory_layer_use(settings)


@pytest.mark.django_db
def test_an_unknown_user_is_a_command_error(fresh_layer: None) -> None:
    with pytest.raises(CommandError, match="No user with user_id 'nobody'"):
        call_command("notify_user", "nobody", "hello")


@pytest.mark.django_db
def test_an_unreachable_channel_layer_is_a_command_error(settings: Any) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    user_get_or_create(user_id="alice")
    with pytest.raises(CommandError, match="push failed"):
        call_command("notify_user", "alice", "hello")


@pytest.mark.django_db(transaction=True)
async def test_the_notice_reaches_every_socket_of_the_user_and_nobody_else(
    fresh_layer: None,
) -> None:
    first, second = await socket_open("/ws/alice"), await socket_open("/ws/alice/")
    stranger = await socket_open("/ws/bob")
    out = StringIO()
    await sync_to_async(call_command, thread_sensitive=False)(
        "notify_user", "alice", "delivery check", stdout=out
    )
    assert "Sent to the sockets of 'alice'" in out.getvalue()
    for socket in (first, second):
        notice = await socket.receive_json_from(timeout=5)
        assert notice["type"] == "notice"
        assert notice["message"] == notice["data"]["message"] == "delivery check"
    assert await stranger.receive_nothing(timeout=0.3)
    for socket in (first, second, stranger):
        await socket.disconnect()


# --- across processes: two daphne servers, a third process pushes, Redis in between -------------


async def socket_ready(uri: str) -> Any:
    """An open client socket whose group membership is certain (it answered a ping)."""
    from websockets.asyncio.client import connect

    client = await connect(uri, origin="https://www.reddit.com", proxy=None, open_timeout=10)
    await client.send(json.dumps({"type": "ping"}))
    assert json.loads(await asyncio.wait_for(client.recv(), 10))["type"] == "pong"
    return client


async def notice_wait(client: Any, text: str) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(client.recv(), 15))
        if message.get("type") == "notice" and message.get("message") == text:
            return message


async def manage_async(*args: str, env: dict[str, str]) -> str:
    from tests.support.daphne_servers import REPO

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(REPO / "manage.py"),
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0, stderr.decode()[-2000:]
    return stdout.decode()


@pytest.mark.integration
@pytest.mark.timeout(180)
async def test_a_notice_from_a_third_process_reaches_sockets_on_two_daphne_processes(
    tmp_path: Path,
) -> None:
    if not redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_TEST_URL}")
    from tests.support.daphne_servers import daphne_running, manage_run, server_env

    env = server_env(database_path=tmp_path / "db.sqlite3", redis_url=REDIS_TEST_URL)
    await asyncio.to_thread(manage_run, "migrate", "--noinput", env=env)
    # A random primary key: other suites share Redis DB 15, and group names come from the pk.
    user_id, user_pk = f"it user/{secrets.token_hex(4)}", secrets.randbelow(10**9) + 10**6
    create = (
        f"from filters.models import User; User.objects.create(id={user_pk}, user_id={user_id!r})"
    )
    await asyncio.to_thread(manage_run, "shell", "-c", create, env=env)
    text = f"hello across processes {secrets.token_hex(4)}"
    with (
        daphne_running(env=env, log_path=tmp_path / "daphne-a.log") as port_a,
        daphne_running(env=env, log_path=tmp_path / "daphne-b.log") as port_b,
    ):
        path = "/ws/" + quote(user_id, safe="")
        clients = [await socket_ready(f"ws://127.0.0.1:{port}{path}") for port in (port_a, port_b)]
        try:
            output = await manage_async("notify_user", user_id, text, env=env)
            assert f"user pk {user_pk}" in output
            for client in clients:
                notice = await notice_wait(client, text)
                assert notice["data"]["message"] == text and notice["timestamp"]
        finally:
            for client in clients:
                await client.close()
