"""pytest fixtures around the local OpenAI-compatible server (tests/support/openai_server.py).

Registered for the whole suite from tests/conftest.py (`pytest_plugins`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from diymod.response_formats import response_formats_forget
from tests.support.openai_server import OpenAIServer


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A fresh server per test: `.base_url`, `.calls`, `.respond_with()`, `.fail_with()`,
    `.delay`."""
    server = OpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def openai_settings(openai_server: OpenAIServer, settings: Any) -> OpenAIServer:
    """Point the project's OpenAI settings at the local server (needs pytest-django).

    Short timeouts keep fault tests quick; tests that need others override `settings` again.
    What the client learnt about earlier servers' response formats is forgotten: a new server
    can get a port an earlier one had.
    """
    response_formats_forget()
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_BASE_URL = openai_server.base_url
    settings.DIYMOD_OPENAI_TIMEOUT_SECONDS = 2.0
    settings.DIYMOD_OPENAI_MAX_RETRIES = 1
    return openai_server
