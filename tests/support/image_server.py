"""A local image HTTP server for tests and benchmarks (threaded stdlib, 127.0.0.1, port 0).

    with ImageServer() as server:
        url = server.url("/image.jpg?w=1024&h=768")

Routes (all GET; query parameters optional):
- /image.jpg, .png, .gif, .webp, .avif, .mpo  ?w=&h=&seed=  a generated picture;
  `alpha=1` (png) adds transparency, `orientation=6` (jpg) adds an EXIF orientation tag,
  `delay=` seconds to wait before answering (slow image for kill-mid-job tests).
- /redirect?to=<url>&status=302   a redirect to `to` (absolute or relative).
- /chain?n=3                      n redirects in a row, ending at /image.jpg.
- /slow?delay=2                   sleeps `delay` seconds, then answers an image.
- /trickle?bytes=&interval=       sends one byte every `interval` seconds.
- /huge?bytes=N                   N bytes with an honest Content-Length.
- /huge-stream?bytes=N            N bytes with no Content-Length (close-delimited).
- /text                           a text/plain answer.
- /fake-image                     text served as image/jpeg.
- /bomb?w=&h=                     a tiny PNG whose header claims w x h pixels.
- /status?code=503                an empty answer with that status.
- /gate?key=k                     holds the answer until `server.gate_open("k")` (30 s at most),
                                  then an image: "the fetch is in flight" without timing.
- /flaky?fail=2&key=k             503 for the first `fail` requests with that key, then an image
                                  (w, h, delay as for /image.jpg).

Every request is recorded in `server.requests` (path with query, Host header) for assertions.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Callable
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from PIL import Image

FORMATS = {
    "jpg": "JPEG",
    "png": "PNG",
    "gif": "GIF",
    "webp": "WEBP",
    "avif": "AVIF",
    "mpo": "MPO",
}
CONTENT_TYPES = {
    "AVIF": "image/avif",
    "MPO": "image/jpeg",
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}


def picture_make(width: int, height: int, *, seed: int = 0, alpha: bool = False) -> Image.Image:
    """A deterministic picture with gradients, blocks and sharp edges, so that every transform
    has something visible to change."""
    x = Image.linear_gradient("L").resize((width, height))
    y = x.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    blue = Image.new("L", (width, height), (seed * 37) % 256)
    image = Image.merge("RGB", (x, y, blue))
    block = Image.new("RGB", (max(1, width // 4), max(1, height // 4)), (255, 255, 255))
    image.paste(block, (width // 8, height // 8))
    image.paste((0, 0, 0), (width // 2, height // 2, width // 2 + max(1, width // 5), height - 1))
    # A fine checkerboard in the lower-left quarter: detail that blur and pixelate must destroy.
    quarter = (max(1, width // 2), max(1, height // 2))
    image.paste(checkerboard_make(quarter, cell=4).convert("RGB"), (0, height - quarter[1]))
    if alpha:
        mask = Image.new("L", (width, height), 255)
        mask.paste(0, (0, 0, max(1, width // 3), max(1, height // 3)))
        image.putalpha(mask)
    return image


def checkerboard_make(size: tuple[int, int], *, cell: int) -> Image.Image:
    columns, rows = -(-size[0] // cell), -(-size[1] // cell)
    small = Image.new("L", (columns, rows))
    small.putdata([255 * ((x + y) % 2) for y in range(rows) for x in range(columns)])
    return small.resize((columns * cell, rows * cell), Image.Resampling.NEAREST).crop(
        (0, 0, *size)
    )


@lru_cache(maxsize=256)
def image_bytes_make(
    width: int = 64,
    height: int = 48,
    image_format: str = "JPEG",
    *,
    seed: int = 0,
    alpha: bool = False,
    orientation: int | None = None,
) -> bytes:
    image = picture_make(width, height, seed=seed, alpha=alpha and image_format != "JPEG")
    buffer = BytesIO()
    options: dict = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation  # Orientation
        exif[0x010F] = "DIY-MOD test camera"  # Make: metadata a transform must drop
        options["exif"] = exif.tobytes()
    if image_format == "MPO":  # a phone-camera JPEG: a second frame after the first
        options.update(
            save_all=True, append_images=[image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
        )
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def png_bomb_make(width: int, height: int) -> bytes:
    """A valid-looking PNG header that claims a huge canvas, with a tiny body."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    body = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


