"""Reads, always scoped to the acting user (STYLE.md)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from diymod.errors import NotFound
from filters.models import ApiToken, Filter, User
from filters.services import token_hash


def filter_list_active(*, user: User) -> QuerySet[Filter]:
    """The user's filters in force now: active and not expired (expired ones are never used)."""
    unexpired = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    return Filter.objects.filter(Q(owner=user, is_active=True) & unexpired)


def filter_get(*, user: User, filter_id: int) -> Filter:
    """One of the user's filters; someone else's answers exactly like a missing one."""
    try:
        return Filter.objects.get(id=filter_id, owner=user)
    except Filter.DoesNotExist:
        raise NotFound(f"Filter {filter_id} not found") from None


def token_user_get(*, raw_token: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(raw_token), user__is_active=True)
        .first()
    )
    return token.user if token else None
