"""A small OpenAI-compatible HTTP server for tests and benchmarks (no network, real HTTP).

It answers the three endpoints the project calls, records every call, and can be programmed:

    server = OpenAIServer().start()
    server.respond_with(lambda body: {"posts": []})          # chat: the assistant's JSON content
    server.fail_with(429, times=2)                            # next two calls: OpenAI-style 429
    server.delay = 0.8                                        # every call waits 800 ms first
    client = openai.OpenAI(api_key="test", base_url=server.base_url)
    ...
    server.stop()

Handlers take the request and return a dict:
- `/chat/completions`: the parsed JSON body in; the assistant message content out (it is sent
  back JSON-encoded inside an ordinary `chat.completion` object). Default: `{}`.
- `/images/edits` (multipart) and `/images/generations` (JSON): the parsed body in (for edits a
  dict of form fields, where file parts are `UploadedFile`s); the whole response body out.
  Default: `{"data": [{"b64_json": <the uploaded image, or a 4x4 PNG>}]}`.

Faults (`fail_with`): an int status (429, 500, 503...) answers with an OpenAI error body;
"invalid_json" answers 200 with content that is not JSON; "refusal" answers with a refusal
message; "drop" closes the connection without answering. `times=None` keeps failing until
`clear_faults()`.

How `/chat/completions` treats `response_format` (`server.mimic = ...`, settable any time):
- "openai" (default; OpenAI, vLLM): takes any response_format, answers bare JSON.
- "llama_cpp" (llama-cpp-python's server, llama-server): refuses `{"type": "json_schema"}`
  with HTTP `format_refusal_status` (400) and an OpenAI-style error body naming
  response_format, as llama-cpp-python's does; takes `json_object` (with or without `schema`).
  Refused calls are recorded with fault "response_format".
- "code_fence": ignores response_format and answers the JSON inside a ```json code fence,
  after a line of prose, as a chat model left to itself does.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"
IMAGE_EDIT_PATH = "/v1/images/edits"
IMAGE_GENERATION_PATH = "/v1/images/generations"
KNOWN_PATHS = (CHAT_PATH, IMAGE_EDIT_PATH, IMAGE_GENERATION_PATH)
MIMICS = ("openai", "llama_cpp", "code_fence")

# A valid 4x4 grey PNG, so image clients that decode the answer get a real image back.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAAAAACMmsGiAAAAEElEQVR4nGNsYGBgYGJAIQAJ5ACIUhZOXwAAAABJRU5ErkJggg=="
)

Handler = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class RecordedCall:
    path: str
    body: dict[str, Any]  # the JSON body, or the multipart form fields (files as UploadedFile)
    headers: dict[str, str]
    started: float  # time.monotonic() when the request arrived
    fault: str = ""  # the scripted fault this call got ("" when answered normally)


@dataclass
class Fault:
    kind: str  # "429", "500", "invalid_json", "refusal", "drop"; "response_format" (mimic)
    remaining: int | None  # None: until cleared
    path: str | None  # None: every path
    retry_after: float | None = None


@dataclass
class _State:
    handlers: dict[str, Handler] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    calls: list[RecordedCall] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def chat_completion_body(*, model: str, content: str | None, refusal: str | None = None) -> dict:
    """The `chat.completion` object the OpenAI API answers with."""
    message = {"role": "assistant", "content": content, "refusal": refusal}
    return {
        "id": f"chatcmpl-local-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def error_body(status: int) -> dict:
    kinds = {429: ("rate_limit_exceeded", "requests"), 400: ("invalid_request_error", None)}
    code, kind_type = kinds.get(status, ("server_error", None))
    return {
        "error": {
            "message": f"Scripted fault from the local test server (HTTP {status})",
            "type": kind_type or code,
            "param": None,
            "code": code,
        }
    }


def response_format_refusal_body(kind: str) -> dict:
    """What llama-cpp-python answers for a response_format type it does not know: its
    pydantic validation message inside its OpenAI-style ErrorResponse."""
    message = (
        "1 validation error for CreateChatCompletionRequest\nresponse_format.type\n"
        "  Input should be 'text' or 'json_object' "
        f"[type=literal_error, input_value='{kind}', input_type=str]"
    )
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": "response_format",
            "code": None,
        }
    }


def code_fenced(content: dict[str, Any]) -> str:
    return f"Here is the JSON you asked for:\n\n```json\n{json.dumps(content, indent=2)}\n```\n"


def multipart_fields(content_type: str, raw: bytes) -> dict[str, Any]:
    """Form fields of a multipart body; repeated names (`image[]`) become lists."""
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(header + raw)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        value: Any
        if filename is not None:
            value = UploadedFile(filename, part.get_content_type(), payload)
        else:
            value = payload.decode("utf-8", "replace")
        if name in fields:
            previous = fields[name]
            fields[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[name] = value
    return fields


def image_default_handler(body: dict[str, Any]) -> dict[str, Any]:
    uploaded = body.get("image") or body.get("image[]")
    if isinstance(uploaded, list):
        uploaded = uploaded[0]
    data = uploaded.data if isinstance(uploaded, UploadedFile) else TINY_PNG
    return {"created": int(time.time()), "data": [{"b64_json": base64.b64encode(data).decode()}]}


class OpenAIServer:
    """The server; `start()` binds 127.0.0.1 on a free port and serves in a daemon thread."""

    def __init__(self) -> None:
        self.delay = 0.0  # seconds every call waits before answering (settable any time)
        self._mimic = "openai"
        self.format_refusal_status = 400  # the "llama_cpp" mimic's status for json_schema
        self._state = _State()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> OpenAIServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _request_handler_class(self))
        # Daemon threads and no join on close: a handler still sleeping through a scripted delay
        # must not hold up the test that already gave up on it.
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        # A short poll interval so stop() returns at once (the default 0.5 s adds up over tests).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    # -- programming -------------------------------------------------------------------------
    @property
    def mimic(self) -> str:
        """How `/chat/completions` treats response_format (module docstring)."""
        return self._mimic

    @mimic.setter
    def mimic(self, value: str) -> None:
        if value not in MIMICS:
            raise ValueError(f"unknown mimic {value!r}; one of {', '.join(MIMICS)}")
        self._mimic = value

    def respond_with(self, handler: Handler, *, path: str = CHAT_PATH) -> None:
        self._state.handlers[_full_path(path)] = handler

    def fail_with(
        self,
        fault: int | str,
        *,
        times: int | None = None,
        path: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        kind = str(fault)
        if kind not in {"invalid_json", "refusal", "drop"} and not kind.isdigit():
            raise ValueError(f"unknown fault {fault!r}")
        scripted = Fault(kind, times, _full_path(path) if path else None, retry_after)
        with self._state.lock:
            self._state.faults.append(scripted)

    def clear_faults(self) -> None:
        with self._state.lock:
            self._state.faults.clear()

    def reset(self) -> None:
        """Forget calls, handlers, faults, delay and mimic (between benchmark rounds)."""
        with self._state.lock:
            self._state.faults.clear()
            self._state.calls.clear()
            self._state.handlers.clear()
        self.delay = 0.0
        self.mimic = "openai"
        self.format_refusal_status = 400

    # -- inspection --------------------------------------------------------------------------
    @property
    def calls(self) -> list[RecordedCall]:
        with self._state.lock:
            return list(self._state.calls)

    def calls_to(self, path: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.path == _full_path(path)]

    # -- used by the request handler ---------------------------------------------------------
    def _fault_take(self, path: str) -> Fault | None:
        with self._state.lock:
            for scripted in self._state.faults:
                if scripted.path not in (None, path):
                    continue
                if scripted.remaining is not None:
                    scripted.remaining -= 1
                    if scripted.remaining <= 0:
                        self._state.faults.remove(scripted)
                return scripted
        return None

    def _record(self, call: RecordedCall) -> None:
        with self._state.lock:
            self._state.calls.append(call)

    def _handler_for(self, path: str) -> Handler:
        if path in self._state.handlers:
            return self._state.handlers[path]
        return (lambda body: {}) if path == CHAT_PATH else image_default_handler

    def _format_refused(self, body: dict[str, Any]) -> bool:
        response_format = body.get("response_format")
        kind = response_format.get("type") if isinstance(response_format, dict) else None
        return self.mimic == "llama_cpp" and kind not in (None, "text", "json_object")

    def _wait(self) -> None:
        if self.delay > 0:
            self._stopping.wait(self.delay)


def _full_path(path: str) -> str:
    path = "/" + path.lstrip("/")
    return path if path.startswith("/v1/") else "/v1" + path


def _request_handler_class(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep test output clean

        def do_POST(self) -> None:
            started = time.monotonic()
            path = self.path.split("?", 1)[0]
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if path not in KNOWN_PATHS:
                self._send_json(404, {"error": {"message": f"unknown path {path}"}})
                return
            body = self._parse_body(raw)
            fault = server._fault_take(path)
            headers = {name.lower(): value for name, value in self.headers.items()}
            if fault is None and path == CHAT_PATH and server._format_refused(body):
                fault = Fault("response_format", 1, CHAT_PATH)
            server._record(RecordedCall(path, body, headers, started, fault.kind if fault else ""))
            server._wait()
            try:
                self._answer(path, body, fault)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout) while we were waiting

        def _parse_body(self, raw: bytes) -> dict[str, Any]:
            content_type = self.headers.get("Content-Type", "")
            if content_type.startswith("multipart/form-data"):
                return multipart_fields(content_type, raw)
            try:
                parsed = json.loads(raw or b"{}")
            except ValueError:
                return {"_unparsed": raw.decode("utf-8", "replace")}
            return parsed if isinstance(parsed, dict) else {"_body": parsed}

        def _answer(self, path: str, body: dict[str, Any], fault: Fault | None) -> None:
            if fault is not None and fault.kind == "drop":
                self.close_connection = True
                self.connection.close()
                return
            if fault is not None and fault.kind == "response_format":
                kind = str(body["response_format"].get("type"))
                refusal = response_format_refusal_body(kind)
                self._send_json(server.format_refusal_status, refusal)
                return
            if fault is not None and fault.kind.isdigit():
                extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                self._send_json(int(fault.kind), error_body(int(fault.kind)), extra)
                return
            if path == CHAT_PATH:
                self._send_json(200, self._chat_answer(body, fault))
                return
            if fault is not None and fault.kind == "invalid_json":
                self._send_raw(200, b'{"data": [{"b64_json": ', "application/json")
                return
            self._send_json(200, server._handler_for(path)(body))

        def _chat_answer(self, body: dict[str, Any], fault: Fault | None) -> dict:
            model = str(body.get("model") or "local-model")
            if fault is not None and fault.kind == "invalid_json":
                return chat_completion_body(model=model, content='{"posts": [ {"id": "t3_')
            if fault is not None and fault.kind == "refusal":
                return chat_completion_body(model=model, content=None, refusal="I can't help.")
            content = server._handler_for(CHAT_PATH)(body)
            if server.mimic == "code_fence":
                return chat_completion_body(model=model, content=code_fenced(content))
            return chat_completion_body(model=model, content=json.dumps(content))

        def _send_json(self, status: int, payload: dict, extra: dict | None = None) -> None:
            self._send_raw(status, json.dumps(payload).encode(), "application/json", extra)

        def _send_raw(
            self, status: int, data: bytes, content_type: str, extra: dict | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return RequestHandler
