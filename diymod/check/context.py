"""What one check run carries from step to step, and small helpers every step uses.

A step takes the context and returns a one-line detail when it passed; it raises `StepFailed`
(expected vs. got) when it did not.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from diymod.check.client import CheckClient, excerpt, step_failed
from diymod.check.image_server import CheckImageServer
from diymod.check.report import CheckOptions


@dataclass
class CheckContext:
    """What one run carries from step to step."""

    options: CheckOptions
    client: CheckClient
    exits: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    image_server: CheckImageServer | None = None
    image_url: str = ""
    filter_id: int | None = None
    result_url: str = ""
    feed_sent_at: float | None = None
    end_to_end_ms: float | None = None


Step = Callable[[CheckContext], Awaitable[str]]


def check_id_make(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def since_ms(started: float | None) -> float:
    return 0.0 if started is None else (time.perf_counter() - started) * 1000


def of_type(message_type: str) -> Callable[[dict[str, Any]], bool]:
    return lambda fields: fields.get("type") == message_type


def feed_response_get(fields: dict[str, Any], where: str) -> str:
    """`feed.response` of a /get_feed answer or a processing_response: a non-empty string."""
    feed = fields.get("feed")
    returned = feed.get("response") if isinstance(feed, dict) else None
    if not isinstance(returned, str) or not returned:
        raise step_failed(f"feed.response (a non-empty string) in {where}", excerpt(str(fields)))
    return returned


def feed_intact_check(returned: str, post_id: str) -> None:
    """The post and Reddit's own paging element must survive (CONTRACT section 3)."""
    missing = [
        part for part in (post_id, "<shreddit-post", "faceplate-partial") if part not in returned
    ]
    if missing:
        raise step_failed(
            "the feed back intact", f"{', '.join(missing)} missing: {excerpt(returned)}"
        )
