"""The feed's deadline, visible to the analyzers without threading it through every call.

`feed.services` may wrap one feed's work in
`feed_deadline(started + settings.DIYMOD_FEED_DEADLINE_SECONDS)`; the OpenAI analyzer then keeps
its model calls inside what is left of it. Without it each analyzer call budgets from its own
start (a share of DIYMOD_FEED_DEADLINE_SECONDS).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_feed_deadline: ContextVar[float | None] = ContextVar("feed_deadline", default=None)


@contextmanager
def feed_deadline(deadline: float) -> Iterator[None]:
    """Within the block, model work ends by `deadline` (a `time.monotonic()` value)."""
    token = _feed_deadline.set(deadline)
    try:
        yield
    finally:
        _feed_deadline.reset(token)


def feed_deadline_get() -> float | None:
    return _feed_deadline.get()
