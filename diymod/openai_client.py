"""The one way the project talks to OpenAI (or any OpenAI-compatible server).

`openai_client()` builds the client from settings with the library's own retries switched off:
callers retry through `model_call()`, which bounds attempts (DIYMOD_OPENAI_MAX_RETRIES) and never
runs past the caller's deadline (a `time.monotonic()` value). `chat_json()` makes one
structured-output chat call and returns the parsed object. Every failure surfaces as
`ModelError`, so callers have one thing to catch and fall back on.

Structured output differs between servers (diymod/response_formats.py). With
DIYMOD_OPENAI_RESPONSE_FORMAT=auto a call starts with what is known to work at the base URL
(json_schema until something is known); a refusal (an HTTP error naming response_format, or an
answer that is not usable JSON) is retried once, at once, in the other format, and what produced
a good answer is remembered for the process. An answer whose schema the server did not enforce
(json_object, or JSON from a code fence) is validated here.
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

from diymod.model_errors import ModelError
from diymod.response_formats import (
    CODE_FENCE,
    JSON_OBJECT,
    FormatChooser,
    format_probe_lock,
    messages_with_schema,
    names_response_format,
    response_format_for,
    response_format_remembered,
    schema_mismatch,
)

T = TypeVar("T")

# Below this much time left an HTTP round trip cannot succeed; fail fast instead.
MINIMUM_ATTEMPT_SECONDS = 0.05
BACKOFF_BASE_SECONDS = 0.2
# Models that accept `reasoning_effort="minimal"`; low latency matters more than depth here.
MINIMAL_REASONING_MODEL = re.compile(r"^gpt-5(-mini|-nano)?(-\d{4}-\d{2}-\d{2})?$")

_clients: dict[tuple[str, str, float], openai.OpenAI] = {}
_clients_lock = threading.Lock()


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


def _time_left(deadline: float | None) -> bool:
    return deadline is None or deadline - time.monotonic() >= MINIMUM_ATTEMPT_SECONDS


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
    immediate_retries = 0  # at most one, not counted against `retries`
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
            if failure.retry_now and immediate_retries == 0 and _time_left(deadline):
                immediate_retries += 1
                continue
            if not failure.retryable or attempt - immediate_retries > retries:
                raise failure from error
            try:
                _backoff_sleep(attempt - 1, error, deadline)
            except ModelError as gave_up:
                gave_up.attempts = attempt
                raise


def reasoning_options(model: str) -> dict[str, Any]:
    return {"reasoning_effort": "minimal"} if MINIMAL_REASONING_MODEL.match(model) else {}


def completion_content_parse(completion: Any) -> tuple[dict[str, Any], bool]:
    """The JSON object in a chat completion and whether it came out of a code fence, or
    ModelError (refusal, truncation, bad JSON)."""
    if not completion.choices:
        raise ModelError("The model returned no choices", reason="empty", retryable=True)
    choice = completion.choices[0]
    message = choice.message
    if getattr(message, "refusal", None) or choice.finish_reason == "content_filter":
        raise ModelError("The model refused the request", reason="refusal")
    if choice.finish_reason == "length":
        raise ModelError("The model's answer was cut off", reason="truncated")
    content = message.content or ""
    data, fenced = _json_loads(content), False
    if data is None and (fence := CODE_FENCE.search(content)):
        data, fenced = _json_loads(fence.group(1)), True
    if data is None:
        raise ModelError("The model's answer is not JSON", reason="invalid_json", retryable=True)
    if not isinstance(data, dict):
        raise ModelError(
            "The model's answer is not a JSON object", reason="invalid_json", retryable=True
        )
    return data, fenced


def _json_loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def reply_validate(data: dict[str, Any], schema: dict[str, Any]) -> None:
    """ModelError("invalid_json") unless `data` matches `schema` (for answers whose schema the
    server did not enforce)."""
    mismatch = schema_mismatch(data, schema)
    if mismatch is not None:
        raise ModelError(
            f"The model's answer does not match the schema {mismatch}",
            reason="invalid_json",
            retryable=True,
        )


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
    """One structured-output chat call, with attempts and duration.

    At most 1 + max_retries requests, plus one when the server refuses the response format
    (module docstring); never past `deadline`.
    """
    model_name = model or settings.DIYMOD_OPENAI_MODEL
    client = openai_client()
    chooser = FormatChooser(
        str(settings.OPENAI_BASE_URL or ""), settings.DIYMOD_OPENAI_RESPONSE_FORMAT
    )
    extra: dict[str, Any] = reasoning_options(model_name)
    if max_completion_tokens is not None:
        extra["max_completion_tokens"] = max_completion_tokens
    schema_messages = messages_with_schema(messages, schema)

    def attempt(timeout: float) -> dict[str, Any]:
        mode = chooser.mode
        try:
            # Plain dicts for messages and schema: the typed overloads cannot see through **extra.
            completion = client.chat.completions.create(  # type: ignore[call-overload]
                model=model_name,
                messages=schema_messages if mode == JSON_OBJECT else messages,
                response_format=response_format_for(mode, schema=schema, schema_name=schema_name),
                timeout=timeout,
                **extra,
            )
        except openai.APIStatusError as error:
            if names_response_format(error):
                raise chooser.refused(model_error_from(error), http_refusal=True) from error
            raise
        try:
            data, fenced = completion_content_parse(completion)
            if fenced or mode == JSON_OBJECT:  # the server did not enforce the schema
                reply_validate(data, schema)
        except ModelError as error:
            if error.reason == "invalid_json":
                raise chooser.refused(error, http_refusal=False) from None
            raise
        chooser.worked(fenced=fenced)
        return data

    started = time.monotonic()
    data, attempts = _model_call_probing(chooser, attempt, deadline, max_retries)
    return ModelReply(data=data, attempts=attempts, seconds=time.monotonic() - started)


def _model_call_probing(
    chooser: FormatChooser,
    attempt: Callable[[float], dict[str, Any]],
    deadline: float | None,
    max_retries: int | None,
) -> tuple[dict[str, Any], int]:
    """model_call, but while auto mode knows nothing about the server, one call at a time:
    concurrent first calls (the analyzer's chunks) wait for the first to find out what works,
    so a feed spends one refused request, not one per chunk. Only the first feed at a server
    other than OpenAI's own pays this wait (a local server mostly answers one request at a
    time anyway)."""
    if not chooser.auto or chooser.known:
        return model_call(attempt, deadline=deadline, max_retries=max_retries)
    probe = format_probe_lock(chooser.base_url)
    if not probe.acquire(timeout=_probe_wait_seconds(deadline)):
        raise ModelError("No time left for the model call", reason="deadline")
    known = response_format_remembered(chooser.base_url)
    if known is not None:  # found out while this call waited: no need to hold the others up
        probe.release()
        chooser.mode, chooser.known = known, True
        return model_call(attempt, deadline=deadline, max_retries=max_retries)
    try:
        return model_call(attempt, deadline=deadline, max_retries=max_retries)
    finally:
        probe.release()


def _probe_wait_seconds(deadline: float | None) -> float:
    if deadline is not None:
        return max(0.0, deadline - time.monotonic())
    # No deadline (the assistant): as long as a probing call can take with its retries.
    per_call = float(settings.DIYMOD_OPENAI_TIMEOUT_SECONDS)
    return per_call * (settings.DIYMOD_OPENAI_MAX_RETRIES + 2) + 1.0


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
