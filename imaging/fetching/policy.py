"""Fetch policy: the settings that bound a fetch, and the two outcomes callers tell apart."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from django.conf import settings
from PIL import Image

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
    """The bounds of a fetch; `fetch_policy_from_settings()` makes the configured one (the
    defaults live in diymod/settings.py only)."""

    allowed_hosts: tuple[str, ...]
    # The platforms' public media hosts: never let resolve to a private address.
    media_hosts: tuple[str, ...]
    allow_private: bool
    max_bytes: int
    timeout_seconds: float
    max_pixels: int
    max_side: int
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
    """The policy from Django settings, read at call time."""
    return FetchPolicy(
        allowed_hosts=tuple(settings.DIYMOD_IMAGE_ALLOWED_HOSTS),
        media_hosts=tuple(settings.DIYMOD_IMAGE_MEDIA_HOSTS),
        allow_private=settings.DIYMOD_IMAGE_ALLOW_PRIVATE,
        max_bytes=settings.DIYMOD_IMAGE_MAX_BYTES,
        timeout_seconds=settings.DIYMOD_IMAGE_FETCH_TIMEOUT_SECONDS,
        max_pixels=settings.DIYMOD_IMAGE_MAX_PIXELS,
        max_side=settings.DIYMOD_IMAGE_MAX_SIDE,
    )
