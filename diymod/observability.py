"""Structured logs and Prometheus metrics (one JSON line per request, task and socket event).

Every log record carries the request id of the HTTP request or task it belongs to. Metrics are
per process; apps add collectors of their own (`collector_register`), such as imaging's jobs by
status from the database, which every process shares, so any web process answers for the fleet.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from prometheus_client.registry import REGISTRY, Collector

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
user_pk_var: ContextVar[int | None] = ContextVar("user_pk", default=None)
events = logging.getLogger("diymod.events")

HTTP_REQUESTS = Counter(
    "diymod_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_SECONDS = Histogram("diymod_http_request_seconds", "HTTP request duration", ["route"])
FEED_SECONDS = Histogram(
    "diymod_feed_seconds",
    "Time to moderate one feed",
    ["platform"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1.0, 2.0, 4.0, 8.0, 16.0),
)
FEED_POSTS = Counter("diymod_feed_posts_total", "Posts seen in feeds", ["platform"])
FEED_CACHE_HITS = Counter("diymod_feed_cache_hits_total", "Posts answered from the cache")
FEED_DEGRADED = Counter("diymod_feed_degraded_total", "Feeds answered in degraded mode")
MODEL_CALLS = Counter("diymod_model_calls_total", "Requests made to a model", ["purpose"])
OPEN_SOCKETS = Gauge("diymod_open_sockets", "WebSocket connections open in this process")


_collector_types: set[type[Collector]] = set()


def collector_register(collector: Collector) -> None:
    """For an app's own metrics (imaging's jobs by status), from its AppConfig.ready: once per
    process, however often ready() runs."""
    if type(collector) not in _collector_types:
        REGISTRY.register(collector)
        _collector_types.add(type(collector))


def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


class ContextFilter(logging.Filter):
    """Adds the current request id and user pk to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.user_pk = user_pk_var.get()
        return True


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.route if match and match.route else "unmatched"


class RequestLogMiddleware:
    """Times every request, gives it an id (or keeps the caller's X-Request-ID), logs it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        request_token = request_id_var.set(request_id)
        user_token = user_pk_var.set(None)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            self.record(request, response.status_code, started)
            response["X-Request-ID"] = request_id
            return response
        finally:
            request_id_var.reset(request_token)
            user_pk_var.reset(user_token)

    def record(self, request: HttpRequest, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        route = route_of(request)
        HTTP_REQUESTS.labels(request.method or "", route, str(status)).inc()
        HTTP_SECONDS.labels(route).observe(elapsed)
        events.info(
            "request",
            extra={
                "event": "request",
                "method": request.method,
                "path": request.path,
                "status": status,
                "ms": round(elapsed * 1000, 1),
            },
        )


def user_pk_bind(user_pk: int) -> None:
    """Called once the acting user is known, so later log lines of the request name them."""
    user_pk_var.set(user_pk)


def task_signals_connect() -> None:
    """One log line per Celery task, with its duration and outcome."""
    from celery import signals

    starts: dict[str, float] = {}

    @signals.task_prerun.connect(weak=False)
    def task_started(task_id: str, task: Any, **kwargs: Any) -> None:
        starts[task_id] = time.perf_counter()
        request_id_var.set(task_id)

    @signals.task_postrun.connect(weak=False)
    def task_finished(task_id: str, task: Any, state: str | None = None, **kwargs: Any) -> None:
        started = starts.pop(task_id, None)
        elapsed = None if started is None else round((time.perf_counter() - started) * 1000, 1)
        events.info(
            "task", extra={"event": "task", "task": task.name, "state": state, "ms": elapsed}
        )
