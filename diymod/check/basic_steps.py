"""The basic check: HTTP liveness and health, then the socket as the extension uses it."""

from __future__ import annotations

import ipaddress
import socket
from datetime import UTC, datetime
from urllib.parse import urlsplit

from diymod.check.client import EXTENSION_ORIGIN, excerpt, step_failed
from diymod.check.context import (
    CheckContext,
    Step,
    check_id_make,
    feed_intact_check,
    feed_response_get,
    of_type,
)
from diymod.check.feeds import FEED_URL, PLAIN_BODY, PLAIN_TITLE, shreddit_feed_build
from diymod.check.report import LocalNetworkAccess

# --- HTTP basics ---------------------------------------------------------------------------------


async def ping_step(context: CheckContext) -> str:
    body = await context.client.http_json("GET", "/ping")
    return f"{body.get('message', 'ok')}"


async def healthz_step(context: CheckContext) -> str:
    response = await context.client.http_send("GET", "/healthz")
    try:
        checks = response.json().get("checks") or {}
    except (ValueError, AttributeError):
        checks = {}
    summary = ", ".join(f"{name} {result}" for name, result in checks.items())
    if response.status_code != 200:
        got = f"HTTP {response.status_code}" + (
            f" ({summary})" if summary else f": {excerpt(response.text)}"
        )
        raise step_failed("HTTP 200 (healthy) from GET /healthz", got)
    return summary or "healthy"


# --- the socket ----------------------------------------------------------------------------------


async def socket_open_step(context: CheckContext) -> str:
    await context.client.socket_open()
    path = urlsplit(context.client.socket_url).path
    return f"{path} accepted with Origin {EXTENSION_ORIGIN}"


async def socket_connection_step(context: CheckContext) -> str:
    client = context.client
    await client.socket_send("connection", {"client": "diymod-check", "userId": client.user_id})
    fields = await client.socket_await(
        "connection_ack", of_type("connection_ack"), timeout=context.options.step_timeout
    )
    return str(fields.get("message") or "connection_ack")


async def socket_ping_step(context: CheckContext) -> str:
    client = context.client
    await client.socket_send("ping", {"timestamp": datetime.now(UTC).isoformat()})
    await client.socket_await("pong", of_type("pong"), timeout=context.options.step_timeout)
    return "pong"


async def socket_process_feed_step(context: CheckContext) -> str:
    client = context.client
    request_id, post_id = check_id_make("diymod-check-"), check_id_make("t3_check")
    sent = shreddit_feed_build(post_id=post_id, title=PLAIN_TITLE, body=PLAIN_BODY)
    payload = {"url": FEED_URL, "platform": "reddit", "response": sent, "requestId": request_id}
    await client.socket_send("process_feed", payload, requestId=request_id)
    fields = await client.socket_await(
        "processing_response",
        lambda fields: (
            of_type("processing_response")(fields) and fields.get("requestId") == request_id
        ),
        timeout=context.options.step_timeout,
        error_matches=lambda fields: fields.get("requestId") in (None, request_id),
    )
    returned = feed_response_get(fields, "processing_response")
    feed_intact_check(returned, post_id)
    state = "unchanged" if returned == sent else "modified (this user's filters matched)"
    server_ms = fields.get("processingTime")
    return f"feed back {state}" + (
        f", server time {server_ms} ms" if server_ms is not None else ""
    )


BASIC_STEPS: list[tuple[str, Step]] = [
    ("ping", ping_step),
    ("healthz", healthz_step),
    ("socket_open", socket_open_step),
    ("socket_connection", socket_connection_step),
    ("socket_ping", socket_ping_step),
    ("socket_process_feed", socket_process_feed_step),
]


# --- what browsers will ask for ------------------------------------------------------------------


def local_network_access_find(url: str) -> LocalNetworkAccess | None:
    """Whether the server at `url` is on a loopback or private address, where Chrome's Local
    Network Access asks the user first; None for a public address, or a host that does not
    resolve (the ping step then says why)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return None
        address = ipaddress.ip_address(str(found[0][4][0]).split("%", 1)[0])
    space = address_space(address)
    return LocalNetworkAccess(space, str(address)) if space else None


def address_space(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """ "loopback", "private" (any address that is not globally reachable: RFC 1918, link-local,
    unique local, shared) or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "loopback"
    return None if address.is_global else "private"
