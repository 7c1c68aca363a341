"""WebSocket routes (CONTRACT section 6): `/ws/<user_id>` with or without a trailing slash."""

from __future__ import annotations

from django.urls import URLPattern, re_path

from feed.consumers import UserSocketConsumer

# `.*?`, not `[^/]+`: the path arrives URL-decoded and a user id may itself contain `/` (the
# consumer reads the exact id from the raw path when the server provides it). `/ws` with no id
# reaches the consumer too, which refuses it (or, with a token, takes the token's user) instead
# of the router failing with "No route found".
websocket_urlpatterns: list[URLPattern] = [
    re_path(r"^ws(?:/(?P<user_id>.*?))?/?$", UserSocketConsumer.as_asgi()),
]
