"""The HTTP middleware chain as the ASGI entry point builds it: one sync call per request."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler
from django.test import override_settings
from django.utils.deprecation import MiddlewareMixin

from diymod.asgi import django_application, middleware_in_one_thread

SEEN: list[tuple[str, int]] = []


class ModeRecorder(MiddlewareMixin):
    """Async-capable, like Django's own middleware: records which mode it was called in."""

    def process_request(self, request):
        SEEN.append(("process_request", threading.get_ident()))

    async def __acall__(self, request):
        SEEN.append(("async", threading.get_ident()))
        return await super().__acall__(request)


async def get(
    application, path: str, method: str = "GET", headers: Sequence[tuple[bytes, bytes]] = ()
) -> tuple[int, dict[bytes, bytes], bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(5)
    body = b""
    while True:
        message = await communicator.receive_output(5)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(5)
    return start["status"], dict(start["headers"]), body


@pytest.mark.django_db
async def test_async_capable_middleware_runs_in_sync_mode_in_one_thread():
    SEEN.clear()
    with override_settings(
        MIDDLEWARE=[f"{__name__}.ModeRecorder", "django.middleware.common.CommonMiddleware"]
    ):
        handler = middleware_in_one_thread(ASGIHandler())
    status, _headers, _body = await get(handler, "/ping")
    assert status == 200
    # Django's own async chain would call __acall__ on the event loop's thread, then hand
    # process_request to a thread.
    assert [step for step, _thread in SEEN] == ["process_request"]
    assert SEEN[0][1] != threading.get_ident()  # not on the event loop


@pytest.mark.django_db
async def test_the_deployed_chain_still_runs_every_middleware():
    status, headers, body = await get(django_application, "/ping")
    assert status == 200
    assert body
    assert headers[b"X-Frame-Options"] == b"DENY"  # the innermost middleware ran
    assert b"X-Content-Type-Options" in headers  # SecurityMiddleware, above WhiteNoise
    assert headers[b"X-Request-ID"]  # the outermost ones too (the request log)


@pytest.mark.django_db
async def test_the_deployed_chain_answers_the_extensions_cors_preflight():
    """CONTRACT section 1: a JSON POST with Authorization from a page origin is preflighted, and
    a server on a private address answers Chrome's Private Network Access preflight too."""
    status, headers, _body = await get(
        django_application,
        "/get_feed",
        method="OPTIONS",
        headers=[
            (b"origin", b"https://www.reddit.com"),
            (b"access-control-request-method", b"POST"),
            (b"access-control-request-headers", b"authorization,content-type"),
            (b"access-control-request-private-network", b"true"),
        ],
    )
    assert status == 200
    lowered = {name.lower(): value for name, value in headers.items()}
    assert lowered[b"access-control-allow-origin"] == b"https://www.reddit.com"
    allowed = lowered[b"access-control-allow-headers"]
    assert b"authorization" in allowed and b"content-type" in allowed
    assert lowered[b"access-control-allow-private-network"] == b"true"
