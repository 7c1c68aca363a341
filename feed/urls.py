from __future__ import annotations

from django.urls import re_path

from feed.apis import FeedApi

urlpatterns = [re_path(r"^get_feed/?$", FeedApi.as_view(), name="get-feed")]
