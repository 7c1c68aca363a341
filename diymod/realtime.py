"""Pushes to a user's browsers: the one module that knows group names and event shapes.

Every socket of a user joins the group `user_group_name(user.pk)`; anything (a Celery task, a
service, a management command) reaches all of them, on every server process, with
`send_to_user(user.pk, ImageProcessed(...))`. Nothing else touches the channel layer (STYLE.md).

The channel-layer message is `{"type": "realtime.event", "frame": <the JSON object the browser
gets>}`; the consumer's `realtime_event` handler writes the frame to its socket unchanged, so
every socket of the user receives the same bytes, timestamp included.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

# The consumer method that receives pushes is named after this type (dots become underscores).
EVENT_MESSAGE_TYPE = "realtime.event"
# A push never holds a Celery task hostage: an unreachable Redis costs at most this long.
SEND_TIMEOUT_SECONDS = 2.0
# Channel-layer operations in flight per event loop (see `layer_call`).
LAYER_CONCURRENCY = 50
# A socket's failed layer receive (Redis down) is retried after this long, doubling up to max.
RECEIVE_RETRY_FIRST_SECONDS = 0.5
RECEIVE_RETRY_MAX_SECONDS = 5.0

# Tasks scheduled by `send_to_user` when called on an event loop's own thread; kept here because
# asyncio only holds weak references to running tasks.
_pending_sends: set[asyncio.Task[bool]] = set()
_layer_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def user_group_name(user_pk: int) -> str:
    """The channel-layer group of one user, from our primary key, never the client's string.

    (The client's `user_id` may hold any character; group names may not.)
    """
    return f"diymod.user.{int(user_pk)}"


def timestamp_now() -> str:
    return datetime.now(UTC).isoformat()


def wire_message(message_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A server → client message: payload fields both at the top level and under `data`.

    CONTRACT section 6: client B reads `message.data.*`, client A and the seed read top-level.
    """
    return {**payload, "type": message_type, "data": dict(payload)}


@dataclass(frozen=True)
class ImageProcessed:
    """A deferred image is ready (CONTRACT section 6, `image_processed`)."""

    message_type: ClassVar[str] = "image_processed"

    image_url: str  # exactly the string the client sent or the server emitted: clients key on it
    processed_value: str  # the absolute URL of the result
    filters: list[str]
    base64_url: str | None = None  # a `data:` URL, only for small results

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "image_url": self.image_url,
            "processed_value": self.processed_value,
            # Older clients read `result`, and read it as a URL string, not an object.
            "result": self.processed_value,
            "filters": list(self.filters),
        }
        if self.base64_url is not None:
            payload["base64_url"] = self.base64_url
        return payload


@dataclass(frozen=True)
class Notice:
    """A free-text message for the user's sockets (operators test delivery with it)."""

    message_type: ClassVar[str] = "notice"

    message: str

    def payload(self) -> dict[str, Any]:
        return {"message": self.message}


RealtimeEvent = ImageProcessed | Notice


def event_frame(event: RealtimeEvent, *, timestamp: str | None = None) -> dict[str, Any]:
    """The JSON object a browser receives for `event`."""
    payload = {**event.payload(), "timestamp": timestamp or timestamp_now()}
    return wire_message(event.message_type, payload)


def event_layer_message(event: RealtimeEvent) -> dict[str, Any]:
    """What goes on the channel layer for `event` (the frame is built once, at send time)."""
    return {"type": EVENT_MESSAGE_TYPE, "frame": event_frame(event)}


async def asend_to_user(user_pk: int, event: RealtimeEvent) -> bool:
    """Push `event` to every socket of the user; False (and a log line) when the layer failed.

    A failed push is never raised: the caller (often a Celery task that has already done the
    real work) carries on, and clients can still poll /get_img_result.
    """
    group = user_group_name(user_pk)
    try:
        layer = get_channel_layer()
        if layer is None:
            logger.error("realtime: no channel layer configured; push to %s dropped", group)
            return False
        message = event_layer_message(event)
        await asyncio.wait_for(layer_call(layer.group_send, group, message), SEND_TIMEOUT_SECONDS)
    except Exception:
        logger.warning("realtime: %s push to %s failed", event.message_type, group, exc_info=True)
        return False
    return True


