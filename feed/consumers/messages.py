"""Reading client messages: both client shapes (CONTRACT section 6), and their payloads."""

from __future__ import annotations

import json
from typing import Any

from diymod.errors import ApplicationError


def message_payload(message: dict[str, Any]) -> dict[str, Any]:
    """The fields of a client message: top level (client A) merged with `data` (client B)."""
    data = message.get("data")
    if isinstance(data, str):  # client A sends some payloads as JSON text
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            data = None
    payload = {key: value for key, value in message.items() if key not in ("type", "data")}
    if isinstance(data, dict):
        payload.update(data)
    return payload


def feed_request_parse(payload: dict[str, Any]) -> tuple[str, str]:
    """`(url, body)` of a process_feed payload {url, platform, response}; the platform comes
    from the URL (CONTRACT section 2), so the client's `platform` is not needed."""
    body = payload.get("response")
    feed_info = payload.get("feed_info")
    if body is None and isinstance(feed_info, dict):
        body = feed_info.get("response")
    url = payload.get("url")
    if not isinstance(url, str) or not url:
        raise ApplicationError("data.url: the intercepted request URL is required")
    if not isinstance(body, str) or not body:
        raise ApplicationError("data.response: the feed body (a string) is required")
    return url, body


def image_request_parse(payload: dict[str, Any]) -> tuple[str, list[str]]:
    image_url = payload.get("image_url")
    if not isinstance(image_url, str) or not image_url:
        raise ApplicationError("data.image_url is required")
    filters = payload.get("filters") or []
    if isinstance(filters, str):  # a JSON array as text, as /get_img_result takes it
        try:
            filters = json.loads(filters)
        except ValueError:
            filters = [filters]
    if not isinstance(filters, list):
        filters = [filters]
    return image_url, [str(text) for text in filters if str(text).strip()]
