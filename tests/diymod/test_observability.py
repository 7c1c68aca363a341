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
