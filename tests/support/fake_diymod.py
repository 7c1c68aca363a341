"""A scripted DIY-MOD for testing `diymod.check` step by step, without a network.

HTTP goes through an `httpx.MockTransport`, the socket through `FakeSocket`; both are handed
to `CheckClient(transport=..., connector=...)`. Each knob makes the fake misbehave in one way
a real deployment can (an unmarked image, a disagreeing /get_img_result, a silent worker...).

    fake = FakeDiymod()
    report = asyncio.run(check_run_async(options, client=fake.client(options)))
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from diymod.check.client import CheckClient
from diymod.check.report import CheckOptions
from tests.support.image_server import image_bytes_make

RESULT_URL = "http://media.fake/media/images/result.jpg"
DEFERRED = {"type": "cartoonish", "status": "DEFERRED", "filters": ["spiders"]}


class FakeSocket:
    """The server side of one socket: replies are queued as text frames for the client."""

    def __init__(self, fake: FakeDiymod) -> None:
        self.fake = fake
        self.frames: asyncio.Queue[str | None] = asyncio.Queue()
        self.close_code: int | None = None
        self.close_reason = ""

    def push(self, message: dict[str, Any]) -> None:
        """Send like the server: fields at the top level and under `data` (CONTRACT 6)."""
        payload = {key: value for key, value in message.items() if key != "type"}
        self.frames.put_nowait(json.dumps({**message, "data": payload}))

    async def send(self, text: str) -> None:
        message = json.loads(text)
        self.fake.received.append(message)
        for reply in self.fake.socket_replies(message):
            self.push(reply)

    def __aiter__(self) -> FakeSocket:
        return self

    async def __anext__(self) -> str:
        frame = await self.frames.get()
        if frame is None:
            raise StopAsyncIteration
        return frame

    async def close(self) -> None:
        self.close_code = 1000
        self.frames.put_nowait(None)


@dataclass
class FakeDiymod:
    image_marked: bool = True
    push_on_feed: bool = False  # image_processed arrives before the client asks (eager jobs)
    wait_reply: str = "image_processed"  # or "error", or "nothing" (no worker)
    result_url: str = RESULT_URL
    img_result_url: str | None = None  # what /get_img_result says; default: result_url
    img_result_status: str = "COMPLETED"
    result_body: bytes = field(default_factory=lambda: image_bytes_make(32, 24))
    feed_error: str | None = None  # process_feed answered with `error`
    server_ping: bool = False  # the server pings the client right after connection_ack
    gallery_src: bool = True  # a marked lazy gallery slide gets `src` (False: the old bug)
    received: list[dict[str, Any]] = field(default_factory=list)
    deleted_filters: list[str] = field(default_factory=list)
    socket: FakeSocket | None = None

    def client(self, options: CheckOptions) -> CheckClient:
        return CheckClient(
            base_url=options.url,
            user_id=options.user_id,
            token=options.token,
            timeout=options.step_timeout,
            transport=httpx.MockTransport(self.http_handle),
            connector=self.connect,
        )

    async def connect(self, url: str, **kwargs: Any) -> FakeSocket:
        self.socket = FakeSocket(self)
        return self.socket

    # --- the socket ---------------------------------------------------------------------------

    def socket_replies(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        kind, data = message.get("type"), message.get("data") or {}
        if kind == "connection":
            replies = [{"type": "connection_ack", "message": "hi", "timestamp": "t"}]
            return replies + ([{"type": "ping", "timestamp": "t"}] if self.server_ping else [])
        if kind == "ping":
            return [{"type": "pong", "timestamp": "t"}]
        if kind == "process_feed":
            return self.feed_replies(message)
        if kind == "wait_for_image":
            return self.wait_replies(data["image_url"])
        return []

    def feed_replies(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        request_id = message.get("requestId")
        if self.feed_error:
            return [{"type": "error", "requestId": request_id, "error": self.feed_error}]
        feed = {"response": message["data"]["response"]}
        return [{"type": "processing_response", "requestId": request_id, "feed": feed}]

    def wait_replies(self, image_url: str) -> list[dict[str, Any]]:
        if self.wait_reply == "error":
            return [{"type": "error", "error": "image processing failed", "image_url": image_url}]
        if self.wait_reply == "nothing":
            return []
        return [self.image_processed(image_url)]

    def image_processed(self, image_url: str) -> dict[str, Any]:
        return {
            "type": "image_processed",
            "image_url": image_url,
            "processed_value": self.result_url,
            "result": self.result_url,
            "filters": ["spiders"],
        }

    # --- HTTP ---------------------------------------------------------------------------------

    def http_handle(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path.rstrip("/"), request.method
        if str(request.url) == self.result_url:
            return httpx.Response(200, content=self.result_body)
        if path == "/ping":
            return httpx.Response(200, json={"status": "success", "message": "pong"})
        if path == "/healthz":
            return httpx.Response(200, json={"status": "success", "checks": {"database": "ok"}})
        if path == "/filters" and method == "POST":
            return httpx.Response(200, json={"status": "success", "filter_id": 7})
        if path.startswith("/filters/") and method == "DELETE":
            self.deleted_filters.append(path.rsplit("/", 1)[1])
            return httpx.Response(200, json={"status": "success", "message": "deleted"})
        if path == "/get_feed" and method == "POST":
            return self.get_feed_answer(json.loads(request.content))
        if path == "/get_img_result":
            return self.img_result_answer(parse_qs(urlsplit(str(request.url)).query))
        return httpx.Response(404, json={"status": "error", "message": "Not found"})

    def get_feed_answer(self, body: dict[str, Any]) -> httpx.Response:
        document = body["data"]["feed_info"]["response"]
        if self.image_marked:
            document = self.feed_mark(document)
        tags = [tag for tag in re.findall(r"<img [^>]*>", document) if "diy-mod-image" in tag]
        marked = [found.group(1) for tag in tags if (found := re.search(r' src="([^"]+)"', tag))]
        if self.push_on_feed and self.socket is not None:
            for src in dict.fromkeys(marked):  # each marked image once, as a server pushes
                self.socket.push(self.image_processed(html.unescape(src)))
        return httpx.Response(200, json={"status": "success", "feed": {"response": document}})

    def feed_mark(self, document: str) -> str:
        attribute = html.escape(json.dumps(DEFERRED), quote=True)
        document = document.replace(
            'class="i18n-post-media-img"',
            f'class="i18n-post-media-img" diy-mod-image="{attribute}"',
        )
        document = document.replace(
            '<img class="media-lightbox-img" src=',
            f'<img class="media-lightbox-img" diy-mod-image="{attribute}" src=',
        )
        slide_src = r'src="\1" data-lazy-src="\1"' if self.gallery_src else r'data-lazy-src="\1"'
        document = re.sub(
            r'(?<=<img class="media-lightbox-img" )data-lazy-src="([^"]*)"',
            f'{slide_src} diy-mod-image="{attribute}"',
            document,
        )

        return re.sub(
            r'(<a slot="title"[^>]*>)([^<]*)</a>',
            r"\1__OVERLAY_START__Careful|\2__OVERLAY_END__</a>",
            document,
        )

    def img_result_answer(self, query: dict[str, list[str]]) -> httpx.Response:
        if self.img_result_status != "COMPLETED":
            return httpx.Response(200, json={"status": self.img_result_status})
        value = self.img_result_url or self.result_url
        return httpx.Response(200, json={"status": "COMPLETED", "processed_value": value})
