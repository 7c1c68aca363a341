"""Fast by default (STYLE.md): MD5 hasher, locmem cache and in-memory layer unless a test says
otherwise. Shared fixtures live in tests/support and are registered here."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.support.openai_fixtures"]

REDIS_TEST_URL = os.environ.get("DIYMOD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def fast_password_hasher(settings: pytest.FixtureRequest) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    from django.core.cache import cache

    try:
        cache.clear()
    except Exception:  # an unreachable Redis is some tests' very subject
        pass


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


def redis_available(url: str = REDIS_TEST_URL) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False
