from __future__ import annotations

from django.urls import URLPattern, re_path

from chat.apis import ChatApi, ChatImageApi

# CONTRACT section 2: a trailing slash must not matter.
urlpatterns: list[URLPattern] = [
    re_path(r"^chat/?$", ChatApi.as_view(), name="chat"),
    re_path(r"^chat/image/?$", ChatImageApi.as_view(), name="chat-image"),
]
