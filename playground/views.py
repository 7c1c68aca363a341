"""The playground: one page, its sample feeds and the pictures those feeds show.

The page itself talks only to the public API (`/filters`, `/get_feed`, `/get_img_result`,
`/ws/<user_id>`), exactly like the extension; these views only serve what the page needs to
stand in for Reddit and X.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from diymod.errors import error_body
from imaging.fetching import FetchError, fetch_policy_from_settings, target_address, url_target
from playground.images import PICTURES, picture_jpeg
from playground.samples import SAMPLES, sample_list, sample_render


@require_safe
def playground_page(request: HttpRequest) -> HttpResponse:
    context = {
        "samples": sample_list(),
        "token_auth": settings.DIYMOD_AUTH == "token",
    }
    response = render(request, "playground/index.html", context)
    response["Content-Security-Policy"] = content_security_policy(request)
    return response


def content_security_policy(request: HttpRequest) -> str:
    """The page loads nothing from other hosts: its script, style and API calls come from this
    server, its socket is ws(s):// this very host, and images are this server's own (the
    sample pictures, under the 127.0.0.1 spelling of `image_base_url`, and results, under
    DIYMOD_PUBLIC_URL when set) or data:/blob: URLs. A pasted payload's own pictures from
    other hosts therefore stay unloaded. No inline script or style: app.js and app.css."""
    socket_scheme = "wss" if request.is_secure() else "ws"
    image_origins = [url_origin(image_base_url(request))]
    if settings.DIYMOD_PUBLIC_URL:
        image_origins.append(url_origin(settings.DIYMOD_PUBLIC_URL))
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(["'self'", "data:", "blob:", *dict.fromkeys(image_origins)]),
        "connect-src": f"'self' {socket_scheme}://{request.get_host()}",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def url_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


@require_safe
def sample_index(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "success", "samples": sample_list()})


@require_safe
def sample_detail(request: HttpRequest, name: str) -> JsonResponse:
    if name not in SAMPLES:
        return JsonResponse(error_body(f"No sample feed named {name!r}"), status=404)
    image_base = image_base_url(request)
    sample = sample_render(name=name, image_base=image_base)
    return JsonResponse(
        {"status": "success", **sample, "images_fetchable": images_fetchable(image_base)}
    )


@require_safe
@cache_control(public=True, max_age=3600)
def sample_image(request: HttpRequest, name: str) -> HttpResponse:
    if name not in PICTURES:
        return JsonResponse(error_body(f"No sample image named {name!r}"), status=404)
    return HttpResponse(picture_jpeg(name), content_type="image/jpeg")


def image_base_url(request: HttpRequest) -> str:
    """This server's absolute image URL as the browser reached it (`get_host` has checked the
    Host against ALLOWED_HOSTS). `localhost` is written as 127.0.0.1: both are this machine for
    the browser, but the fetcher may resolve `localhost` to ::1 first while `make run` listens
    on 127.0.0.1 only."""
    host = request.get_host()
    if host == "localhost" or host.startswith("localhost:"):
        host = "127.0.0.1" + host.removeprefix("localhost")
    path = reverse("playground:image", args=["x"]).removesuffix("x.jpg")
    return f"{request.scheme}://{host}{path}"


def images_fetchable(image_base: str) -> bool:
    """Whether this server's image fetcher may fetch from `image_base`: the very check the
    fetcher runs (allow-list, then addresses), so the page can say why images stay as they are
    (README, "Playground")."""
    try:
        target_address(url_target(image_base), fetch_policy_from_settings())
    except FetchError:
        return False
    return True
