"""The picture `diymod_check --full` serves to the server under test.

A threaded stdlib HTTP server on a daemon thread, answering one unguessable path with a
generated JPEG (and 404 otherwise), counting how often it was fetched: when the job fails,
"the server never asked for the image" points straight at its SSRF guard.
"""

from __future__ import annotations

import secrets
import socket
import threading
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from types import TracebackType

from PIL import Image, ImageDraw

IMAGE_SIZE = (640, 480)


@lru_cache(maxsize=1)
def check_jpeg_bytes() -> bytes:
    """A 640x480 JPEG with gradients and hard edges, so any transformation visibly changes it."""
    width, height = IMAGE_SIZE
    ramp = Image.linear_gradient("L")
    red = ramp.rotate(90).resize(IMAGE_SIZE)
    green = ramp.resize(IMAGE_SIZE)
    blue = Image.new("L", IMAGE_SIZE, 90)
    image = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 3, height // 3, 2 * width // 3, 2 * height // 3), fill=(30, 20, 10))
    for leg in range(8):
        y = height // 3 + leg * height // 24
        draw.line((width // 6, y, 5 * width // 6, y + height // 12), fill=(10, 10, 10), width=6)
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


class CheckImageHandler(BaseHTTPRequestHandler):
    server: CheckImageHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the check reports fetches through `CheckImageServer.fetch_count`."""

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != self.server.image_path:
            self.body_send(404, b"not found", "text/plain")
            return
        self.server.fetch_record()
        self.body_send(200, check_jpeg_bytes(), "image/jpeg")

    def body_send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the fetcher gave up: nothing to tell it


class CheckImageHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), CheckImageHandler)
        # A fresh path per run: a result cached by an earlier run cannot stand in for this one.
        self.image_path = f"/diymod-check/{secrets.token_hex(8)}.jpg"
        self.fetches = 0
        self._lock = threading.Lock()

    def fetch_record(self) -> None:
        with self._lock:
            self.fetches += 1


class CheckImageServer:
    """`with CheckImageServer("127.0.0.1", 0) as server: server.image_url`"""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.httpd = CheckImageHTTPServer(host, port)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, name="diymod-check-image", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def host_port(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def image_url(self) -> str:
        return f"http://{self.host_port}{self.httpd.image_path}"

    @property
    def fetch_count(self) -> int:
        return self.httpd.fetches

    def start(self) -> CheckImageServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> CheckImageServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
