"""The per-user WebSocket `/ws/<user_id>` (CONTRACT section 6).

Decisions worth knowing:
- Origin: a present Origin must be on the CORS allow-list (`diymod.origins.origin_allowed`).
  A MISSING Origin is accepted: browsers always send one, so a socket without it comes from a
  non-browser tool (the operator's checks, curl, a script), which could forge any Origin anyway;
  the Origin check guards against other web pages, not against tools. Identity is still
  enforced (a token in token mode).
- Identity: as for HTTP (DESIGN.md). A valid `?token=` (or `Authorization: Bearer`) wins and
  must belong to the user in the path; an invalid token is refused even in client-id mode; in
  token mode a token is required. Refusals close the handshake (daphne answers 403).
- Slow work (feeds, image look-ups) runs in worker threads as tasks, so pings and further
  requests are answered meanwhile; at most MAX_CONCURRENT_FEEDS feeds per socket run at once,
  extra ones get an `error` immediately (the client then falls back to HTTP).
- `wait_for_image` for an image nobody queued answers `error` {error: "no image job for this
  url", image_url}: an `image_processed` cannot be sent, and silence would leave the spinner
  waiting for nothing. A failed job answers `error` {error, image_url} the same way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, unquote

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from diymod import realtime
from diymod.errors import ApplicationError, Unauthorized
from diymod.origins import origin_allowed
from filters.authentication import bearer_token_parse, user_id_clean
from filters.models import User
from filters.selectors import token_user_get
from filters.services import user_resolve

logger = logging.getLogger(__name__)

MAX_CONCURRENT_FEEDS = 3
# A frame may carry a whole feed (DIYMOD_FEED_MAX_BYTES) plus its JSON envelope.
FRAME_OVERHEAD_BYTES = 64 * 1024
# Client A gives up after 90 s; answer well before, with the unmodified feed if need be.
FEED_GUARD_EXTRA_SECONDS = 10.0
# channels-redis forgets group members after a day (group_expiry); re-join well before that.
GROUP_REFRESH_SECONDS = 3600.0
CLOSE_ORIGIN_REFUSED = 4403
CLOSE_IDENTITY_REFUSED = 4401
NO_IMAGE_JOB = "no image job for this url"
IMAGE_FAILED = "image processing failed"


# Feeds get their own threads: a burst of slow feeds (model calls) must not starve the quick
# database work of handshakes and image look-ups, which use the default executor.
FEED_THREADS = 8
feed_executor = ThreadPoolExecutor(max_workers=FEED_THREADS, thread_name_prefix="diymod-ws-feed")
# Frames and replies this big are (de)serialised off the event loop: an 8 MB json.loads would
# otherwise pause every socket of the process for tens of milliseconds.
LARGE_FRAME_CHARACTERS = 256 * 1024


def threaded_db(function: Any, executor: ThreadPoolExecutor | None = None) -> Any:
    """`function` as a coroutine run in a worker thread with Django's connection hygiene.

    Worker threads, not the one shared "sync thread": work of different sockets runs side by
    side and a slow call never queues the others.
    """
    return database_sync_to_async(function, thread_sensitive=False, executor=executor)


def header_value(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin1")
    return None


def path_user_id(scope: dict[str, Any]) -> str:
    """The user id of `/ws/<user_id>[/]`, from the raw (still URL-encoded) path when available.

    The decoded path cannot tell `a%2Fb` from `a/b`; user ids may contain any character.
    """
    raw_path = scope.get("raw_path")
    if isinstance(raw_path, bytes) and raw_path.startswith(b"/ws/"):
        encoded = raw_path.decode("latin1").split("?", 1)[0][len("/ws/") :]
        return unquote(encoded.removesuffix("/"))
    return scope["url_route"]["kwargs"].get("user_id") or ""


def scope_token(scope: dict[str, Any]) -> str | None:
    """`?token=` (what browsers can send), else an `Authorization: Bearer` header (tools)."""
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    token = (query.get("token") or [""])[0].strip()
    return token or bearer_token_parse(header_value(scope, b"authorization") or "")


def scope_base_url(scope: dict[str, Any]) -> str | None:
    """The server's absolute URL as this socket reached it, for result image URLs."""
    host = header_value(scope, b"host")
    if not host:
        return None
    return f"{'https' if scope.get('scheme') == 'wss' else 'http'}://{host}"


def socket_user_resolve(*, claimed_user_id: str, raw_token: str | None) -> User:
    token_user = None
    if raw_token:
        token_user = token_user_get(raw_token=raw_token)
        if token_user is None:
            raise Unauthorized("Invalid or revoked token")
    return user_resolve(token_user=token_user, claimed_user_id=user_id_clean(claimed_user_id))


