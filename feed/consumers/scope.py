"""What a socket's handshake says: who (path, token) and from where (Origin, Host)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from diymod.errors import Unauthorized
from filters.authentication import bearer_token_parse, user_id_clean
from filters.models import User
from filters.selectors import token_user_get
from filters.services import user_resolve


def header_value(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin1")
    return None


def path_user_id(scope: dict[str, Any]) -> str:
    """The user id of `/ws/<user_id>[/]`, from the raw (still URL-encoded) path when available.

    The decoded path cannot tell `a%2Fb` from `a/b`; user ids may contain any character.
    """
    raw_path = scope.get("raw_path")
    if isinstance(raw_path, bytes) and raw_path.startswith(b"/ws/"):
        encoded = raw_path.decode("latin1").split("?", 1)[0][len("/ws/") :]
        return unquote(encoded.removesuffix("/"))
    return scope["url_route"]["kwargs"].get("user_id") or ""


def scope_token(scope: dict[str, Any]) -> str | None:
    """`?token=` (what browsers can send), else an `Authorization: Bearer` header (tools)."""
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    token = (query.get("token") or [""])[0].strip()
    return token or bearer_token_parse(header_value(scope, b"authorization") or "")


class HostRefused(Exception):
    """The handshake's Host is not one of ALLOWED_HOSTS (Django answers such HTTP with 400)."""


def allowed_hosts() -> list[str]:
    """ALLOWED_HOSTS as Django applies it to HTTP (`HttpRequest.get_host`): with DEBUG on and
    the setting empty, the local names."""
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def scope_host_validated(scope: dict[str, Any]) -> str | None:
    """The handshake's Host, checked exactly as Django checks an HTTP request's; None when the
    handshake has none (tools, tests: their result URLs fall back to DIYMOD_PUBLIC_URL or the
    default address). Raises HostRefused for a Host that would poison result URLs."""
    host = header_value(scope, b"host")
    if host is None:
        return None
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, allowed_hosts()):
        raise HostRefused(host)
    return host


def scope_base_url(scope: dict[str, Any]) -> str | None:
    """The server's absolute URL as this socket reached it, for this user's result URLs; its
    Host was validated when the socket opened (the consumer refuses others)."""
    try:
        host = scope_host_validated(scope)
    except HostRefused:
        return None
    if not host:
        return None
    return f"{'https' if scope.get('scheme') == 'wss' else 'http'}://{host}"


def socket_user_resolve(*, claimed_user_id: str, raw_token: str | None) -> User:
    token_user = None
    if raw_token:
        token_user = token_user_get(raw_token=raw_token)
        if token_user is None:
            raise Unauthorized("Invalid or revoked token")
    return user_resolve(token_user=token_user, claimed_user_id=user_id_clean(claimed_user_id))
