from __future__ import annotations

import re

from django.conf import settings
from django.urls import URLPattern, re_path

from imaging.apis import ImageResultApi, image_result_file
from imaging.storage import RESULT_DIRECTORY


def result_files_pattern() -> str:
    """`media/images/<path>` for MEDIA_URL "/media/" (imaging/storage.py builds the same URLs;
    the URLconf loads after settings, so reading MEDIA_URL here is safe)."""
    prefix = str(settings.MEDIA_URL).strip("/")
    return rf"^{re.escape(prefix)}/{RESULT_DIRECTORY}/(?P<path>.+)$"


# A trailing slash never matters (CONTRACT section 2).
urlpatterns: list[URLPattern] = [
    re_path(r"^get_img_result/?$", ImageResultApi.as_view(), name="get-img-result"),
    re_path(result_files_pattern(), image_result_file, name="image-result-file"),
]