def message_payload(message: dict[str, Any]) -> dict[str, Any]:
    """The fields of a client message: top level (client A) merged with `data` (client B)."""
    data = message.get("data")
    if isinstance(data, str):  # client A sends some payloads as JSON text
        try:
            data = json.loads(data)
        except ValueError:
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


def feed_moderate_in_thread(*, user: User, url: str, body: str, base_url: str | None) -> Any:
    # Imported late: feed.services imports the analyzers; the socket module stays light.
    from feed.services import feed_moderate

    return feed_moderate(user=user, url=url, body=body, base_url=base_url)


def image_wait_in_thread(
    *, user: User, image_url: str, filter_texts: list[str], base_url: str | None
) -> realtime.ImageProcessed | str | None:
    """The ready event, NO_IMAGE_JOB, a failure message, or None while the job is pending."""
    from imaging.services import image_job_wait, image_processed_event

    job = image_job_wait(user=user, image_url=image_url, filter_texts=filter_texts)
    if job is None:
        return NO_IMAGE_JOB
    # Read the status AFTER joining the requesters: a job finishing in between either sees us
    # as a requester (and pushes) or is seen done here. Never neither.
    job.refresh_from_db()
    if job.status == "done":
        event = image_processed_event(job=job, filters=filter_texts, base_url=base_url)
        # Clients key on exactly the string they sent (CONTRACT section 6).
        return dataclasses.replace(event, image_url=image_url)
    if job.status == "failed":
        return IMAGE_FAILED
    return None


