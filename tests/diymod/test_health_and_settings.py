from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_healthz_is_200_when_everything_answers(api_client):
    body = api_client.get("/healthz").json()
    assert body["status"] == "success"
    assert set(body["checks"]) >= {"database", "cache", "channel_layer"}


def test_healthz_is_503_naming_the_database_when_it_is_unreachable(api_client, monkeypatch):
    from django.db import connection

    def broken_cursor(*args, **kwargs):
        raise connection.OperationalError("database is down")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = api_client.get("/healthz")
    assert response.status_code == 503
    assert "database" in response.json()["message"]


def test_healthz_is_503_when_redis_is_unreachable(api_client, settings):
    # A real Redis cache pointed at a closed port: nothing is faked.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    from django.core.cache import caches

    caches._settings = None  # rebuilt from the overridden setting
    try:
        response = api_client.get("/healthz")
    finally:
        caches._settings = None
    assert response.status_code == 503
    assert response.json()["checks"]["cache"].startswith("error")
    assert response.json()["checks"]["database"] == "ok"


def test_healthz_checks_the_broker_when_one_is_configured(api_client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from diymod.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = api_client.get("/healthz")
    finally:
        app.conf.broker_url = previous
    assert response.status_code == 503
    assert "broker" in response.json()["message"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DIYMOD_AUTH", "sometimes"),
        ("DATABASE_URL", "mysql://nowhere/db"),
        ("REDIS_URL", "http://localhost"),
        ("DIYMOD_FEED_MAX_BYTES", "lots"),
        ("DIYMOD_FEED_DEADLINE_SECONDS", "-1"),
        ("DJANGO_DEBUG", "maybe"),
        ("DIYMOD_GC_THRESHOLDS", "700,10"),
        ("DIYMOD_GC_THRESHOLDS", "700,ten,10"),
        ("DIYMOD_WS_PING_INTERVAL_SECONDS", "0"),
    ],
)
def test_bad_settings_fail_loudly_at_start_up_naming_the_variable(variable, value):
    env = {**os.environ, variable: value, "DJANGO_SETTINGS_MODULE": "diymod.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert variable in result.stderr


def test_embedded_default_needs_no_environment():
    from django.conf import settings

    if os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL"):
        pytest.skip("this run is the scaled-out one")
    assert settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("InMemoryChannelLayer")
    assert settings.CELERY_TASK_ALWAYS_EAGER
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")


@pytest.mark.parametrize("path", ["/docs", "/docs/", "/redoc", "/api/schema"])
def test_api_docs_are_served(client, path):
    assert client.get(path).status_code == 200


def test_schema_documents_every_endpoint_with_bodies(client):
    import yaml  # drf-spectacular depends on PyYAML

    schema = yaml.safe_load(client.get("/api/schema").content)
    paths = schema["paths"]
    for expected in ("/ping", "/filters", "/healthz", "/auth/register"):
        assert any(p.rstrip("/") == expected for p in paths), expected
    filters_path = next(p for p in paths if p.rstrip("/") == "/filters")
    assert "requestBody" in paths[filters_path]["post"]
    assert "200" in paths[filters_path]["post"]["responses"]


def test_check_deploy_is_clean_with_production_settings():
    env = {
        **os.environ,
        "DIYMOD_PRODUCTION": "1",
        "DJANGO_SECRET_KEY": "x" * 64 + "-production-secret-key-for-the-check",
        "DJANGO_ALLOWED_HOSTS": "diymod.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
