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
from filters.authentication import user_id_clean
from filters.models import User
from imaging.models import ImageJob
from imaging.selectors import image_job_find_for, image_job_find_unscoped
from imaging.storage import RESULT_DIRECTORY, image_result_url

MAX_FILTERS = 50
PUBLIC_FAILURE_MESSAGE = "The image could not be processed."
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
    if not all(text_is_unicode(text) for text in value):
        # `["\ud800"]` is valid JSON but no text: no client sends it, and it cannot be stored.
        raise ApplicationError("filters: must be valid Unicode text (no lone surrogates).")
    return value


def text_is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def image_job_for_poll(
    request: Request, *, image_url: str, filter_texts: list[str]
) -> ImageJob | None:
    """The job this poller asked for: the token's user's, else (client-id mode) that of the
    user named by an optional `user_id`, looked up, never created. Today's extension names
    nobody on this call (CONTRACT section 2): only then, and only in client-id mode, is the
    answer not scoped to a user (token mode refuses anonymous polls before this)."""
    if isinstance(request.user, User):
        return image_job_find_for(
            user=request.user, image_url=image_url, filter_texts=filter_texts
        )
    claimed = user_id_clean(request.query_params.get("user_id"))
    if claimed is None:
        return image_job_find_unscoped(image_url=image_url, filter_texts=filter_texts)
    user = User.objects.filter(user_id=claimed).first()
    if user is None:
        return None
    return image_job_find_for(user=user, image_url=image_url, filter_texts=filter_texts)


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
            OpenApiParameter(
                "img_url",
                str,
                required=True,
                description="The image's src (empty or unknown: NOT FOUND)",
            ),
            OpenApiParameter("filters", str, description='JSON array, e.g. ["spiders"]'),
            OpenApiParameter(
                "user_id",
                str,
                description="Client-id mode: answer only for this user's own requests",
            ),
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
        filter_texts = filters_parameter_parse(request.query_params.get("filters"))
        raw_url = request.query_params.get("img_url")
        if raw_url is None:  # no client omits the parameter: a malformed call
            raise ApplicationError("img_url: This field is required.")
        image_url = raw_url.strip()
        if not image_url:
            # A marked image without a usable key (a lazy gallery slide has no src): NOT FOUND
            # makes the client stop polling; a 400 made it retry at once, 20 times a second.
            return Response(image_result_answer(None, base_url=""))
        job = image_job_for_poll(request, image_url=image_url, filter_texts=filter_texts)
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
