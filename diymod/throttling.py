"""Per-user rate limits for the endpoints that cost money (DESIGN.md): chat and model analysis."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from diymod.api import request_body_parse
from diymod.errors import ApplicationError
from filters.authentication import user_id_clean
from filters.models import User

logger = logging.getLogger(__name__)


def throttle_identity(request: Request) -> str:
    """Who to count: the token's user, else the user the claimed `user_id` resolves to (cleaned
    exactly as the view cleans it, so " alice" and "alice " share alice's budget), else the
    client address."""
    if isinstance(request.user, User):
        return f"pk:{request.user.pk}"
    claimed: Any = None
    if request.method == "GET":
        claimed = request.query_params.get("user_id")
    elif isinstance(request.data, dict):
        claimed = request.data.get("user_id")
    try:
        user_id = user_id_clean(claimed)
    except ApplicationError:  # the view refuses it with a 400; count it by address meanwhile
        user_id = None
    if user_id is not None:
        return f"id:{user_id}"
    return f"ip:{client_address(request)}"


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
    networks = getattr(settings, "DIYMOD_TRUSTED_PROXY_NETWORKS", [])
    return any(parsed in network for network in networks)


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
        return self.cache_format % {"scope": self.scope, "ident": throttle_identity(request)}

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
        from django.conf import settings

        if not settings.OPENAI_API_KEY or settings.DIYMOD_ANALYZER == "embedded":
            return True
        return super().allow_request(request, view)
