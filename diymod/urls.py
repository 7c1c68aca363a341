from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from diymod.health import HealthApi, PingApi
from diymod.observability import metrics_view

handler400 = "diymod.errors.json_bad_request"
handler404 = "diymod.errors.json_not_found"
handler500 = "diymod.errors.json_server_error"

urlpatterns = [
    re_path(r"^ping/?$", PingApi.as_view(), name="ping"),
    re_path(r"^healthz/?$", HealthApi.as_view(), name="healthz"),
    re_path(r"^metrics/?$", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^redoc/?$", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("filters.urls")),
    path("", include("feed.urls")),
    path("", include("imaging.urls")),
    path("", include("chat.urls")),
    path("", include("playground.urls")),
]
