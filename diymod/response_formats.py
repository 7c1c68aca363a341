"""How structured output is asked of a server, and what each server was found to take.

OpenAI and vLLM take `response_format: {"type": "json_schema", ...}`; llama.cpp's servers
refuse it and take `{"type": "json_object", "schema": ...}`; some servers ignore response_format
and answer JSON inside a ```json code fence (README "Running with a local model"). The call
itself (one retry in the other format, validation) is diymod/openai_client.py's
`chat_json_reply`; this module holds the per-call choice (`FormatChooser`), the per-process
memory per base URL, and the pieces of a request in either format.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

import jsonschema
import openai

from diymod.model_errors import ModelError

logger = logging.getLogger(__name__)

JSON_SCHEMA = "json_schema"
JSON_OBJECT = "json_object"
# Servers refuse a response_format they do not know with 400 (llama-cpp-python, vLLM), 422
# (FastAPI-style validation) or 500 (llama-cpp-python's route wrapper, older llama-server).
FORMAT_REFUSAL_STATUSES = {400, 422, 500}
# A ```json ... ``` (or bare ```) fence around the answer, from servers that ignore
# response_format and let the model write markdown.
CODE_FENCE = re.compile(r"```[ \t]*(?:json)?(.*?)```", re.DOTALL | re.IGNORECASE)
SCHEMA_ADDENDUM = (
    "Answer with one JSON object and nothing else: no prose, no code fence. "
    "It must match this JSON schema exactly:\n"
)

# Per base URL: the response format that last produced a good answer there (auto mode), and a
# lock so that concurrent first calls to an unknown server wait for one probe instead of each
# spending a refused request.
_formats_working: dict[str, str] = {}
_format_probes: dict[str, threading.Lock] = {}
_formats_lock = threading.Lock()


@lru_cache(maxsize=64)
def _validator(schema_json: str) -> jsonschema.protocols.Validator:
    schema = json.loads(schema_json)
    validator_class = jsonschema.validators.validator_for(schema, jsonschema.Draft202012Validator)
    return validator_class(schema)


def schema_mismatch(data: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """How `data` fails to match `schema`, or None when it matches."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "the answer"
    return f"at {where}: {error.message[:200]}"


def response_format_for(mode: str, *, schema: dict[str, Any], schema_name: str) -> dict[str, Any]:
    if mode == JSON_OBJECT:
        # llama.cpp's servers turn `schema` into a grammar; others read the schema in the prompt.
        return {"type": JSON_OBJECT, "schema": schema}
    return {
        "type": JSON_SCHEMA,
        "json_schema": {"name": schema_name, "schema": schema, "strict": True},
    }


def messages_with_schema(
    messages: list[dict[str, Any]], schema: dict[str, Any]
) -> list[dict[str, Any]]:
    """The messages with the schema described in the system prompt (json_object mode).

    Appended to the first system message rather than added as another one: some local chat
    templates accept a single system message only, and only first.
    """
    addendum = SCHEMA_ADDENDUM + json.dumps(schema, separators=(",", ":"))
    first = messages[0] if messages else None
    if first is not None and first.get("role") == "system" and isinstance(first["content"], str):
        return [{**first, "content": f"{first['content']}\n\n{addendum}"}, *messages[1:]]
    return [{"role": "system", "content": addendum}, *messages]


def response_format_remembered(base_url: str) -> str | None:
    with _formats_lock:
        return _formats_working.get(base_url)


def response_format_remember(base_url: str, mode: str) -> None:
    with _formats_lock:
        previous = _formats_working.get(base_url)
        _formats_working[base_url] = mode
    if previous != mode:
        server = urlparse(base_url).hostname or "OpenAI"  # never a URL's user:password
        logger.info("structured output at %s: %s from now on", server, mode)


def response_formats_forget() -> None:
    """Forget what every server was found to accept (tests; a server replaced at a URL)."""
    with _formats_lock:
        _formats_working.clear()


def format_probe_lock(base_url: str) -> threading.Lock:
    with _formats_lock:
        return _format_probes.setdefault(base_url, threading.Lock())


def openai_itself(base_url: str) -> bool:
    """Whether the base URL is OpenAI's own API (unset: the client's default)."""
    return not base_url or urlparse(base_url).hostname == "api.openai.com"


def names_response_format(error: openai.APIStatusError) -> bool:
    """Whether an HTTP error is the server refusing the response_format it was sent."""
    if error.status_code not in FORMAT_REFUSAL_STATUSES:
        return False
    text = f"{error.message} {json.dumps(error.body, default=str)}".lower()
    return "response_format" in text or "json_schema" in text


class FormatChooser:
    """The response format of one chat_json_reply call, and its one switch to the other.

    Forced modes (DIYMOD_OPENAI_RESPONSE_FORMAT=json_schema|json_object) never switch and never
    remember. In auto mode the call starts with what worked last at this base URL; it switches
    once on a refusal: an HTTP error naming response_format, or (while json_schema is not known
    to work here) an answer that is not usable JSON.
    """

    def __init__(self, base_url: str, setting: str) -> None:
        self.base_url = base_url
        self.auto = setting == "auto"
        known = response_format_remembered(base_url) if self.auto else None
        if known is None and self.auto and openai_itself(base_url):
            known = JSON_SCHEMA  # nothing to find out, and no first call to hold the others up
        self.known = known is not None
        self.mode = known or (JSON_OBJECT if setting == JSON_OBJECT else JSON_SCHEMA)
        self.switched = False

    def refused(self, error: ModelError, *, http_refusal: bool) -> ModelError:
        """The error to raise, marked for the immediate retry when the call switches."""
        may_switch = self.auto and not self.switched
        if not http_refusal:
            may_switch = may_switch and self.mode == JSON_SCHEMA and not self.known
        if may_switch:
            self.mode = JSON_OBJECT if self.mode == JSON_SCHEMA else JSON_SCHEMA
            self.switched = True
            error.retry_now = True
        return error

    def worked(self, *, fenced: bool) -> None:
        if self.auto:
            # A fenced answer means the server ignored response_format: from now on the schema
            # goes in the prompt, which is what such a server can follow.
            response_format_remember(self.base_url, JSON_OBJECT if fenced else self.mode)
