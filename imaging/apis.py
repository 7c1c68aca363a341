"""`GET /get_img_result` (CONTRACT section 2) and the result files themselves."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe
from django.views.static import serve
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from diymod.errors import ApplicationError, Unauthorized
from filters.models import User
from imaging.models import ImageJob
from imaging.runner import PUBLIC_FAILURE_MESSAGE, RESULT_DIRECTORY, image_result_url
from imaging.selectors import image_job_find

MAX_FILTERS = 50
# Result names are content-addressed per (image, filters, intervention): safe to cache a day.
RESULT_CACHE_SECONDS = 24 * 3600


def filters_parameter_parse(raw: str | None) -> list[str]:
    """`filters` is a JSON array of filter texts (`["spiders"]`); absent means "any"."""
    if raw is None or raw.strip() == "":
        return []
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise ApplicationError("filters: must be a JSON array of strings.") from None
    if not isinstance(value, list) or not all(isinstance(text, str) for text in value):
        raise ApplicationError("filters: must be a JSON array of strings.")
    if len(value) > MAX_FILTERS:
        raise ApplicationError(f"filters: at most {MAX_FILTERS} filters.")
    return value


def request_base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def image_result_answer(job: ImageJob | None, *, base_url: str) -> dict[str, str]:
    if job is None:
        return {"status": "NOT FOUND"}
    if job.status == ImageJob.Status.DONE:
        return {"status": "COMPLETED", "processed_value": image_result_url(job, base_url)}
    if job.status == ImageJob.Status.FAILED:
        # The stored error names hosts and addresses: for operators (admin), not for pages.
        return {"status": "FAILED", "message": PUBLIC_FAILURE_MESSAGE}
    return {"status": "PENDING"}


class ImageResultApi(APIView):
    @extend_schema(
        operation_id="get_img_result",
        parameters=[
            OpenApiParameter("img_url", str, required=True, description="The image's src"),
            OpenApiParameter("filters", str, description='JSON array, e.g. ["spiders"]'),
        ],
        responses={
            200: inline_serializer(
                name="ImageResult",
                fields={
                    "status": serializers.ChoiceField(
                        ["COMPLETED", "PENDING", "FAILED", "NOT FOUND"]
                    ),
                    "processed_value": serializers.CharField(required=False),
                    "message": serializers.CharField(required=False),
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        if settings.DIYMOD_AUTH == "token" and not isinstance(request.user, User):
            raise Unauthorized("Authorization: Bearer <token> is required on this server")
        image_url = (request.query_params.get("img_url") or "").strip()
        if not image_url:
            raise ApplicationError("img_url: This field is required.")
        filter_texts = filters_parameter_parse(request.query_params.get("filters"))
        job = image_job_find(image_url=image_url, filter_texts=filter_texts)
        return Response(image_result_answer(job, base_url=request_base_url(request)))


@require_safe
def image_result_file(request: HttpRequest, path: str) -> HttpResponseBase:
    """Serve a result file (also with DEBUG off, under daphne): only below MEDIA_ROOT/images;
    Django's `serve` refuses `..` and absolute paths."""
    root = Path(settings.MEDIA_ROOT) / RESULT_DIRECTORY
    response = serve(request, path, document_root=str(root))
    if isinstance(response, FileResponse) or response.status_code == 200:
        response["Cache-Control"] = f"public, max-age={RESULT_CACHE_SECONDS}"
        # Loaded by <img> inside reddit.com / x.com pages and fetched by the extension.
        response["Cross-Origin-Resource-Policy"] = "cross-origin"
        response["Access-Control-Allow-Origin"] = "*"
        response["X-Content-Type-Options"] = "nosniff"
    return response
