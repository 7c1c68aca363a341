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

import ipaddress
import socket
import ssl
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from io import BytesIO
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from PIL import Image

DEFAULT_ALLOWED_HOSTS = (
    "i.redd.it",
    "preview.redd.it",
    "external-preview.redd.it",
    "a.thumbs.redditmedia.com",
    "b.thumbs.redditmedia.com",
    "styles.redditmedia.com",
    "emoji.redditmedia.com",
    "pbs.twimg.com",
    "video.twimg.com",
    "abs.twimg.com",
)
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 5.0
DEFAULT_MAX_PIXELS = 40_000_000
MAX_REDIRECTS = 3
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
# Retrying these can succeed later; every other 4xx is the server's final word.
TRANSIENT_STATUSES = {408, 425, 429}
# MPO: what Pillow calls many phone-camera JPEGs (a JPEG with extra frames). AVIF: CDNs serve it.
IMAGE_FORMATS = {"JPEG", "MPO", "PNG", "GIF", "WEBP", "AVIF", "BMP"}
DEFAULT_PORTS = {"http": 80, "https": 443}
USER_AGENT = "DIY-MOD image fetcher (+https://github.com/)"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """Base of the two fetch outcomes a caller must tell apart."""


class FetchRefused(FetchError):
    """Permanent: the URL is not allowed, the answer is too big or not an image. Never retry."""


class FetchTransientError(FetchError):
    """Temporary: timeout, connection error, 5xx or 429. Retrying later may succeed."""


@dataclass(frozen=True)
class FetchPolicy:
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    allow_private: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_pixels: int = DEFAULT_MAX_PIXELS
    # Trust these CA certificates instead of the system bundle (tests with a local TLS server).
    ca_file: str | None = None


@dataclass
class FetchedImage:
    url: str
    final_url: str
    data: bytes
    image: Image.Image = field(repr=False)
    format: str = ""


def fetch_policy_from_settings() -> FetchPolicy:
    """The policy from Django settings, read at call time (defaults when a setting is absent)."""
    from django.conf import settings

    hosts = getattr(settings, "DIYMOD_IMAGE_ALLOWED_HOSTS", None)
    return FetchPolicy(
        allowed_hosts=tuple(hosts) if hosts is not None else DEFAULT_ALLOWED_HOSTS,
        allow_private=bool(getattr(settings, "DIYMOD_IMAGE_ALLOW_PRIVATE", False)),
        max_bytes=int(getattr(settings, "DIYMOD_IMAGE_MAX_BYTES", DEFAULT_MAX_BYTES)),
        timeout_seconds=float(
            getattr(settings, "DIYMOD_IMAGE_FETCH_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
        ),
        max_pixels=int(getattr(settings, "DIYMOD_IMAGE_MAX_PIXELS", DEFAULT_MAX_PIXELS)),
    )


# --- URL and address checks -------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path_and_query: str


def url_target(url: str) -> Target:
    """Split `url` into what we check; refuse anything that is not plain http(s)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise FetchRefused(f"malformed URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise FetchRefused(f"scheme {scheme or '(none)'!r} is not allowed")
    if not parts.hostname:
        raise FetchRefused("URL has no host")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused("credentials in URLs are not allowed")
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    host = parts.hostname.rstrip(".").lower()
    return Target(scheme, host, port or DEFAULT_PORTS[scheme], path + query)


def host_allowed(target: Target, allowed_hosts: tuple[str, ...]) -> bool:
    return allowed_entry_matching(target, allowed_hosts) is not None


def allowed_entry_matching(target: Target, allowed_hosts: tuple[str, ...]) -> str | None:
    """The allow-list entry that admits `target`, or None. An entry `host` allows the scheme's
    default port only; `host:port` exactly that port; `*.example.com` any subdomain on the
    default port."""
    default_port = DEFAULT_PORTS[target.scheme]
    for entry in allowed_hosts:
        pattern, port = allowed_entry_split(entry)
        if (port or default_port) != target.port:
            continue
        if pattern.startswith("*.") and target.host.endswith(pattern[1:]):
            return entry
        if pattern == target.host:
            return entry
    return None


def private_address_permitted(target: Target, policy: FetchPolicy) -> bool:
    """DIYMOD_IMAGE_ALLOW_PRIVATE (tests, local demos) only opens hosts an operator listed by
    exact name: never a wildcard, never a built-in public media host (i.redd.it answering with
    10.0.0.5 is an attack or a broken resolver, even on a demo machine)."""
    if not policy.allow_private:
        return False
    entry = allowed_entry_matching(target, policy.allowed_hosts)
    return (
        entry is not None
        and not entry.startswith("*.")
        and target.host not in DEFAULT_ALLOWED_HOSTS
    )


def allowed_entry_split(entry: str) -> tuple[str, int | None]:
    entry = entry.strip().lower()
    if entry.startswith("["):  # "[::1]:8080"
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else None
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return host, int(port)
    return entry, None


def address_public(address: IPAddress) -> bool:
    """True only for globally routable unicast addresses; IPv4 hidden inside IPv6 is unwrapped
    first (Python 3.11 does not classify `::ffff:127.0.0.1` as loopback)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None and not address_public(embedded):
            return False
    site_local = isinstance(address, ipaddress.IPv6Address) and address.is_site_local
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or site_local
        # is_global also excludes the shared 100.64.0.0/10 range and other special blocks.
        or not address.is_global
    )


def host_addresses(host: str, port: int) -> list[IPAddress]:
    """Resolve `host` once; every use of the answer goes through this list."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
            raise FetchRefused(f"host {host!r} does not resolve") from None
        raise FetchTransientError(f"DNS lookup of {host!r} failed: {error}") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchRefused(f"host {host!r} has no address")
    return addresses


def target_address(target: Target, policy: FetchPolicy) -> IPAddress:
    """The one checked address to connect to, or FetchRefused."""
    if not host_allowed(target, policy.allowed_hosts):
        raise FetchRefused(f"host {target.host}:{target.port} is not on the image allow-list")
    addresses = host_addresses(target.host, target.port)
    private_permitted = private_address_permitted(target, policy)
    # One bad record refuses the host: DNS answers rotate, so "the first one" is not a check.
    for address in addresses:
        if not address_public(address) and not private_permitted:
            raise FetchRefused(f"host {target.host} resolves to non-public address {address}")
    return addresses[0]


# --- HTTP ---------------------------------------------------------------------------------------


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


def host_is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


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
                image, image_format = image_decode(body, policy.max_pixels)
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


def image_decode(data: bytes, max_pixels: int) -> tuple[Image.Image, str]:
    """Sniff and decode `data` as an image; the pixel count is checked from the header BEFORE
    the pixels are decoded, so a small file claiming a huge canvas costs nothing."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; make it an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data))
            image_format = image.format or ""
            if image_format not in IMAGE_FORMATS:
                raise FetchRefused(f"content is not an allowed image format ({image_format})")
            width, height = image.size
            if width * height > max_pixels:
                raise FetchRefused(f"image is {width}x{height}, over the {max_pixels} pixel cap")
            image.load()
    except FetchRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise FetchRefused(f"image refused as a decompression bomb: {error}") from None
    except (OSError, ValueError, SyntaxError, Image.UnidentifiedImageError) as error:
        # Pillow's message names a BytesIO object; the error class says enough.
        raise FetchRefused(f"content is not a decodable image ({type(error).__name__})") from None
    return image, image_format
