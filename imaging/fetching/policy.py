"""Fetch policy: the settings that bound a fetch, and the two outcomes callers tell apart."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

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
DEFAULT_MAX_PIXELS = 16_000_000
# Pictures are scaled to at most this long a side before any transform (a feed shows less).
DEFAULT_MAX_SIDE = 2048
MAX_REDIRECTS = 3
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
# Retrying these can succeed later; every other 4xx is the server's final word.
TRANSIENT_STATUSES = {408, 425, 429}
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
    max_side: int = DEFAULT_MAX_SIDE
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
        max_side=int(getattr(settings, "DIYMOD_IMAGE_MAX_SIDE", DEFAULT_MAX_SIDE)),
    )