class ImageRequestHandler(BaseHTTPRequestHandler):
    server: ImageHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read `server.requests` instead of stderr."""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        self.server.record(self.path, self.headers.get("Host", ""))
        route = self.routes().get(parts.path)
        if route is None and parts.path.startswith("/image."):
            route = self.image_send
        if route is None:
            self.plain_send(404, b"not found")
            return
        try:
            route(query)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (size cap, timeout): exactly what some tests provoke

    def routes(self) -> dict[str, Callable[[dict[str, str]], None]]:
        return {
            "/redirect": self.redirect_send,
            "/chain": self.chain_send,
            "/slow": self.slow_send,
            "/trickle": self.trickle_send,
            "/huge": self.huge_send,
            "/huge-stream": self.huge_stream_send,
            "/text": lambda query: self.plain_send(200, b"hello, not an image"),
            "/fake-image": lambda query: self.plain_send(200, b"<html>no</html>", "image/jpeg"),
            "/bomb": self.bomb_send,
            "/status": lambda query: self.plain_send(int(query.get("code", "500")), b""),
            "/flaky": self.flaky_send,
            "/gate": self.gate_send,
        }

    def plain_send(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def image_send(self, query: dict[str, str]) -> None:
        time.sleep(float(query.get("delay", "0")))
        image_format = FORMATS.get(urlsplit(self.path).path.rsplit(".", 1)[-1], "JPEG")
        orientation = int(query["orientation"]) if "orientation" in query else None
        body = image_bytes_make(
            int(query.get("w", "64")),
            int(query.get("h", "48")),
            image_format,
            seed=int(query.get("seed", "0")),
            alpha=query.get("alpha") == "1",
            orientation=orientation,
        )
        self.plain_send(200, body, CONTENT_TYPES[image_format])

    def gate_send(self, query: dict[str, str]) -> None:
        self.server.gate(query.get("key", "")).wait(timeout=30)
        self.image_send(query)

    def flaky_send(self, query: dict[str, str]) -> None:
        seen = self.server.count(f"flaky:{query.get('key', '')}")
        if seen <= int(query.get("fail", "1")):
            self.plain_send(503, b"try again later")
        else:
            self.image_send(query)

    def redirect_send(self, query: dict[str, str]) -> None:
        self.send_response(int(query.get("status", "302")))
        self.send_header("Location", query.get("to", "/image.jpg"))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def chain_send(self, query: dict[str, str]) -> None:
        left = int(query.get("n", "1"))
        location = f"/chain?n={left - 1}" if left > 1 else "/image.jpg"
        self.redirect_send({"to": location})

    def slow_send(self, query: dict[str, str]) -> None:
        time.sleep(float(query.get("delay", "2")))
        self.image_send({})

    def trickle_send(self, query: dict[str, str]) -> None:
        total, interval = int(query.get("bytes", "100")), float(query.get("interval", "0.2"))
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(total))
        self.end_headers()
        for _ in range(total):
            self.wfile.write(b"\xff")
            self.wfile.flush()
            time.sleep(interval)

    def huge_send(self, query: dict[str, str]) -> None:
        total = int(query.get("bytes", str(20 * 1024 * 1024)))
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(total))
        self.end_headers()
        self.bytes_stream(total)

    def huge_stream_send(self, query: dict[str, str]) -> None:
        total = int(query.get("bytes", str(20 * 1024 * 1024)))
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        self.bytes_stream(total)

    def bytes_stream(self, total: int) -> None:
        block = b"\xff\xd8" + b"\x00" * 65534
        sent = 0
        while sent < total:
            piece = block[: min(len(block), total - sent)]
            self.wfile.write(piece)
            sent += len(piece)

    def bomb_send(self, query: dict[str, str]) -> None:
        body = png_bomb_make(int(query.get("w", "50000")), int(query.get("h", "50000")))
        self.plain_send(200, body, "image/png")


class ImageHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), ImageRequestHandler)
        self.tls = tls
        self.requests: list[tuple[str, str]] = []
        self.counters: dict[str, int] = {}
        self.gates: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        connection, address = super().get_request()
        if self.tls is not None:
            # Handshake in the handler thread (on first read), not in the accept loop.
            connection = self.tls.wrap_socket(
                connection, server_side=True, do_handshake_on_connect=False
            )
        return connection, address

    def gate(self, key: str) -> threading.Event:
        with self._lock:
            return self.gates.setdefault(key, threading.Event())

    def count(self, key: str) -> int:
        """How many times `key` was seen, this time included."""
        with self._lock:
            self.counters[key] = self.counters.get(key, 0) + 1
            return self.counters[key]

    def record(self, path: str, host: str) -> None:
        with self._lock:
            self.requests.append((path, host))


class ImageServer:
    """Starts the server on a daemon thread; use as a context manager (or start/stop).
    With `tls` (a server-side SSLContext) it speaks HTTPS and `url()` says so."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.httpd = ImageHTTPServer(tls)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def host_port(self) -> str:
        """The allow-list entry for this server ("127.0.0.1:PORT")."""
        return f"127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[tuple[str, str]]:
        return self.httpd.requests

    def url(self, path: str = "/image.jpg") -> str:
        scheme = "https" if self.httpd.tls is not None else "http"
        return f"{scheme}://{self.host_port}{path}"

    def gate_open(self, key: str) -> None:
        """Let every request waiting at /gate?key=`key` (and later ones) through."""
        self.httpd.gate(key).set()

    def paths_requested(self) -> list[str]:
        return [path for path, _host in self.requests]

    def start(self) -> ImageServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        for gate in list(self.httpd.gates.values()):
            gate.set()  # never leave a handler thread waiting
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> ImageServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


if __name__ == "__main__":
    # Handy for manual demos: `python tests/support/image_server.py`
    with ImageServer() as running:
        print(f"serving on {running.url('/')}", flush=True)
        threading.Event().wait()
