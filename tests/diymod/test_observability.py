from __future__ import annotations

import json
import logging

import pytest
from django.conf import settings as django_settings

from diymod.observability import ContextFilter

pytestmark = pytest.mark.django_db


def test_metrics_are_served_in_prometheus_format(client):
    client.get("/ping")
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/plain")
    for name in (
        "diymod_http_requests_total",
        "diymod_feed_seconds",
        "diymod_model_calls_total",
        "diymod_feed_cache_hits_total",
        "diymod_open_sockets",
        "diymod_image_jobs",
    ):
        assert name in text
    assert 'route="^ping/?$"' in text


def test_every_response_carries_a_request_id_and_keeps_the_callers(client):
    assert len(client.get("/ping")["X-Request-ID"]) == 32
    assert client.get("/ping", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"


def test_request_lines_are_json_with_request_id_user_and_duration(api_client, capsys):
    from logging.config import dictConfig

    dictConfig(django_settings.LOGGING)  # the configured handler writes to this test's stderr
    api_client.get("/filters", {"user_id": "alice"}, HTTP_X_REQUEST_ID="req-42")
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    (line,) = [item for item in lines if item.get("event") == "request"]
    assert line["request_id"] == "req-42"
    assert line["status"] == 200 and line["path"] == "/filters"
    assert isinstance(line["user_pk"], int)
    assert line["ms"] >= 0


def test_context_filter_fills_defaults_outside_requests():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    ContextFilter().filter(record)
    assert (record.request_id, record.user_pk) == ("-", None)


def open_sockets_reported() -> float:
    """`diymod_open_sockets` as /metrics reports it."""
    from django.test import Client

    text = Client().get("/metrics").content.decode()
    (line,) = [line for line in text.splitlines() if line.startswith("diymod_open_sockets ")]
    return float(line.split()[1])


@pytest.mark.django_db(transaction=True)
async def test_open_sockets_counts_sockets_opened_and_closed_by_any_path(settings, monkeypatch):
    from asgiref.sync import sync_to_async

    from feed.consumers.user_socket import UserSocketConsumer
    from tests.support.realtime_fixtures import in_memory_layer_use, socket_open, socket_refused

    in_memory_layer_use(settings)
    reported = sync_to_async(open_sockets_reported)
    before = await reported()

    sockets = [await socket_open(f"/ws/user{number}") for number in range(3)]
    assert await reported() == before + 3
    assert await socket_refused("/ws/alice", headers=[(b"origin", b"https://evil.com")])
    assert await reported() == before + 3  # a refused handshake never counted

    await sockets.pop().disconnect()
    assert await reported() == before + 2

    async def ping_crashes(self, content):
        raise RuntimeError("handler exploded")

    monkeypatch.setattr(UserSocketConsumer, "on_ping", ping_crashes)
    crashing = sockets.pop()
    await crashing.send_json_to({"type": "ping"})
    with pytest.raises(RuntimeError, match="handler exploded"):
        await crashing.receive_output(timeout=5)
    assert await reported() == before + 1  # the consumer died: its socket is gone too

    await sockets.pop().disconnect()
    assert await reported() == before


@pytest.mark.django_db(transaction=True)
async def test_a_crashed_socket_gives_its_per_user_slot_back(settings, monkeypatch):
    from feed.consumers.user_socket import UserSocketConsumer
    from tests.support.realtime_fixtures import in_memory_layer_use, socket_open

    in_memory_layer_use(settings)
    settings.DIYMOD_MAX_SOCKETS_PER_USER = 1

    async def ping_crashes(self, content):
        raise RuntimeError("handler exploded")

    monkeypatch.setattr(UserSocketConsumer, "on_ping", ping_crashes)
    crashing = await socket_open("/ws/carol")
    await crashing.send_json_to({"type": "ping"})
    with pytest.raises(RuntimeError, match="handler exploded"):
        await crashing.receive_output(timeout=5)
    monkeypatch.undo()

    again = await socket_open("/ws/carol")  # refused (4429) if the crash kept the slot
    await again.disconnect()
