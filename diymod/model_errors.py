"""The one error every model call raises (diymod/openai_client.py, diymod/response_formats.py).

Its own module so that both can raise it without importing each other.
"""

from __future__ import annotations


class ModelError(RuntimeError):
    """A model call failed: HTTP error, timeout, refusal, unusable output, or no time left."""

    def __init__(self, message: str, *, reason: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.reason = reason  # short code for logs and `degraded_reason`: "timeout", "http_429"...
        self.retryable = retryable
        self.attempts = 0  # HTTP requests made before giving up (set by model_call)
        # Set when the call switched to the other response format: model_call retries once at
        # once, outside the retry budget (the "one retry" of the response-format fallback).
        self.retry_now = False
