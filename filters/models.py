from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    def create_user(self, user_id: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(user_id=user_id, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, user_id: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(user_id, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person, known by the extension's opaque `user_id` (CONTRACT section 1).

    The id is any string the client chose (a UUID, a Google id, even `unknown`); the primary key
    is ours and is what group names and foreign keys use.
    """

    user_id = models.CharField(max_length=255, unique=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "user_id"
    REQUIRED_FIELDS = []  # type: ignore[misc]  # user_id is the only identifying field

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.user_id


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise it.")
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class Filter(models.Model):
    class ContentType(models.TextChoices):
        TEXT = "text"
        IMAGE = "image"
        ALL = "all"

    class Duration(models.TextChoices):
        PERMANENT = "permanent"
        DAY = "day"
        WEEK = "week"
        MONTH = "month"

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="filters")
    filter_text = models.CharField(max_length=500)
    content_type = models.CharField(
        max_length=5, choices=ContentType.choices, default=ContentType.ALL
    )
    intensity = models.PositiveSmallIntegerField(default=3)
    duration = models.CharField(max_length=9, choices=Duration.choices, default=Duration.PERMANENT)
    is_temporary = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["owner", "is_active"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(intensity__gte=1, intensity__lte=5), name="filter_intensity_1_to_5"
            ),
            models.CheckConstraint(
                condition=Q(content_type__in=["text", "image", "all"]),
                name="filter_content_type_valid",
            ),
            models.CheckConstraint(condition=~Q(filter_text=""), name="filter_text_not_empty"),
            # Permanent ⇔ not temporary ⇔ no expiry: a temporary filter always ends.
            models.CheckConstraint(
                condition=(
                    Q(duration="permanent", is_temporary=False, expires_at__isnull=True)
                    | (
                        Q(duration__in=["day", "week", "month"], is_temporary=True)
                        & Q(expires_at__isnull=False)
                    )
                ),
                name="filter_duration_matches_expiry",
            ),
        ]

    def __str__(self) -> str:
        return self.filter_text

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()
