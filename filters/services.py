"""Writes for users, tokens and filters (STYLE.md: `<noun>_<verb>(*, ...)`)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from diymod.errors import ApplicationError, Forbidden, Unauthorized
from filters.models import ApiToken, Filter, User

# CONTRACT section 2: day = +1 day, week = +7 days, month = +30 days, and a few spellings.
DURATION_ALIASES = {
    "permanent": "permanent",
    "forever": "permanent",
    "day": "day",
    "1 day": "day",
    "24 hours": "day",
    "today": "day",
    "week": "week",
    "1 week": "week",
    "7 days": "week",
    "month": "month",
    "1 month": "month",
    "30 days": "month",
}
DURATION_LENGTHS = {
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
}
DEFAULT_INTENSITY = 3
TOKEN_PREFIX = "dm_"


def duration_normalize(value: str) -> str:
    canonical = DURATION_ALIASES.get(" ".join(value.lower().split()))
    if canonical is None:
        raise ApplicationError(
            f"duration: unknown duration {value!r}; use permanent, day, week or month"
        )
    return canonical


def token_hash(raw: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough; a slow one would tax every call.
    return hashlib.sha256(raw.encode()).hexdigest()


def user_get_or_create(*, user_id: str) -> User:
    try:
        return User.objects.get(user_id=user_id)
    except User.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return User.objects.create_user(user_id)
    except IntegrityError:  # created by a concurrent first request
        return User.objects.get(user_id=user_id)


def user_resolve(*, token_user: User | None, claimed_user_id: str | None) -> User:
    """The acting user of a call (DESIGN.md, "Identity and security").

    A valid token always wins; in token mode one is required; a token for A naming B is 403.
    """
    if token_user is not None:
        if claimed_user_id and claimed_user_id != token_user.user_id:
            raise Forbidden("user_id does not match the token's user")
        return token_user
    if settings.DIYMOD_AUTH == "token":
        raise Unauthorized("Authorization: Bearer <token> is required on this server")
    if not claimed_user_id:
        raise ApplicationError("user_id: This field is required.")
    return user_get_or_create(user_id=claimed_user_id)


@transaction.atomic
def token_issue(*, user: User, name: str = "") -> str:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=token_hash(raw), prefix=raw[:10], name=name)
    return raw


@transaction.atomic
def user_register() -> tuple[User, str]:
    """A new user with a fresh random id, and their first token."""
    user = User.objects.create_user(f"u_{secrets.token_hex(16)}")
    return user, token_issue(user=user, name="register")


def _expiry_for(duration: str) -> tuple[bool, Any]:
    if duration == "permanent":
        return False, None
    return True, timezone.now() + DURATION_LENGTHS[duration]


def filter_cap_check(*, owner: User) -> None:
    """Filters per user are capped (DIYMOD_MAX_FILTERS_PER_USER): each one costs analysis on
    every feed. Only filters in force count; expired ones are never used."""
    cap = settings.DIYMOD_MAX_FILTERS_PER_USER
    unexpired = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    held = Filter.objects.filter(Q(owner=owner, is_active=True) & unexpired).count()
    if held >= cap:
        raise ApplicationError(
            f"You already have {held} filters, the most this server allows is {cap}: "
            "delete one before adding another."
        )


@transaction.atomic
def filter_create(
    *,
    owner: User,
    filter_text: str,
    content_type: str = Filter.ContentType.ALL,
    intensity: int | None = None,
    duration: str = "permanent",
    metadata: dict[str, Any] | None = None,
) -> Filter:
    duration = duration_normalize(duration)
    filter_cap_check(owner=owner)
    is_temporary, expires_at = _expiry_for(duration)
    return Filter.objects.create(
        owner=owner,
        filter_text=filter_text.strip(),
        content_type=content_type,
        intensity=DEFAULT_INTENSITY if intensity is None else intensity,
        duration=duration,
        is_temporary=is_temporary,
        expires_at=expires_at,
        metadata=metadata or {},
    )


@transaction.atomic
def filter_update(*, filter: Filter, changes: dict[str, Any]) -> Filter:
    """Apply the given fields; a new duration restarts the clock and reactivates the filter."""
    if "filter_text" in changes:
        filter.filter_text = changes["filter_text"].strip()
    if "content_type" in changes:
        filter.content_type = changes["content_type"]
    if "intensity" in changes:
        intensity = changes["intensity"]
        filter.intensity = DEFAULT_INTENSITY if intensity is None else intensity
    if "metadata" in changes:
        filter.metadata = changes["metadata"] or {}
    if "duration" in changes:
        filter.duration = duration_normalize(changes["duration"])
        filter.is_temporary, filter.expires_at = _expiry_for(filter.duration)
        filter.is_active = True
    filter.save()
    return filter


@transaction.atomic
def filter_delete(*, filter: Filter) -> None:
    filter.delete()


def filters_expire() -> int:
    """Deactivate every filter whose time is up; returns how many."""
    return Filter.objects.filter(is_active=True, expires_at__lte=timezone.now()).update(
        is_active=False
    )
