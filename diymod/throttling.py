"""Per-user rate limits for the endpoints that cost money (DESIGN.md): chat and model analysis."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from diymod.api import request_body_parse

logger = logging.getLogger(__name__)


# Who a request acts for, as a throttle key ("pk:…", "id:…"), or None when it names no user.
# The users app registers it (`throttle_user_identity_register`): users live in an app, and
# this package imports none.
UserIdentity = Callable[[Request], str | None]
_user_identity: UserIdentity | None = None


def throttle_user_identity_register(identify: UserIdentity) -> None:
    global _user_identity
    _user_identity = identify


def throttle_identity(request: Request) -> str:
    """Who to count: the user the request acts for (the registered `UserIdentity`), else the
    client address."""
    user_identity = _user_identity(request) if _user_identity is not None else None
    if user_identity is not None:
        return user_identity
    return f"ip:{client_address(request)}"


def throttle_key(request: Request) -> str:
    """`throttle_identity` as a cache key part: a user id is any text the client sent (spaces,
    control and astral characters, any length), which no cache key should carry as it is."""
    identity = throttle_identity(request).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(identity, digest_size=16).hexdigest()


def client_address(request: HttpRequest | Request) -> str:
    """The client's address for per-address limits. X-Forwarded-For is believed only when the
    peer is one of DIYMOD_TRUSTED_PROXIES (default: none, so the header is ignored): then the
    client is the nearest address in the chain that is not itself a trusted proxy."""
    peer = str(request.META.get("REMOTE_ADDR", "") or "")
    if not address_is_trusted_proxy(peer):
        return peer
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", "") or "")
    chain = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    for address in reversed(chain):
        if not address_is_trusted_proxy(address):
            return address if address_parse(address) is not None else peer
    return chain[0] if chain else peer


def address_parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def address_is_trusted_proxy(address: str) -> bool:
    parsed = address_parse(address)
    if parsed is None:
        return False
    return any(parsed in network for network in settings.DIYMOD_TRUSTED_PROXY_NETWORKS)


class ClientAddressRateThrottle(AnonRateThrottle):
    """DRF's per-address throttle, but keyed on `client_address`: DRF's own `get_ident`
    believes any X-Forwarded-For (NUM_PROXIES unset), so varied headers got fresh budgets."""

    def get_rate(self) -> str | None:
        # Read per request, as UserScopedRateThrottle does (DRF binds rates at import).
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return str(rate) if rate else None

    def get_ident(self, request: Request) -> str:
        return client_address(request)


class UserScopedRateThrottle(SimpleRateThrottle):
    """Set `scope` on a subclass; rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]."""

    def get_rate(self) -> str | None:
        # Read per request: DRF binds THROTTLE_RATES at import, so changed settings never apply.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return str(rate) if rate else None

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": throttle_key(request)}

    def allow_request(self, request: Request, view: APIView) -> bool:
        # Parse the body outside the guard below: a malformed body is the client's 400.
        request_body_parse(request)
        try:
            return super().allow_request(request, view)
        except Exception as error:  # a cache outage must not take the API down with it
            logger.warning("rate limit check skipped (%s): %s", self.scope, error)
            return True


class ChatRateThrottle(UserScopedRateThrottle):
    scope = "chat"


class FeedModelRateThrottle(UserScopedRateThrottle):
    """Only counts when a paid model analyses feeds; the embedded analyzer is free."""

    scope = "feed_model"

    def allow_request(self, request: Request, view: APIView) -> bool:
        if not settings.OPENAI_API_KEY or settings.DIYMOD_ANALYZER == "embedded":
            return True
        return super().allow_request(request, view)
