"""WebSocket routes (CONTRACT section 6); the consumer is added by the realtime work."""

from __future__ import annotations

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
