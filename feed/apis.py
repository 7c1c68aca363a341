"""`POST /get_feed` (CONTRACT section 2): the extension's core call."""

from __future__ import annotations

import logging

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from diymod.api import ERROR, ERRORS
from diymod.errors import ApplicationError, PayloadTooLarge
from diymod.throttling import FeedModelRateThrottle
from feed.requests import HTTP, feed_request_parse
from feed.services import FeedResult, feed_moderate, feed_size_check, feed_unmodified
from filters.authentication import request_user_resolve

logger = logging.getLogger(__name__)


# Documentation only (a Serializer may not declare a field called `data`): the body is read by
# `feed.requests.feed_request_parse`, which accepts both shapes of `data`.
FEED_REQUEST = inline_serializer(
    name="FeedRequest",
    fields={
        "user_id": serializers.CharField(help_text="The extension's user id."),
        "url": serializers.CharField(help_text="The intercepted request URL (reddit.com, x.com)."),
        "data": serializers.JSONField(
            help_text='{"feed_info": {"response": "<raw body>"}}, as an object or a JSON string.'
        ),
    },
)


FEED_RESPONSE = inline_serializer(
    name="FeedResponse",
    fields={
        "status": serializers.CharField(),
        "feed": inline_serializer(name="Feed", fields={"response": serializers.CharField()}),
        "stats": serializers.DictField(),
        "degraded": serializers.BooleanField(),
        "degraded_reason": serializers.CharField(),
        "posts": serializers.ListField(child=serializers.DictField()),
    },
)


def feed_response(result: FeedResult) -> Response:
    return Response(
        {
            "status": "success",
            "feed": {"response": result.response},
            "stats": result.stats,
            "degraded": result.degraded,
            "degraded_reason": result.degraded_reason,
            "posts": [report.__dict__ for report in result.posts],
        }
    )


class FeedApi(APIView):
    throttle_classes = [FeedModelRateThrottle]

    @extend_schema(
        operation_id="get_feed",
        request=FEED_REQUEST,
        responses={200: FEED_RESPONSE, **ERRORS, 413: ERROR},
        examples=[
            OpenApiExample(
                "Reddit feed (client B)",
                request_only=True,
                value={
                    "user_id": "8a6c…",
                    "url": "https://www.reddit.com/svc/shreddit/feeds/home-feed",
                    "data": {"feed_info": {"response": "<shreddit-post …>…</shreddit-post>"}},
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > request_limit():
            raise PayloadTooLarge(
                f"Request body is larger than the limit of {request_limit()} bytes"
            )
        feed_request = feed_request_parse(request.data, HTTP)
        claimed, url, raw = feed_request.claimed_user_id, feed_request.url, feed_request.body
        feed_size_check(raw)
        base_url = request.build_absolute_uri("/").rstrip("/")
        try:
            user = request_user_resolve(request, claimed)
            result = feed_moderate(user=user, url=url, body=raw, base_url=base_url)
        except ApplicationError:
            raise
        except Exception:  # e.g. the database is down: the feed still comes back
            logger.exception("get_feed failed before moderation; returning the feed unchanged")
            result = FeedResult(
                response=feed_unmodified(url=url, body=raw),
                degraded=True,
                degraded_reason="internal error",
            )
        return feed_response(result)


def request_limit() -> int:
    # The feed itself may use the whole limit; its JSON envelope and escaping get some room.
    return settings.DIYMOD_FEED_MAX_BYTES * 2 + 64 * 1024
