from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from filters.models import User
from imaging import jobs
from imaging.jobs import ImageJobRetryPolicy
from tests.support.image_server import ImageServer

PUBLIC_URL = "https://diymod.example"


@pytest.fixture(scope="session")
def image_server() -> Iterator[ImageServer]:
    with ImageServer() as running:
        yield running


@pytest.fixture
def imaging_settings(settings, tmp_path: Path, image_server: ImageServer):
    """Results under a temporary MEDIA_ROOT; the local image server allowed explicitly."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DIYMOD_IMAGE_ALLOWED_HOSTS = [image_server.host_port]
    settings.DIYMOD_IMAGE_ALLOW_PRIVATE = True
    settings.DIYMOD_IMAGE_FETCH_TIMEOUT_SECONDS = 3.0
    settings.DIYMOD_PUBLIC_URL = PUBLIC_URL
    return settings


@pytest.fixture
def alice() -> User:
    return User.objects.create_user("alice")


@pytest.fixture
def bob() -> User:
    return User.objects.create_user("bob")


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> ImageJobRetryPolicy:
    """The one retry policy with its waits cut a hundredfold (the same attempts and errors)."""
    policy = jobs.IMAGE_JOB_RETRIES
    quick = dataclasses.replace(
        policy, transient_delays=tuple(delay / 100 for delay in policy.transient_delays)
    )
    monkeypatch.setattr(jobs, "IMAGE_JOB_RETRIES", quick)
    return quick
