from __future__ import annotations

from django.urls import re_path

from filters.apis import FilterDetailApi, FilterListApi, RegisterApi

# A trailing slash never matters (CONTRACT section 2).
urlpatterns = [
    re_path(r"^filters/?$", FilterListApi.as_view(), name="filters"),
    re_path(r"^filters/(?P<filter_id>[0-9]{1,18})/?$", FilterDetailApi.as_view(), name="filter"),
    re_path(r"^auth/register/?$", RegisterApi.as_view(), name="auth-register"),
]
