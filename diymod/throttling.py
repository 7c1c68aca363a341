"""Per-user rate limits for the endpoints that cost money (DESIGN.md): chat and model analysis."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from diymod.errors import ApplicationError
from filters.models import User

logger = logging.getLogger(__name__)


def request_body_parse(request: Request) -> None:
    """Parse the body now; a body Django refuses to parse is the client's 400, never a 500."""
    try:
        request.data  # noqa: B018
    except (TooManyFieldsSent, TooManyFilesSent) as error:
        raise ApplicationError(f"Request body refused: {error}") from None


def throttle_identity(request: Request) -> str:
    """Who to count: the token's user, else the claimed `user_id`, else the client address."""
    if isinstance(request.user, User):
        return f"pk:{request.user.pk}"
    claimed: Any = None
    if request.method == "GET":
        claimed = request.query_params.get("user_id")
    elif isinstance(request.data, dict):
        claimed = request.data.get("user_id")
    if isinstance(claimed, str | int) and str(claimed):
        return f"id:{claimed}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


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
