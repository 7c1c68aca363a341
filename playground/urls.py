from __future__ import annotations

from django.urls import path, re_path

from playground import views

app_name = "playground"

urlpatterns = [
    path("", views.playground_page, name="index"),
    re_path(r"^playground/samples/?$", views.sample_index, name="samples"),
    re_path(
        r"^playground/samples/(?P<name>[a-z0-9-]{1,40})/?$", views.sample_detail, name="sample"
    ),
    path("playground/images/<slug:name>.jpg", views.sample_image, name="image"),
]
