"""Fixtures of the feed tests that send pictures, used by name: a local image server and the
settings that let the server fetch from it (in-memory channel layer, a temporary MEDIA_ROOT);
after each test its background image jobs are waited for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.image_jobs import embedded_pool_drain
from tests.support.image_server import ImageServer
from tests.support.realtime_fixtures import in_memory_layer_use


@pytest.fixture(scope="module")
def image_server() -> Iterator[ImageServer]:
    with ImageServer() as running:
        yield running


@pytest.fixture
def image_settings(settings: Any, tmp_path: Path, image_server: ImageServer) -> Iterator[None]:
    in_memory_layer_use(settings)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DIYMOD_IMAGE_ALLOWED_HOSTS = [image_server.host_port]
    settings.DIYMOD_IMAGE_ALLOW_PRIVATE = True
    yield
    # The jobs a test queued run on in background threads: they end before its data is flushed
    # (a job still writing made the flush fail and left its rows to the next test).
    embedded_pool_drain()
