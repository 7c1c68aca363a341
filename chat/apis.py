"""POST /chat and POST /chat/image (CONTRACT.md section 2): thin views over chat.services."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.assistant.replies import REPLY_TYPES
from chat.services import MESSAGE_MAX_CHARS, chat_image_read, chat_reply
from chat.uploads import MemoryOnlyUploadHandler
from diymod.api import StrictCharField, body_dict, error_schema
from diymod.throttling import ChatRateThrottle
from filters.authentication import request_user_resolve, user_id_clean
from filters.models import Filter, User

DEFAULT_USER_ID = "default_user"  # CONTRACT section 1: chat calls may omit user_id

ERROR = error_schema("ChatError")
CHAT_REPLY = inline_serializer(
    name="ChatReply",
    fields={
        "status": serializers.CharField(default="success"),
        "text": serializers.CharField(),
        "type": serializers.ChoiceField(choices=REPLY_TYPES),
        "options": serializers.ListField(child=serializers.CharField()),
        "filter_data": inline_serializer(
            name="ChatFilterData",
            allow_null=True,
            fields={
                "filter_text": serializers.CharField(),
                "content_type": serializers.ChoiceField(choices=Filter.ContentType.choices),
                "intensity": serializers.IntegerField(min_value=1, max_value=5),
                "duration": serializers.ChoiceField(choices=Filter.Duration.choices),
                "context": serializers.CharField(required=False),
            },
        ),
        "assistant": serializers.ChoiceField(choices=["embedded", "openai"]),
        "degraded": serializers.BooleanField(required=False),
        "degraded_reason": serializers.CharField(required=False),
    },
)
RESPONSES = {200: CHAT_REPLY, 400: ERROR, 401: ERROR, 403: ERROR, 429: ERROR}


class ChatInputSerializer(serializers.Serializer):
    message = StrictCharField(allow_blank=True, max_length=MESSAGE_MAX_CHARS, default="")
    # Never refused: the client's history is known to be unreliable (CONTRACT section 2).
    history = serializers.JSONField(
        default=None, help_text="[{role, content, type?}]; the server keeps its own state."
    )
    user_id = serializers.JSONField(default=None, help_text="Omitted: default_user.")


class ChatImageInputSerializer(serializers.Serializer):
    # Multipart fields are all text: a JSONField here would try to parse `user_id` as JSON.
    image = serializers.FileField(
        required=False, help_text="JPEG, PNG, GIF, WebP or BMP, up to 5 MB."
    )
    message = StrictCharField(allow_blank=True, max_length=MESSAGE_MAX_CHARS, default="")
    history = StrictCharField(
        allow_blank=True, default="", help_text="The history list as JSON text."
    )
    user_id = StrictCharField(
        allow_blank=True, default=None, max_length=255, help_text="Omitted: default_user."
    )


def input_validated(
    serializer_class: type[serializers.Serializer], request: Request
) -> dict[str, Any]:
    serializer = serializer_class(data=body_dict(request))
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def chat_user_resolve(request: Request, data: dict[str, Any]) -> User:
    claimed = user_id_clean(data.get("user_id"))
    if claimed is None and not isinstance(request.user, User):
        claimed = DEFAULT_USER_ID  # a Bearer token names the user itself
    return request_user_resolve(request, claimed)


class ChatApi(APIView):
    throttle_classes = [ChatRateThrottle]

    @extend_schema(operation_id="chat", request=ChatInputSerializer, responses=RESPONSES)
    def post(self, request: Request) -> Response:
        data = input_validated(ChatInputSerializer, request)
        user = chat_user_resolve(request, data)
        body = chat_reply(user=user, message=data["message"], history=data["history"])
        return Response(body)


class ChatImageApi(APIView):
    throttle_classes = [ChatRateThrottle]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body: the upload stays in memory, never in a temp file.
        request.upload_handlers = [MemoryOnlyUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        operation_id="chat_image",
        request={"multipart/form-data": ChatImageInputSerializer},
        responses=RESPONSES,
    )
    def post(self, request: Request) -> Response:
        data = input_validated(ChatImageInputSerializer, request)
        user = chat_user_resolve(request, data)
        handler = request.upload_handlers[0]
        image = chat_image_read(
            upload=data.get("image"),
            oversized="image" in getattr(handler, "oversized_fields", ()),
        )
        history = history_parse(data["history"])
        body = chat_reply(user=user, message=data["message"], history=history, image=image)
        return Response(body)


def history_parse(value: Any) -> Any:
    """The multipart `history` field is JSON text; unreadable history is ignored, not an error."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return None
