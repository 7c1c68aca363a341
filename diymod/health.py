"""`/ping` for the extension and `/healthz` for operators and load balancers."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

logger = logging.getLogger(__name__)
PROBE_TIMEOUT_SECONDS = 2.0


def database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def cache_check() -> None:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", 5)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return what was stored")
    cache.delete(key)


async def _channel_layer_roundtrip() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "healthz.probe"})
    message = await asyncio.wait_for(layer.receive(channel), PROBE_TIMEOUT_SECONDS)
    if message.get("type") != "healthz.probe":
        raise RuntimeError("channel layer returned another message")


def channel_layer_check() -> None:
    async_to_sync(_channel_layer_roundtrip)()


def broker_check() -> None:
    from diymod.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=PROBE_TIMEOUT_SECONDS)


def health_checks() -> dict[str, Callable[[], None]]:
    checks = {
        "database": database_check,
        "cache": cache_check,
        "channel_layer": channel_layer_check,
    }
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = broker_check
    return checks


def health_report() -> dict[str, str]:
    report = {}
    for name, check in health_checks().items():
        try:
            check()
            report[name] = "ok"
        except Exception as error:  # any failure of a dependency is reported, not raised
            logger.warning("healthz: %s failed: %s", name, error)
            report[name] = f"error: {error.__class__.__name__}: {error}"[:300]
    return report


class PingApi(APIView):
    @extend_schema(
        operation_id="ping",
        responses={
            200: inline_serializer(
                name="Ping",
                fields={
                    "status": serializers.CharField(),
                    "message": serializers.CharField(),
                    "timestamp": serializers.DateTimeField(),
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        return Response(
            {"status": "success", "message": "pong", "timestamp": timezone.now().isoformat()}
        )


class HealthApi(APIView):
    @extend_schema(
        operation_id="healthz",
        responses={
            (200, "application/json"): inline_serializer(
                name="Health",
                fields={
                    "status": serializers.CharField(),
                    "checks": serializers.DictField(child=serializers.CharField()),
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        report = health_report()
        failed = [name for name, result in report.items() if result != "ok"]
        if failed:
            body = {
                "status": "error",
                "message": f"Unhealthy: {', '.join(failed)}",
                "detail": f"Unhealthy: {', '.join(failed)}",
                "checks": report,
            }
            return Response(body, status=503)
        return Response({"status": "success", "checks": report})