class UserSocketConsumer(AsyncJsonWebsocketConsumer):
    """One browser socket of one user; every socket of the user joins the user's group."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user: User | None = None
        self.joined_at = 0.0
        self.feed_tasks: set[asyncio.Task[None]] = set()
        self.other_tasks: set[asyncio.Task[None]] = set()

    async def connect(self) -> None:
        origin = header_value(self.scope, b"origin")
        if origin is not None and not origin_allowed(origin):
            logger.info("ws: refused origin %r", origin)
            await self.close(code=CLOSE_ORIGIN_REFUSED)
            return
        try:
            self.user = await threaded_db(socket_user_resolve)(
                claimed_user_id=path_user_id(self.scope), raw_token=scope_token(self.scope)
            )
        except ApplicationError as error:
            logger.info("ws: refused identity: %s", error.message)
            await self.close(code=CLOSE_IDENTITY_REFUSED)
            return
        await self.group_join()
        await self.accept()

    async def group_join(self) -> None:
        """Join the user's group. If the layer is down the socket still serves feeds and pings,
        and every later message retries the join (client B pings every 30 s)."""
        assert self.user is not None
        joined = await realtime.user_socket_join(
            user_pk=self.user.pk, channel_name=self.channel_name
        )
        self.joined_at = time.monotonic() if joined else -GROUP_REFRESH_SECONDS

    async def disconnect(self, code: int) -> None:
        for task in self.feed_tasks | self.other_tasks:
            task.cancel()
        if self.user is not None:
            await realtime.user_socket_leave(user_pk=self.user.pk, channel_name=self.channel_name)

    # --- frames in ----------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame_limit = settings.DIYMOD_FEED_MAX_BYTES + FRAME_OVERHEAD_BYTES
        raw = text_data if text_data is not None else bytes_data or b""
        if len(raw) > frame_limit:
            await self.error_send(f"Message too large: the limit is {frame_limit} bytes")
            return
        try:
            if len(raw) > LARGE_FRAME_CHARACTERS:
                message = await asyncio.to_thread(json.loads, raw)
            else:
                message = json.loads(raw)
        except ValueError as error:  # includes undecodable bytes
            await self.error_send(f"Invalid JSON: {error}")
            return
        if not isinstance(message, dict):
            await self.error_send("A message must be a JSON object with a `type`")
            return
        if time.monotonic() - self.joined_at > GROUP_REFRESH_SECONDS:
            await self.group_join()
        await self.receive_json(message)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        handlers = {
            "connection": self.on_connection,
            "ping": self.on_ping,
            "pong": self.on_pong,
            "process_feed": self.on_process_feed,
            "wait_for_image": self.on_wait_for_image,
        }
        message_type = content.get("type")
        handler = handlers.get(message_type) if isinstance(message_type, str) else None
        await (handler or self.on_unknown)(content)

    async def on_connection(self, content: dict[str, Any]) -> None:
        await self.reply(
            "connection_ack",
            {"message": "Connected to DIY-MOD", "timestamp": realtime.timestamp_now()},
        )

    async def on_ping(self, content: dict[str, Any]) -> None:
        await self.reply("pong", {"timestamp": realtime.timestamp_now()})

    async def on_pong(self, content: dict[str, Any]) -> None:
        return None  # the answer to a server ping needs no answer

    async def on_unknown(self, content: dict[str, Any]) -> None:
        message_type = content.get("type")
        await self.reply(
            "echo",
            {
                "message": f"Received message of type {message_type!r}",
                "timestamp": realtime.timestamp_now(),
            },
        )

    async def on_process_feed(self, content: dict[str, Any]) -> None:
        payload = message_payload(content)
        request_id = payload.get("requestId", payload.get("id"))
        if len(self.feed_tasks) >= MAX_CONCURRENT_FEEDS:
            await self.error_send(
                f"Too many feeds in progress on this socket (at most {MAX_CONCURRENT_FEEDS})",
                request_id=request_id,
            )
            return
        self.task_start(self.feed_answer(payload, request_id), self.feed_tasks)

    async def on_wait_for_image(self, content: dict[str, Any]) -> None:
        self.task_start(self.image_answer(message_payload(content)), self.other_tasks)

    def task_start(self, work: Any, tasks: set[asyncio.Task[None]]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    # --- slow work ----------------------------------------------------------------------------

    async def feed_answer(self, payload: dict[str, Any], request_id: Any) -> None:
        started = time.perf_counter()
        try:
            url, body = feed_request_parse(payload)
        except ApplicationError as error:
            await self.error_send(error.message, request_id=request_id)
            return
        try:
            result = await asyncio.wait_for(
                threaded_db(feed_moderate_in_thread, feed_executor)(
                    user=self.user, url=url, body=body, base_url=scope_base_url(self.scope)
                ),
                settings.DIYMOD_FEED_DEADLINE_SECONDS + FEED_GUARD_EXTRA_SECONDS,
            )
        except ApplicationError as error:
            await self.error_send(error.message, request_id=request_id)
            return
        except Exception as error:  # never lose the feed: give it back unmodified (CONTRACT)
            reason = "deadline exceeded" if isinstance(error, TimeoutError) else "internal error"
            logger.exception("ws: process_feed failed (%s); returning the feed unmodified", reason)
            await self.feed_reply(request_id, body, started, degraded_reason=reason)
            return
        await self.feed_reply(
            request_id,
            result.response,
            started,
            degraded_reason=result.degraded_reason if result.degraded else "",
            stats=result.stats,
        )

    async def feed_reply(
        self,
        request_id: Any,
        response: str,
        started: float,
        *,
        degraded_reason: str = "",
        stats: dict[str, Any] | None = None,
    ) -> None:
        payload: dict[str, Any] = {
            "requestId": request_id,
            "feed": {"response": response},
            "processingTime": round((time.perf_counter() - started) * 1000, 1),  # ms
            "degraded": bool(degraded_reason),
        }
        if degraded_reason:
            payload["degraded_reason"] = degraded_reason
        if stats:
            payload["stats"] = stats
        frame = realtime.wire_message("processing_response", payload)
        await self.send(text_data=await asyncio.to_thread(json.dumps, frame))

    async def image_answer(self, payload: dict[str, Any]) -> None:
        try:
            image_url, filter_texts = image_request_parse(payload)
            outcome = await threaded_db(image_wait_in_thread)(
                user=self.user,
                image_url=image_url,
                filter_texts=filter_texts,
                base_url=scope_base_url(self.scope),
            )
        except ApplicationError as error:
            await self.error_send(error.message)
            return
        except Exception:
            logger.exception("ws: wait_for_image failed")
            await self.error_send("image lookup failed", image_url=payload.get("image_url"))
            return
        if isinstance(outcome, realtime.ImageProcessed):
            await self.send_json(realtime.event_frame(outcome))
        elif isinstance(outcome, str):
            await self.error_send(outcome, image_url=image_url)
        # None: the job is pending; its `image_processed` arrives through the user's group.

    # --- frames out ---------------------------------------------------------------------------

    async def reply(self, message_type: str, payload: dict[str, Any]) -> None:
        await self.send_json(realtime.wire_message(message_type, payload))

    async def error_send(self, error: str, *, request_id: Any = None, **extra: Any) -> None:
        payload: dict[str, Any] = {"error": error, **extra}
        if request_id is not None:
            payload["requestId"] = request_id
        await self.reply("error", payload)

    async def realtime_event(self, message: dict[str, Any]) -> None:
        """A push from `diymod.realtime` (type `realtime.event`): the frame goes out as is."""
        await self.send_json(message["frame"])