def send_to_user(user_pk: int, event: RealtimeEvent) -> bool:
    """`asend_to_user` for sync code: Celery tasks, services, management commands, threads.

    - Called on an event loop's own thread (sync code called straight from async code), it
      cannot block: the push is scheduled on that loop and True means "scheduled".
    - In a process that serves sockets, the push runs on the serving loop (where the consumers
      live): the in-memory layer's queues belong to that loop and are not thread-safe, and the
      Redis layer's connections there are already warm.
    - Elsewhere (a Celery worker, a management command) it runs on one long-lived loop thread
      per process, so connections to Redis are reused instead of opened per push (which is
      what a bare `async_to_sync` would do: a new loop per call).
    """
    running = running_loop()
    if running is not None:
        task = running.create_task(asend_to_user(user_pk, event))
        _pending_sends.add(task)
        task.add_done_callback(_pending_sends.discard)
        return True
    future = asyncio.run_coroutine_threadsafe(asend_to_user(user_pk, event), sending_loop())
    try:
        return future.result(SEND_TIMEOUT_SECONDS + 1)
    except Exception:  # the loop went away or the wait outlived the send timeout
        future.cancel()
        logger.warning("realtime: push to user %s failed", user_pk, exc_info=True)
        return False


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class _SenderLoop:
    """One event loop on a daemon thread per process, created on first use (and again after a
    fork: Celery's prefork children do not inherit threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pid = 0

    def get(self) -> asyncio.AbstractEventLoop:
        with self.lock:
            if self.loop is None or self.pid != os.getpid() or self.loop.is_closed():
                self.loop = asyncio.new_event_loop()
                self.pid = os.getpid()
                threading.Thread(
                    target=self.loop.run_forever, name="diymod-realtime-sender", daemon=True
                ).start()
            return self.loop


_sender_loop = _SenderLoop()
# The loop this process serves sockets on, recorded when a socket joins its user's group.
_serving_loop: asyncio.AbstractEventLoop | None = None


def sending_loop() -> asyncio.AbstractEventLoop:
    serving = _serving_loop
    if serving is not None and serving.is_running():
        return serving
    return _sender_loop.get()


async def layer_call(operation: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run one channel-layer operation within this loop's concurrency cap.

    channels-redis draws each operation's connection from a pool of 100 that raises (not waits)
    when exhausted: a burst of reconnecting sockets (a server restart) would otherwise fail
    handshakes with "Too many connections".
    """
    loop = asyncio.get_running_loop()
    slots = _layer_slots.get(loop)
    if slots is None:
        slots = _layer_slots[loop] = asyncio.Semaphore(LAYER_CONCURRENCY)
    async with slots:  # the call starts only once a slot is free
        return await operation(*args)


async def user_socket_join(*, user_pk: int, channel_name: str) -> bool:
    """Subscribe one socket (its channel name) to the user's pushes; False when the layer
    failed (logged): the socket still works, it just misses pushes until it joins again."""
    global _serving_loop
    _serving_loop = asyncio.get_running_loop()
    group = user_group_name(user_pk)
    try:
        join = layer_call(get_channel_layer().group_add, group, channel_name)
        await asyncio.wait_for(join, SEND_TIMEOUT_SECONDS)
    except Exception:
        logger.warning("realtime: a socket could not join %s", group, exc_info=True)
        return False
    return True


def layer_receive_resilient(
    receive: Callable[[], Awaitable[dict[str, Any]]],
    *,
    recovered: Callable[[], Awaitable[bool]],
    failed: Callable[[], None] | None = None,
) -> Callable[[], Awaitable[dict[str, Any]]]:
    """A consumer's channel-layer `receive` that never raises.

    channels ends a consumer on the first failed receive, closing its socket: a Redis outage
    would drop every socket of the process, and with them the feeds in flight on them. This
    waits instead (0.5 s doubling to 5 s) and, before receiving again, calls `recovered()`
    (the consumer joins its group again: Redis may have come back empty) until it says True.
    `failed()` is called once when an outage begins (the consumer notes when, to find the
    pushes it may have missed).
    """

    async def resilient() -> dict[str, Any]:
        delay = RECEIVE_RETRY_FIRST_SECONDS
        failing = False
        while True:
            if failing:
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECEIVE_RETRY_MAX_SECONDS)
                if not await recovered():
                    continue
                logger.warning("realtime: channel layer back; receiving again")
                failing, delay = False, RECEIVE_RETRY_FIRST_SECONDS
            try:
                return await receive()
            except Exception as error:
                logger.warning("realtime: channel layer receive failed (%s); retrying", error)
                if not failing and failed is not None:
                    failed()
                failing = True

    return resilient


async def user_socket_leave(*, user_pk: int, channel_name: str) -> None:
    group = user_group_name(user_pk)
    try:
        leave = layer_call(get_channel_layer().group_discard, group, channel_name)
        await asyncio.wait_for(leave, SEND_TIMEOUT_SECONDS)
    except Exception:  # the group entry expires on its own (channels-redis group_expiry)
        logger.warning("realtime: a socket could not leave %s", group, exc_info=True)


# --- sockets per user -----------------------------------------------------------------------

# Open sockets per user in THIS process (DIYMOD_MAX_SOCKETS_PER_USER is a per-process limit: an
# exact count here never leaks the way a shared counter would when a process dies holding
# slots). All consumers of a process share one event loop; the lock covers sync callers.
_sockets_per_user: Counter[int] = Counter()
_sockets_lock = threading.Lock()


def user_socket_slot_take(*, user_pk: int, limit: int) -> bool:
    """Count one more socket for the user; False (nothing counted) when `limit` are open."""
    with _sockets_lock:
        if _sockets_per_user[user_pk] >= limit:
            return False
        _sockets_per_user[user_pk] += 1
        return True


def user_socket_slot_release(*, user_pk: int) -> None:
    with _sockets_lock:
        _sockets_per_user[user_pk] -= 1
        if _sockets_per_user[user_pk] <= 0:
            del _sockets_per_user[user_pk]
