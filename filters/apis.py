"""The filters API, exactly CONTRACT section 2 (`/filters`, `/filters/<id>`), and registration."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from diymod.api import ERRORS, StrictCharField, body_dict
from diymod.errors import ApplicationError
from diymod.throttling import ClientAddressRateThrottle
from filters.authentication import request_user_resolve
from filters.models import Filter
from filters.selectors import filter_get, filter_list_active
from filters.services import (
    duration_normalize,
    filter_create,
    filter_delete,
    filter_update,
    user_register,
)


class DurationField(StrictCharField):
    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            return duration_normalize(value)
        except ApplicationError as error:
            raise serializers.ValidationError(error.message.removeprefix("duration: ")) from None


STATUS_MESSAGE = inline_serializer(
    name="StatusMessage",
    fields={"status": serializers.CharField(), "message": serializers.CharField()},
)


class FilterOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Filter
        fields = [
            "id",
            "filter_text",
            "content_type",
            "intensity",
            "duration",
            "is_temporary",
            "expires_at",
            "created_at",
        ]


class FilterInputSerializer(serializers.Serializer):
    user_id = serializers.JSONField(required=False, help_text="The extension's user id.")
    filter_text = StrictCharField(max_length=500, trim_whitespace=True)
    content_type = serializers.ChoiceField(choices=Filter.ContentType.choices, default="all")
    intensity = serializers.IntegerField(
        min_value=1, max_value=5, required=False, allow_null=True, help_text="null stores 3"
    )
    duration = DurationField(default="permanent")
    metadata = serializers.DictField(required=False)


class FilterUpdateSerializer(FilterInputSerializer):
    filter_text = StrictCharField(max_length=500, trim_whitespace=True, required=False)
    content_type = serializers.ChoiceField(choices=Filter.ContentType.choices, required=False)
    duration = DurationField(required=False)


class FilterListApi(APIView):
    @extend_schema(
        operation_id="filters_list",
        parameters=[OpenApiParameter("user_id", str, required=False)],
        responses={
            200: inline_serializer(
                name="FilterList",
                fields={
                    "status": serializers.CharField(),
                    "message": serializers.CharField(),
                    "filters": FilterOutputSerializer(many=True),
                },
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        user = request_user_resolve(request, request.query_params.get("user_id"))
        filters = filter_list_active(user=user)
        data = FilterOutputSerializer(filters, many=True).data
        return Response(
            {"status": "success", "message": f"{len(data)} filter(s)", "filters": data}
        )

    @extend_schema(
        operation_id="filters_create",
        request=FilterInputSerializer,
        responses={
            200: inline_serializer(
                name="FilterCreated",
                fields={
                    "status": serializers.CharField(),
                    "message": serializers.CharField(),
                    "filter_id": serializers.IntegerField(),
                },
            ),
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        body = body_dict(request)
        user = request_user_resolve(request, body.get("user_id"))
        serializer = FilterInputSerializer(data=body)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        fields.pop("user_id", None)
        created = filter_create(owner=user, **fields)
        return Response(
            {"status": "success", "message": "Filter created", "filter_id": created.id}
        )


class FilterDetailApi(APIView):
    @extend_schema(
        operation_id="filters_update",
        request=FilterUpdateSerializer,
        responses={200: STATUS_MESSAGE, **ERRORS},
    )
    def put(self, request: Request, filter_id: int) -> Response:
        body = body_dict(request)
        user = request_user_resolve(request, body.get("user_id"))
        serializer = FilterUpdateSerializer(data=body)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        changes.pop("user_id", None)
        filter_update(filter=filter_get(user=user, filter_id=int(filter_id)), changes=changes)
        return Response({"status": "success", "message": "Filter updated"})

    @extend_schema(
        operation_id="filters_delete",
        parameters=[OpenApiParameter("user_id", str, required=False)],
        responses={200: STATUS_MESSAGE, **ERRORS},
    )
    def delete(self, request: Request, filter_id: int) -> Response:
        user = request_user_resolve(request, request.query_params.get("user_id"))
        filter_delete(filter=filter_get(user=user, filter_id=int(filter_id)))
        return Response({"status": "success", "message": "Filter deleted"})


class RegisterThrottle(ClientAddressRateThrottle):
    scope = "register"


class RegisterApi(APIView):
    throttle_classes = [RegisterThrottle]

    @extend_schema(
        operation_id="auth_register",
        request=None,
        responses={
            200: inline_serializer(
                name="Registered",
                fields={
                    "status": serializers.CharField(),
                    "user_id": serializers.CharField(),
                    "token": serializers.CharField(),
                },
            )
        },
    )
    def post(self, request: Request) -> Response:
        user, token = user_register()
        return Response({"status": "success", "user_id": user.user_id, "token": token})
