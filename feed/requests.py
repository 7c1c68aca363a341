"""The feed request, read by one parser for both ways in: `POST /get_feed` (CONTRACT section 2)
and the socket's `process_feed` (CONTRACT section 6).

Both carry the intercepted URL and the raw feed text; they differ only where the contract does.
Over HTTP the text is at `data.feed_info.response`, `data` being an object (client B) or its
JSON text (client A), and a missing `feed_info` is refused. Over the socket the payload (the
frame's top level merged with its `data` by `message_payload`) holds `response` or
`feed_info.response`; its `platform` is not needed, the URL says it. A bad request raises
ApplicationError naming the field as that way in spells it: a 400 over HTTP, an `error` frame
keyed by the request id over the socket.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from diymod.errors import ApplicationError


@dataclass(frozen=True)
class FeedRequest:
    url: str
    body: str  # the raw feed text
    claimed_user_id: Any = None  # HTTP's `user_id`; a socket's user is the one of its path


@dataclass(frozen=True)
class RequestShape:
    """Where one way in keeps the feed text, and how its errors name the missing fields."""

    text_under_data: bool  # HTTP: in `data` (an object or JSON text), which needs `feed_info`
    url_missing: str
    text_missing: str


HTTP = RequestShape(
    text_under_data=True,
    url_missing="url: This field is required (the intercepted request URL).",
    text_missing="data.feed_info.response: must be a non-empty string.",
)
SOCKET = RequestShape(
    text_under_data=False,
    url_missing="data.url: the intercepted request URL is required",
    text_missing="data.response: the feed body (a string) is required",
)


def feed_request_parse(fields: Any, shape: RequestShape) -> FeedRequest:
    """The request in an HTTP body or a socket payload; ApplicationError naming what is wrong."""
    if not isinstance(fields, dict):
        raise ApplicationError("Request body must be a JSON object.")
    url = fields.get("url")
    if not isinstance(url, str) or not url:
        raise ApplicationError(shape.url_missing)
    if shape.text_under_data:
        text = feed_info_required(data_object(fields.get("data"))).get("response")
    else:
        text = feed_text_beside_url(fields)
    if not isinstance(text, str) or not text:
        raise ApplicationError(shape.text_missing)
    return FeedRequest(url=url, body=text, claimed_user_id=fields.get("user_id"))


def data_object(data: Any) -> Any:
    """`data` as sent, or parsed when client A sent it as JSON text."""
    if not isinstance(data, str):
        return data
    try:
        return json.loads(data)
    except ValueError:
        raise ApplicationError("data: not valid JSON.") from None
    except RecursionError:  # orjson refuses such a body; the stdlib parser overflows
        raise ApplicationError("data: nested too deeply.") from None


def feed_info_required(data: Any) -> dict[str, Any]:
    feed_info = data.get("feed_info") if isinstance(data, dict) else None
    if not isinstance(feed_info, dict):
        raise ApplicationError("data.feed_info: This field is required.")
    return feed_info


def feed_text_beside_url(payload: dict[str, Any]) -> Any:
    """A socket payload's feed text: `response` (client A), else `feed_info.response`."""
    text = payload.get("response")
    feed_info = payload.get("feed_info")
    if text is None and isinstance(feed_info, dict):
        text = feed_info.get("response")
    return text
