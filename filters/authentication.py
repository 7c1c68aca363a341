"""Bearer tokens for DRF, and the one way views learn who is acting."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from diymod.errors import ApplicationError
from diymod.observability import user_pk_bind
from filters.models import User
from filters.selectors import token_user_get
from filters.services import user_resolve


def bearer_token_parse(header: str) -> str | None:
    """The token of an `Authorization: Bearer <t>` header; None for empty or other schemes.

    Today's extension sends `Authorization: ""` (CONTRACT section 1): that means no token.
    """
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class BearerTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, str] | None:
        raw = bearer_token_parse(request.META.get("HTTP_AUTHORIZATION", ""))
        if raw is None:
            return None
        user = token_user_get(raw_token=raw)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token")
        return user, raw

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="diymod"'


def request_user_resolve(request: Request, claimed_user_id: Any) -> User:
    """The acting user of an API call: the token's, or the claimed `user_id` in client-id mode."""
    token_user = request.user if isinstance(request.user, User) else None
    user = user_resolve(token_user=token_user, claimed_user_id=user_id_clean(claimed_user_id))
    user_pk_bind(user.pk)
    return user


def user_id_clean(value: Any) -> str | None:
    """The extension's `user_id`: a string up to 255 characters (numeric ids are taken as text)."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ApplicationError("user_id: must be a string.")
    value = value.strip()
    if "\x00" in value:  # PostgreSQL text cannot hold NUL: refuse it rather than fail later
        raise ApplicationError("user_id: must not contain NUL characters.")
    if len(value) > 255:
        raise ApplicationError("user_id: must be at most 255 characters.")
    return value or None


def throttle_user_identity(request: Request) -> str | None:
    """Whose rate limit a request counts against: the token's user, else the user the claimed
    `user_id` resolves to (cleaned exactly as the view cleans it, so " alice" and "alice "
    share alice's budget); None (count the client address) when it names no usable user.
    Registered with diymod.throttling by FiltersConfig.ready."""
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
        return None
    return None if user_id is None else f"id:{user_id}"


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents the Bearer token in the OpenAPI schema."""

    target_class = "filters.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
