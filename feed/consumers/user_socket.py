"""The consumer of `/ws/<user_id>`; the decisions it implements are listed in the package."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from diymod import realtime
from diymod.errors import ApplicationError
from diymod.observability import OPEN_SOCKETS
from diymod.origins import origin_allowed
from feed.consumers import work
from feed.consumers.messages import image_request_parse, message_payload
from feed.consumers.scope import (
    HostRefused,
    header_value,
    path_user_id,
    scope_base_url,
    scope_host_validated,
    scope_token,
    socket_user_resolve,
)
from feed.requests import SOCKET, feed_request_parse
from filters.models import User

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
# Host not in ALLOWED_HOSTS (Django's HTTP answer would be 400): it would poison result URLs.
CLOSE_HOST_REFUSED = 4400
# More than DIYMOD_MAX_SOCKETS_PER_USER sockets of one user on this process.
CLOSE_TOO_MANY_SOCKETS = 4429
# Frames and replies this big are (de)serialised off the event loop: an 8 MB json.loads would
# otherwise pause every socket of the process for tens of milliseconds.
LARGE_FRAME_CHARACTERS = 256 * 1024
# Pending waits remembered per socket for re-answering after a layer outage (a page's worth).
MAX_IMAGE_WAITS = 500
# Results this socket was told (image_url, result path), newest last: a result re-found
# after an outage, or pushed twice, reaches the browser once.
MAX_TOLD_RESULTS = 2000
# Pushes attempted shortly before the socket noticed the outage may have failed too.
OUTAGE_LOOKBACK = timedelta(seconds=10)


class UserSocketConsumer(AsyncJsonWebsocketConsumer):
    """One browser socket of one user; every socket of the user joins the user's group."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user: User | None = None
        self.joined_at = 0.0
        self.feed_tasks: set[asyncio.Task[None]] = set()
        self.other_tasks: set[asyncio.Task[None]] = set()
        # Images this socket waits for (url -> filters), answered again after a layer outage.
        self.image_waits: dict[str, list[str]] = {}
        self.told: OrderedDict[tuple[str, str], None] = OrderedDict()
        self.outage_since: datetime | None = None
        self.slot_taken = False
        self.socket_counted = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Every way a socket ends (closed by either side, a crash, a cancelled app) ends here.
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.socket_counted:
                self.socket_counted = False
                OPEN_SOCKETS.dec()
            if self.slot_taken and self.user is not None:  # a crash skipped disconnect()
                self.slot_taken = False
                realtime.user_socket_slot_release(user_pk=self.user.pk)

    @property
    def channel_receive(self) -> Any:
        return self._channel_receive

    @channel_receive.setter
    def channel_receive(self, receive: Any) -> None:
        # channels sets this in __call__; a failed receive would end the consumer and the socket.
        self._channel_receive = realtime.layer_receive_resilient(
            receive, recovered=self.layer_recovered, failed=self.layer_failed
        )

    def layer_failed(self) -> None:
        self.outage_since = timezone.now() - OUTAGE_LOOKBACK

    async def layer_recovered(self) -> bool:
        """After a layer outage: join again, answer the waits whose push was lost, and tell
        of every result of this user finished since the outage began (the socket may never
        have sent a wait: client B's feeds come over HTTP). `told` keeps it to once each."""
        await self.group_join()
        if self.joined_at < 0:
            return False
        for image_url, filter_texts in list(self.image_waits.items()):
            payload = {"image_url": image_url, "filters": filter_texts}
            self.task_start(self.image_answer(payload, recheck=True), self.other_tasks)
        if self.outage_since is not None:
            since, self.outage_since = self.outage_since, None
            self.task_start(self.missed_results_send(since), self.other_tasks)
        return True

    async def missed_results_send(self, since: datetime) -> None:
        try:
            events = await work.threaded_db(work.image_results_missed_in_thread)(
                user=self.user, since=since, base_url=scope_base_url(self.scope)
            )
        except Exception:
            logger.exception("ws: could not look up the results missed during an outage")
            return
        for event in events:
            await self.image_processed_send(realtime.event_frame(event))

    async def connect(self) -> None:
        origin = header_value(self.scope, b"origin")
        if origin is not None and not origin_allowed(origin):
            logger.info("ws: refused origin %r", origin)
            await self.close(code=CLOSE_ORIGIN_REFUSED)
            return
        try:
            scope_host_validated(self.scope)
        except HostRefused as error:
            logger.warning("ws: refused Host %r (not in ALLOWED_HOSTS)", str(error))
            await self.close(code=CLOSE_HOST_REFUSED)
            return
        try:
            self.user = await work.threaded_db(socket_user_resolve)(
                claimed_user_id=path_user_id(self.scope), raw_token=scope_token(self.scope)
            )
        except ApplicationError as error:
            logger.info("ws: refused identity: %s", error.message)
            await self.close(code=CLOSE_IDENTITY_REFUSED)
            return
        limit = settings.DIYMOD_MAX_SOCKETS_PER_USER
        if not realtime.user_socket_slot_take(user_pk=self.user.pk, limit=limit):
            logger.warning("ws: user %s already has %s sockets here; refused", self.user.pk, limit)
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        self.slot_taken = True
        await self.group_join()
        await self.accept()
        self.socket_counted = True
        OPEN_SOCKETS.inc()

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
        if self.slot_taken and self.user is not None:
            self.slot_taken = False
            realtime.user_socket_slot_release(user_pk=self.user.pk)
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
        except RecursionError:
            await self.error_send("Invalid JSON: nested too deeply")
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
            feed_request = feed_request_parse(payload, SOCKET)
        except ApplicationError as error:
            await self.error_send(error.message, request_id=request_id)
            return
        url, body = feed_request.url, feed_request.body
        # Set when this answer is no longer awaited (socket closed, guard expired): the thread
        # cannot be interrupted, but the analysis stops at its next step.
        cancelled = threading.Event()
        try:
            result = await asyncio.wait_for(
                work.threaded_db(work.feed_moderate_in_thread, work.feed_executor)(
                    user=self.user,
                    url=url,
                    body=body,
                    base_url=scope_base_url(self.scope),
                    cancelled=cancelled,
                ),
                settings.DIYMOD_FEED_DEADLINE_SECONDS + FEED_GUARD_EXTRA_SECONDS,
            )
        except ApplicationError as error:
            await self.error_send(error.message, request_id=request_id)
            return
        except Exception as error:  # never lose the feed: give it back unmodified (CONTRACT)
            reason = "deadline exceeded" if isinstance(error, TimeoutError) else "internal error"
            logger.exception("ws: process_feed failed (%s); returning the feed unmodified", reason)
            unmodified = await asyncio.to_thread(work.feed_unmodified_in_thread, url, body)
            await self.feed_reply(request_id, unmodified, started, degraded_reason=reason)
            return
        finally:
            cancelled.set()
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
            "processingTime": round((time.perf_counter() - started) * 1000, 1),  # ms
            "degraded": bool(degraded_reason),
        }
        if degraded_reason:
            payload["degraded_reason"] = degraded_reason
        if stats:
            payload["stats"] = stats
        frame = realtime.wire_message("processing_response", payload)
        # The feed goes under `data` only (CONTRACT section 6): a copy at the top level would
        # double a multi-megabyte frame, and no client reads it there.
        frame["data"]["feed"] = {"response": response}
        await self.send(text_data=await asyncio.to_thread(json.dumps, frame))

    async def image_answer(self, payload: dict[str, Any], *, recheck: bool = False) -> None:
        try:
            image_url, filter_texts = image_request_parse(payload)
            outcome = await work.threaded_db(work.image_wait_in_thread)(
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
        if outcome is None:  # pending: its `image_processed` arrives through the user's group
            if len(self.image_waits) < MAX_IMAGE_WAITS:
                self.image_waits[image_url] = filter_texts
            return
        if recheck and image_url not in self.image_waits:
            return  # its push arrived while we looked: told once is enough
        self.image_waits.pop(image_url, None)
        if isinstance(outcome, realtime.ImageProcessed):
            await self.image_processed_send(realtime.event_frame(outcome), again=not recheck)
        else:
            await self.error_send(outcome, image_url=image_url)

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
        frame = message["frame"]
        if frame.get("type") == realtime.ImageProcessed.message_type:
            self.image_waits.pop(frame.get("image_url"), None)
            await self.image_processed_send(frame)
            return
        await self.send_json(frame)

    async def image_processed_send(self, frame: dict[str, Any], *, again: bool = False) -> None:
        """Send an `image_processed` frame unless this socket was told that result already
        (a push re-found after an outage, or pushed twice). `again`: an explicit
        `wait_for_image` is always answered (the client asked, maybe after a reload)."""
        # The result's path, not its whole URL: the same result reaches a user under the base
        # of their request or of this socket, and is still one telling.
        key = (str(frame.get("image_url")), urlsplit(str(frame.get("processed_value"))).path)
        if key in self.told and not again:
            return
        self.told[key] = None
        self.told.move_to_end(key)
        while len(self.told) > MAX_TOLD_RESULTS:
            self.told.popitem(last=False)
        await self.send_json(frame)
