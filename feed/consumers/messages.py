"""Reading client messages: both client shapes (CONTRACT section 6), and their payloads.

A `process_feed` payload is read by `feed.requests`, the parser `POST /get_feed` uses too.
"""

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
