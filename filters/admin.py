from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from filters.models import ApiToken, Filter, User
from filters.services import filter_update, filters_expire


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["user_id", "filter_count", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["user_id"]
    ordering = ["-date_joined"]
    fieldsets = [
        (None, {"fields": ["user_id", "password"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["user_id", "password1", "password2"]})
    ]
    filter_horizontal = ["groups", "user_permissions"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).annotate(filter_total=Count("filters"))

    @admin.display(description="Filters", ordering="filter_total")
    def filter_count(self, user: User) -> int:
        return getattr(user, "filter_total", 0)


class ExpiryListFilter(admin.SimpleListFilter):
    title = "expiry"
    parameter_name = "expiry"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[str, str]]:
        return [
            ("permanent", "Permanent"),
            ("temporary", "Temporary, running"),
            ("expired", "Expired"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Filter]) -> QuerySet[Filter]:
        now = timezone.now()
        if self.value() == "permanent":
            return queryset.filter(is_temporary=False)
        if self.value() == "temporary":
            return queryset.filter(is_temporary=True, expires_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(Q(expires_at__lte=now))
        return queryset


@admin.register(Filter)
class FilterAdmin(admin.ModelAdmin):
    list_display = [
        "filter_text",
        "owner",
        "content_type",
        "intensity",
        "duration",
        "is_active",
        "expires_at",
        "created_at",
    ]
    list_filter = ["content_type", "intensity", ExpiryListFilter, "is_active"]
    search_fields = ["filter_text", "owner__user_id"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    actions = ["expire_now", "reactivate", "deactivate_expired"]

    @admin.action(description="Expire the selected filters now")
    def expire_now(self, request: HttpRequest, queryset: QuerySet[Filter]) -> None:
        count = queryset.update(is_active=False)
        self.message_user(request, f"{count} filter(s) expired.", messages.SUCCESS)

    @admin.action(description="Reactivate the selected filters (temporary ones restart)")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Filter]) -> None:
        for item in queryset:
            filter_update(filter=item, changes={"duration": item.duration})
        self.message_user(request, f"{queryset.count()} filter(s) reactivated.", messages.SUCCESS)

    @admin.action(description="Deactivate every expired filter")
    def deactivate_expired(self, request: HttpRequest, queryset: QuerySet[Filter]) -> None:
        self.message_user(request, f"{filters_expire()} filter(s) deactivated.", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at"]
    search_fields = ["user__user_id", "prefix", "name"]
    readonly_fields = ["key_hash", "prefix", "created_at", "last_used_at"]
    raw_id_fields = ["user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Tokens are shown once when issued; use `manage.py issue_token` to make one.
        return False
