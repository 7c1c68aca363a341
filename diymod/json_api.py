"""JSON in and out of the API through orjson.

Feeds travel as 1–1.5 MB strings inside JSON both ways; the standard library spends ~20 ms per
feed on them, orjson about a tenth of that (docs/BENCHMARKS.md, "Feed end to end").
"""

from __future__ import annotations

from typing import Any

import orjson
from django.utils.encoding import force_str
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer


def _fallback(value: Any) -> str:
    # Lazy translation strings and the like, which DRF's error messages may hold.
    return force_str(value)


class OrjsonParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return orjson.loads(stream.read() if stream is not None else b"")
        except orjson.JSONDecodeError as error:
            raise ParseError(f"JSON parse error - {error}") from None


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_fallback)
