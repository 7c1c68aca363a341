"""The check's client: HTTP (httpx) and one WebSocket (websockets) to the server under test.

Only the public wire contract (CONTRACT sections 2, 5, 6) is spoken here, never the server's
own modules, so the check runs just as well from another machine against a remote deployment.
Every way a request can go wrong becomes a `StepFailed` whose text says what was expected and
what came back instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

# The extension's pages open the socket from Reddit (CONTRACT section 1).
EXTENSION_ORIGIN = "https://www.reddit.com"
# A feed echoed back may be large; the contract allows 8 MB feeds.
SOCKET_MAX_BYTES = 32 * 1024 * 1024
BODY_EXCERPT_CHARS = 160
HANDSHAKE_HINTS = {
    403: "the server refused the Origin or the identity (a token needed, or the wrong one?)",
    404: "no WebSocket route at /ws/: is it served by an ASGI server (daphne), and does the "
    "proxy in front forward WebSocket upgrades?",
}


class StepFailed(Exception):
    """A step did not get what it expected; the message is the operator's explanation."""

    @property
    def message(self) -> str:
        return str(self.args[0])


def step_failed(expected: str, got: str) -> StepFailed:
    return StepFailed(f"expected {expected}; got {got}")


@dataclass(frozen=True)
class SocketClosed:
    """Put in the inbox when the server closed the socket."""

    code: int | None
    reason: str


def message_fields(message: dict[str, Any]) -> dict[str, Any]:
    """A server message's fields, read from the top level and from `data` (CONTRACT section 6:
    servers put them in both places; accept either)."""
    fields = {key: value for key, value in message.items() if key != "data"}
    data = message.get("data")
    if isinstance(data, dict):
        fields.update({key: value for key, value in data.items() if key not in fields})
    return fields


def excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= BODY_EXCERPT_CHARS else text[:BODY_EXCERPT_CHARS] + "…"


def response_explain(response: httpx.Response) -> str:
    """`HTTP 503: Unhealthy: broker` — the status and the contract's error message if any."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {excerpt(response.text) or '(empty body)'}"
    message = body.get("message") or body.get("detail") if isinstance(body, dict) else None
    return f"HTTP {response.status_code}: {message or excerpt(json.dumps(body))}"


def connect_failure_name(error: BaseException) -> str:
    """ "connection refused" rather than anyio's "All connection attempts failed"."""
    cause: BaseException | None = error
    for _ in range(8):  # the chain is short; bounded all the same
        if cause is None:
            break
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused: nothing listens there"
        if isinstance(cause, OSError) and "Name or service not known" in str(cause):
            return "host name not found"
        cause = cause.__cause__ or cause.__context__
    return str(error) or error.__class__.__name__


def http_error_explain(error: httpx.HTTPError, url: str, timeout: float) -> str:
    if isinstance(error, httpx.ConnectError):
        return f"no connection to {url} ({connect_failure_name(error)})"
    if isinstance(error, httpx.TimeoutException):
        return f"no answer from {url} within {timeout:g} s"
    return f"{error.__class__.__name__} from {url}: {error}"


