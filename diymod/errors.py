"""One error vocabulary (STYLE.md): services raise these; one handler shapes every error answer.

Every error the API gives has the contract shape `{"status": "error", "message", "detail"}`
(CONTRACT section 2; `detail` is for FastAPI-era tools).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code


class Unauthorized(ApplicationError):
    status_code = status.HTTP_401_UNAUTHORIZED


class Forbidden(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND


class PayloadTooLarge(ApplicationError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


def error_body(message: str) -> dict[str, str]:
    return {"status": "error", "message": message, "detail": message}


def validation_message(detail: Any, prefix: str = "") -> str:
    """Flatten DRF's nested error detail into one sentence that names each field."""
    if isinstance(detail, dict):
        parts = []
        for field, inner in detail.items():
            name = "" if field in ("non_field_errors", "detail") else str(field)
            parts.append(
                validation_message(inner, f"{prefix}.{name}" if prefix and name else name)
            )
        return "; ".join(parts)
    if isinstance(detail, list):
        return " ".join(validation_message(item, prefix) for item in detail)
    return f"{prefix}: {detail}" if prefix else str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Imported here: rest_framework.views loads the API settings, which import our auth class.
    from rest_framework.views import exception_handler

    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.message), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("Request body is too large"),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in %s", context.get("view"), exc_info=exc)
        return Response(
            error_body("Internal server error"), status=status.HTTP_500_INTERNAL_SERVER_ERROR
        )
    if isinstance(exc, exceptions.ValidationError):
        message = validation_message(exc.detail)
    elif isinstance(exc, exceptions.ParseError):
        message = f"Request body is not valid JSON: {exc.detail}"
    else:
        message = str(exc.detail) if hasattr(exc, "detail") else str(exc)
    response.data = error_body(message)
    return response


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body(f"Not found: {request.path}"), status=404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("Internal server error"), status=500)


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body(str(exception) or "Bad request"), status=400)
