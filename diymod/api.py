"""What every app's API views share: reading the body, strict text fields, the error schema."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request

from diymod.errors import ApplicationError


def request_body_parse(request: Request) -> None:
    """Parse the body now; a body Django refuses to parse is the client's 400, never a 500."""
    try:
        request.data  # noqa: B018
    except (TooManyFieldsSent, TooManyFilesSent) as error:
        raise ApplicationError(f"Request body refused: {error}") from None


def body_dict(request: Request) -> dict[str, Any]:
    """The body as a dict (JSON object or form); anything else is the client's 400."""
    request_body_parse(request)
    if not isinstance(request.data, dict):
        raise ApplicationError("Request body must be a JSON object.")
    return request.data


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of turning them into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def error_schema(name: str) -> serializers.Serializer:
    """The contract's error answer (CONTRACT section 2) for the OpenAPI schema, as `name`."""
    return inline_serializer(
        name=name,
        fields={
            "status": serializers.CharField(default="error"),
            "message": serializers.CharField(),
            "detail": serializers.CharField(),
        },
    )


ERROR = error_schema("Error")
ERRORS = {code: ERROR for code in (400, 401, 403, 404)}