def socket_url_make(base_url: str, user_id: str, token: str | None) -> str:
    """`/ws/<user_id>` on the same host and path prefix as `base_url`, ws:// or wss://."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = f"{parts.path.rstrip('/')}/ws/{quote(user_id, safe='')}"
    query = f"token={quote(token, safe='')}" if token else ""
    return urlunsplit((scheme, parts.netloc, path, query, ""))


class CheckClient:
    """HTTP calls and one socket to the server at `base_url`, bounded by `timeout` each."""

    def __init__(
        self,
        *,
        base_url: str,
        user_id: str,
        token: str | None,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
        connector: Callable[..., Awaitable[Any]] = connect,
    ) -> None:
        """`transport` and `connector` replace the network (httpx transport, websockets
        `connect`) for tests of the step logic against a scripted server."""
        self.base_url = base_url.rstrip("/")
        self.user_id = user_id
        self.token = token
        self.timeout = timeout
        self.transport = transport
        self.connector = connector
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )
        self.socket: ClientConnection | None = None
        self.inbox: asyncio.Queue[dict[str, Any] | SocketClosed] = asyncio.Queue()
        self.reader: asyncio.Task[None] | None = None

    @property
    def socket_url(self) -> str:
        return socket_url_make(self.base_url, self.user_id, self.token)

    # --- HTTP -----------------------------------------------------------------------------------

    async def http_send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; a network failure becomes a StepFailed naming the URL."""
        url = f"{self.base_url}{path}"
        try:
            return await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise StepFailed(
                f"{method} {path}: {http_error_explain(error, url, self.timeout)}"
            ) from error

    async def http_json(
        self, method: str, path: str, *, expected_status: int | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The JSON object answered; any other status (default: any 2xx) or body fails."""
        response = await self.http_send(method, path, **kwargs)
        status_ok = (
            response.status_code == expected_status
            if expected_status is not None
            else response.is_success
        )
        if not status_ok:
            wanted = f"HTTP {expected_status}" if expected_status else "a 2xx answer"
            raise step_failed(f"{wanted} from {method} {path}", response_explain(response))
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise step_failed(
                f"a JSON object from {method} {path}",
                f"{response.headers.get('content-type', 'no content type')}: "
                f"{excerpt(response.text) or '(empty body)'}",
            )
        return body

    async def url_fetch(self, url: str) -> httpx.Response:
        """GET an absolute URL the way a browser's <img> would: no credentials."""
        try:
            async with httpx.AsyncClient(
                timeout=self.timeout, transport=self.transport
            ) as anonymous:
                return await anonymous.get(url)
        except httpx.HTTPError as error:
            raise StepFailed(
                f"GET {url}: {http_error_explain(error, url, self.timeout)}"
            ) from error

    # --- WebSocket ------------------------------------------------------------------------------

    async def socket_open(self) -> None:
        try:
            self.socket = await self.connector(
                self.socket_url,
                origin=EXTENSION_ORIGIN,
                open_timeout=self.timeout,
                max_size=SOCKET_MAX_BYTES,
                ping_interval=None,  # the contract's pings are JSON messages, not frames
            )
        except InvalidStatus as error:
            status = error.response.status_code
            hint = HANDSHAKE_HINTS.get(status, "")
            raise step_failed(
                "the WebSocket handshake accepted (HTTP 101)",
                f"HTTP {status}" + (f": {hint}" if hint else ""),
            ) from error
        except InvalidHandshake as error:
            cause = f" ({error.__cause__})" if error.__cause__ else ""
            raise step_failed("a WebSocket handshake answer", f"{error}{cause}") from error
        except TimeoutError as error:
            raise StepFailed(f"no WebSocket handshake answer within {self.timeout:g} s") from error
        except OSError as error:
            explained = connect_failure_name(error)
            raise StepFailed(f"no connection to {self.socket_url} ({explained})") from error
        self.reader = asyncio.get_running_loop().create_task(self.socket_read())

    async def socket_read(self) -> None:
        """Everything the server sends lands in the inbox; server pings are answered here."""
        assert self.socket is not None
        try:
            async for raw in self.socket:
                try:
                    message = json.loads(raw)
                except ValueError:
                    message = {"type": "(invalid JSON)", "raw": excerpt(str(raw))}
                if not isinstance(message, dict):
                    message = {"type": "(not an object)", "raw": excerpt(str(raw))}
                if message.get("type") == "ping":
                    await self.socket_send("pong", {})
                    continue
                await self.inbox.put(message)
        except ConnectionClosed:
            pass
        close = self.socket.close_code, self.socket.close_reason or ""
        await self.inbox.put(SocketClosed(code=close[0], reason=close[1]))

    async def socket_send(self, message_type: str, data: dict[str, Any], **top: Any) -> None:
        """`{type, data, ...top}`, the shape client B sends (CONTRACT section 6)."""
        if self.socket is None:
            raise StepFailed("the socket is not open")
        try:
            await self.socket.send(json.dumps({"type": message_type, "data": data, **top}))
        except ConnectionClosed as error:
            raise StepFailed(f"the socket closed before {message_type} could be sent") from error

    async def socket_await(
        self,
        what: str,
        matches: Callable[[dict[str, Any]], bool],
        *,
        timeout: float,
        error_matches: Callable[[dict[str, Any]], bool] = lambda fields: True,
        timeout_message: str | None = None,
    ) -> dict[str, Any]:
        """The fields of the first message that `matches`; an `error` message that
        `error_matches`, a closed socket or `timeout` seconds of waiting fail the step."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        passed_over: list[str] = []
        while True:
            try:
                item = await asyncio.wait_for(self.inbox.get(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                meanwhile = f" (meanwhile: {', '.join(passed_over)})" if passed_over else ""
                raise StepFailed(
                    (timeout_message or f"expected {what} within {timeout:g} s; got nothing")
                    + meanwhile
                ) from None
            if isinstance(item, SocketClosed):
                self.inbox.put_nowait(item)  # later waits see the closed socket too
                raise step_failed(what, f"the socket closed (code {item.code}) {item.reason}")
            fields = message_fields(item)
            if matches(fields):
                return fields
            if fields.get("type") == "error" and error_matches(fields):
                raise step_failed(what, f"error: {fields.get('error') or excerpt(str(item))}")
            passed_over.append(str(fields.get("type")))

    async def close(self) -> None:
        if self.socket is not None:
            with contextlib.suppress(Exception):  # closing is best effort at the end of a check
                await asyncio.wait_for(self.socket.close(), self.timeout)
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader
        await self.http.aclose()
