"""SSRF-safe image fetching (DESIGN.md, "Identity and security").

Choice: httpx with one short-lived client per fetch, `trust_env=False` (an environment proxy
would resolve the name itself and bypass every check below) and redirects followed by hand.

Each hop: scheme must be http(s); host (and port) must be on the allow-list; the name is resolved
here and EVERY address it resolves to must be public; the request then goes to the checked IP
literally (the URL carries the IP, the `Host` header and TLS SNI/certificate check carry the
name), so a second, different DNS answer can never be used (no TOCTOU re-resolution).

Errors split in two: `FetchRefused` is permanent (not allowed, too big, not an image, 4xx) and a
job should fail at once; `FetchTransientError` (timeouts, 5xx, 429, connection errors) is worth
retrying.
"""

from __future__ import annotations

import socket  # noqa: F401  (tests replace socket.getaddrinfo to fake DNS)
import ssl
import time
from collections.abc import Iterator
from functools import lru_cache
from urllib.parse import urljoin, urlunsplit

import httpx

from imaging.fetching.addresses import (
    Target,
    address_public,
    allowed_entry_matching,
    host_addresses,
    host_allowed,
    host_is_literal,
    private_address_permitted,
    target_address,
    url_target,
)
from imaging.fetching.decoding import IMAGE_FORMATS, image_decode
from imaging.fetching.policy import (
    DEFAULT_PORTS,
    MAX_REDIRECTS,
    REDIRECT_STATUSES,
    TRANSIENT_STATUSES,
    USER_AGENT,
    FetchedImage,
    FetchError,
    FetchPolicy,
    FetchRefused,
    FetchTransientError,
    IPAddress,
    fetch_policy_from_settings,
)

__all__ = [
    "IMAGE_FORMATS",
    "FetchError",
    "FetchPolicy",
    "FetchRefused",
    "FetchTransientError",
    "FetchedImage",
    "Target",
    "address_public",
    "allowed_entry_matching",
    "fetch_policy_from_settings",
    "host_addresses",
    "host_allowed",
    "host_is_literal",
    "image_decode",
    "image_fetch",
    "private_address_permitted",
    "target_address",
    "url_target",
]


@lru_cache(maxsize=4)
def ssl_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Built once per CA file: loading a CA bundle costs more than a small image fetch."""
    if ca_file is not None:
        return ssl.create_default_context(cafile=ca_file)
    return httpx.create_ssl_context()


def pinned_request(target: Target, address: IPAddress) -> tuple[str, dict[str, str], dict]:
    """URL with the IP in place of the name, plus the Host header and SNI that keep the name."""
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{target.port}"
    url = urlunsplit((target.scheme, netloc, "", "", "")) + target.path_and_query
    default = target.port == DEFAULT_PORTS[target.scheme]
    host_header = target.host if default else f"{target.host}:{target.port}"
    extensions: dict = {}
    if target.scheme == "https" and not host_is_literal(target.host):
        extensions["sni_hostname"] = target.host
    return url, {"Host": host_header, "User-Agent": USER_AGENT, "Accept": "image/*"}, extensions


def remaining_seconds(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchTransientError("image fetch took longer than the time limit")
    return left


def image_fetch(*, url: str, policy: FetchPolicy | None = None) -> FetchedImage:
    """Fetch `url` as an image under `policy` (settings when None); FetchRefused or
    FetchTransientError on failure. The returned image is decoded (loaded) already."""
    policy = policy or fetch_policy_from_settings()
    deadline = time.monotonic() + policy.timeout_seconds
    current = url
    verify = ssl_context(policy.ca_file)
    with httpx.Client(verify=verify, trust_env=False, follow_redirects=False) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            body, location = hop_fetch(client, current, policy, deadline)
            if location is None:
                image, image_format = image_decode(body, policy.max_pixels, policy.max_side)
                return FetchedImage(url, current, body, image, image_format)
            current = urljoin(current, location)
    raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")


def hop_fetch(
    client: httpx.Client, url: str, policy: FetchPolicy, deadline: float
) -> tuple[bytes, str | None]:
    """One request: (body, None) for a final answer, (b"", location) for a redirect."""
    target = url_target(url)
    address = target_address(target, policy)
    pinned_url, headers, extensions = pinned_request(target, address)
    timeout = httpx.Timeout(remaining_seconds(deadline))
    try:
        request = client.build_request(
            "GET", pinned_url, headers=headers, extensions=extensions, timeout=timeout
        )
        response = client.send(request, stream=True)
        try:
            return response_read(response, policy, deadline)
        finally:
            response.close()
    except httpx.TimeoutException:
        raise FetchTransientError(f"timed out fetching {url}") from None
    except httpx.TransportError as error:
        raise FetchTransientError(f"connection error fetching {url}: {error}") from None


def response_read(
    response: httpx.Response, policy: FetchPolicy, deadline: float
) -> tuple[bytes, str | None]:
    status = response.status_code
    if status in REDIRECT_STATUSES:
        location = response.headers.get("location")
        if not location:
            raise FetchRefused(f"redirect {status} without a Location")
        return b"", location
    if status >= 500 or status in TRANSIENT_STATUSES:
        raise FetchTransientError(f"image host answered {status}")
    if status != 200:
        raise FetchRefused(f"image host answered {status}")
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchRefused(f"image is {declared} bytes, over the {policy.max_bytes} byte limit")
    return body_read(response.iter_bytes(), policy.max_bytes, deadline), None


def body_read(chunks: Iterator[bytes], max_bytes: int, deadline: float) -> bytes:
    """Read at most `max_bytes`, checking the overall deadline between chunks (a server that
    trickles one byte at a time would otherwise never hit a per-read timeout)."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        if len(buffer) > max_bytes:
            raise FetchRefused(f"image is over the {max_bytes} byte limit")
        remaining_seconds(deadline)
    return bytes(buffer)
