"""The one way the project talks to OpenAI (or any OpenAI-compatible server).

`openai_client()` builds the client from settings with the library's own retries switched off:
callers retry through `model_call()`, which bounds attempts (DIYMOD_OPENAI_MAX_RETRIES) and never
runs past the caller's deadline (a `time.monotonic()` value). `chat_json()` makes one
structured-output chat call and returns the parsed object. Every failure surfaces as
`ModelError`, so callers have one thing to catch and fall back on.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import openai
from django.conf import settings

T = TypeVar("T")

# Below this much time left an HTTP round trip cannot succeed; fail fast instead.
MINIMUM_ATTEMPT_SECONDS = 0.05
BACKOFF_BASE_SECONDS = 0.2
# Models that accept `reasoning_effort="minimal"`; low latency matters more than depth here.
MINIMAL_REASONING_MODEL = re.compile(r"^gpt-5(-mini|-nano)?(-\d{4}-\d{2}-\d{2})?$")

_clients: dict[tuple[str, str, float], openai.OpenAI] = {}
_clients_lock = threading.Lock()


class ModelError(RuntimeError):
    """A model call failed: HTTP error, timeout, refusal, unusable output, or no time left."""

    def __init__(self, message: str, *, reason: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.reason = reason  # short code for logs and `degraded_reason`: "timeout", "http_429"...
        self.retryable = retryable
        self.attempts = 0  # HTTP requests made before giving up (set by model_call)


@dataclass(frozen=True)
class ModelReply:
    data: dict[str, Any]
    attempts: int  # HTTP requests made, retries included
    seconds: float


def openai_configured() -> bool:
    return bool(settings.OPENAI_API_KEY)


def openai_client() -> openai.OpenAI:
    """A shared client for the current settings (clients hold a connection pool; reuse them)."""
    key = (
        str(settings.OPENAI_API_KEY),
        str(settings.OPENAI_BASE_URL or ""),
        float(settings.DIYMOD_OPENAI_TIMEOUT_SECONDS),
    )
    with _clients_lock:
        if key not in _clients:
            _clients[key] = openai.OpenAI(
                api_key=key[0] or None,
                base_url=key[1] or None,
                timeout=key[2],
                max_retries=0,
            )
        return _clients[key]


def deadline_after(seconds: float) -> float:
    return time.monotonic() + seconds


def model_error_from(error: Exception) -> ModelError:
    """Translate an openai exception into a ModelError with a reason and retryability."""
    if isinstance(error, ModelError):
        return error
    if isinstance(error, openai.APITimeoutError):
        return ModelError("The model did not answer in time", reason="timeout", retryable=True)
    if isinstance(error, openai.APIConnectionError):
        return ModelError("Could not reach the model", reason="connection", retryable=True)
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        retryable = status == 429 or status >= 500
        return ModelError(
            f"The model answered HTTP {status}", reason=f"http_{status}", retryable=retryable
        )
    return ModelError(f"Model call failed: {error}", reason="error")


def _retry_after_seconds(error: Exception) -> float | None:
    response = getattr(error, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _attempt_timeout(deadline: float | None) -> float:
    timeout = float(settings.DIYMOD_OPENAI_TIMEOUT_SECONDS)
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining < MINIMUM_ATTEMPT_SECONDS:
        raise ModelError("No time left for the model call", reason="deadline")
    return min(timeout, remaining)


def _backoff_sleep(attempt: int, error: Exception, deadline: float | None) -> None:
    pause = _retry_after_seconds(error) or BACKOFF_BASE_SECONDS * (2**attempt)
    if deadline is not None and time.monotonic() + pause + MINIMUM_ATTEMPT_SECONDS > deadline:
        raise model_error_from(error) from error  # waiting would eat the whole deadline
    time.sleep(pause)


def model_call(
    call: Callable[[float], T],
    *,
    deadline: float | None = None,
    max_retries: int | None = None,
) -> tuple[T, int]:
    """Run `call(timeout_seconds)` with bounded retries; returns (its result, attempts made).

    `call` makes one request using the timeout it is given (the per-call timeout, shortened to
    what is left before `deadline`) and may raise openai errors or ModelError.
    """
    retries = settings.DIYMOD_OPENAI_MAX_RETRIES if max_retries is None else max_retries
    attempt = 0
    while True:
        try:
            timeout = _attempt_timeout(deadline)
        except ModelError as no_time:
            no_time.attempts = attempt
            raise
        attempt += 1
        try:
            return call(timeout), attempt
        except (openai.OpenAIError, ModelError) as error:
            failure = model_error_from(error)
            failure.attempts = attempt
            if not failure.retryable or attempt > retries:
                raise failure from error
            try:
                _backoff_sleep(attempt - 1, error, deadline)
            except ModelError as gave_up:
                gave_up.attempts = attempt
                raise


def reasoning_options(model: str) -> dict[str, Any]:
    return {"reasoning_effort": "minimal"} if MINIMAL_REASONING_MODEL.match(model) else {}


def chat_content_parse(completion: Any) -> dict[str, Any]:
    """The JSON object in a chat completion, or ModelError (refusal, truncation, bad JSON)."""
    if not completion.choices:
        raise ModelError("The model returned no choices", reason="empty", retryable=True)
    choice = completion.choices[0]
    message = choice.message
    if getattr(message, "refusal", None) or choice.finish_reason == "content_filter":
        raise ModelError("The model refused the request", reason="refusal")
    if choice.finish_reason == "length":
        raise ModelError("The model's answer was cut off", reason="truncated")
    try:
        data = json.loads(message.content or "")
    except ValueError:
        raise ModelError(
            "The model's answer is not JSON", reason="invalid_json", retryable=True
        ) from None
    if not isinstance(data, dict):
        raise ModelError(
            "The model's answer is not a JSON object", reason="invalid_json", retryable=True
        )
    return data


def chat_json_reply(
    *,
    messages: list[dict[str, Any]],
    schema: dict[str, Any],
    schema_name: str = "answer",
    model: str | None = None,
    deadline: float | None = None,
    max_retries: int | None = None,
    max_completion_tokens: int | None = None,
) -> ModelReply:
    """One structured-output chat call (strict JSON schema), with attempts and duration."""
    model_name = model or settings.DIYMOD_OPENAI_MODEL
    client = openai_client()
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": schema_name, "schema": schema, "strict": True},
    }
    extra: dict[str, Any] = reasoning_options(model_name)
    if max_completion_tokens is not None:
        extra["max_completion_tokens"] = max_completion_tokens

    def attempt(timeout: float) -> dict[str, Any]:
        # Plain dicts for messages and schema: the typed overloads cannot see through **extra.
        completion = client.chat.completions.create(  # type: ignore[call-overload]
            model=model_name,
            messages=messages,
            response_format=response_format,
            timeout=timeout,
            **extra,
        )
        return chat_content_parse(completion)

    started = time.monotonic()
    data, attempts = model_call(attempt, deadline=deadline, max_retries=max_retries)
    return ModelReply(data=data, attempts=attempts, seconds=time.monotonic() - started)


def chat_json(
    *,
    messages: list[dict[str, Any]],
    schema: dict[str, Any],
    schema_name: str = "answer",
    model: str | None = None,
    deadline: float | None = None,
    max_retries: int | None = None,
) -> dict[str, Any]:
    """The parsed JSON object of one structured-output chat call; raises ModelError."""
    return chat_json_reply(
        messages=messages,
        schema=schema,
        schema_name=schema_name,
        model=model,
        deadline=deadline,
        max_retries=max_retries,
    ).data
