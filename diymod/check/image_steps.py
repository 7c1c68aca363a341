"""The full check: a temporary filter, a feed with an image, the image through the pipeline
(DEFERRED → image_processed → /get_img_result → the result file), the filter removed."""

from __future__ import annotations

import base64
import binascii
import json
import time
from io import BytesIO
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from PIL import Image, UnidentifiedImageError

from diymod.check.client import StepFailed, excerpt, step_failed
from diymod.check.context import (
    CheckContext,
    Step,
    check_id_make,
    feed_intact_check,
    feed_response_get,
    of_type,
    since_ms,
)
from diymod.check.feeds import (
    FEED_URL,
    FILTER_TEXT,
    SPIDER_BODY,
    SPIDER_TITLE,
    gallery_slide_urls,
    image_attributes_find,
    image_config_parse,
    shreddit_feed_build,
    shreddit_gallery_build,
    text_marked,
)
from diymod.check.image_server import CheckImageServer, check_jpeg_bytes

NO_EVENT = "no image_processed"
WORKER_HINT = "is a Celery worker running?"
ALLOW_HINT = (
    "the server fetches images only from DIYMOD_IMAGE_ALLOWED_HOSTS and refuses loopback and "
    "private addresses: run it with DIYMOD_IMAGE_ALLOWED_HOSTS including {host_port} and "
    "DIYMOD_IMAGE_ALLOW_PRIVATE=1 (and --serve-host an address it can reach), or give the check "
    "--image-url with an image the server may fetch"
)


async def image_serve_step(context: CheckContext) -> str:
    options = context.options
    if options.image_url:
        context.image_url = options.image_url
        return f"using {options.image_url} (--image-url)"
    try:
        server = CheckImageServer(options.serve_host, options.serve_port)
    except OSError as error:
        raise StepFailed(
            f"cannot serve the image on {options.serve_host}:{options.serve_port}: {error}"
        ) from error
    context.image_server = context.exits.enter_context(server)
    context.image_url = server.image_url
    return f"serving a 640x480 JPEG at {server.image_url}"


async def filter_create_step(context: CheckContext) -> str:
    body = await context.client.http_json(
        "POST",
        "/filters",
        json={
            "user_id": context.client.user_id,
            "filter_text": FILTER_TEXT,
            "content_type": "all",
            "intensity": 3,
            "duration": "permanent",
        },
    )
    filter_id = body.get("filter_id")
    if not isinstance(filter_id, int) or isinstance(filter_id, bool):
        raise step_failed("filter_id (an integer) from POST /filters", excerpt(json.dumps(body)))
    context.filter_id = filter_id
    return f"filter {filter_id} {FILTER_TEXT!r} (content all, intensity 3)"


def image_config_get(returned: str, image_url: str) -> dict[str, Any]:
    """The `diy-mod-image` object the server put on our image (CONTRACT section 5)."""
    attributes = image_attributes_find(returned, image_url)
    if attributes is None:
        raise step_failed(
            f"the post's <img src={image_url}> in the feed", "no such image: src changed or gone"
        )
    config = image_config_parse(attributes)
    if config is None:
        why = (
            "although the text was marked"
            if text_marked(returned)
            else (f"and no text marker either: the filter {FILTER_TEXT!r} did not match the post")
        )
        raise step_failed(
            f"the image marked with diy-mod-image for {FILTER_TEXT!r}", f"no mark {why}"
        )
    if not text_marked(returned):
        # Clients only process images inside a subtree that also holds a text marker.
        raise step_failed("a text marker next to the marked image (CONTRACT section 5)", "none")
    return config


async def check_feed_post(
    context: CheckContext, sent: str, what: str
) -> tuple[dict[str, Any], str]:
    """POST /get_feed with a Reddit feed of the check's own, as the extension sends it: the
    answer and the feed text it returned."""
    client = context.client
    body = await client.http_json(
        "POST",
        "/get_feed",
        json={
            "user_id": client.user_id,
            "url": FEED_URL,
            "data": {"feed_info": {"response": sent}},
        },
    )
    return body, feed_response_get(body, what)


async def get_feed_step(context: CheckContext) -> str:
    post_id = check_id_make("t3_check")
    sent = shreddit_feed_build(
        post_id=post_id, title=SPIDER_TITLE, body=SPIDER_BODY, image_url=context.image_url
    )
    context.feed_sent_at = time.perf_counter()
    body, returned = await check_feed_post(context, sent, "the /get_feed answer")
    feed_intact_check(returned, post_id)
    config = image_config_get(returned, context.image_url)
    status = config.get("status")
    if config.get("type") == "processed" or status == "COMPLETED":
        return f"text marked, image already COMPLETED (cached): {excerpt(json.dumps(config))}"
    if status != "DEFERRED":
        raise step_failed(
            "diy-mod-image status DEFERRED or COMPLETED", excerpt(json.dumps(config))
        )
    degraded = f" (degraded: {body.get('degraded_reason')})" if body.get("degraded") else ""
    return f"text marked, image DEFERRED{degraded}"


async def image_result_status(context: CheckContext) -> tuple[str, str]:
    """What /get_img_result says about our image: (status, message); never raises."""
    try:
        body = await context.client.http_json(
            "GET",
            "/get_img_result",
            params={"img_url": context.image_url, "filters": json.dumps([FILTER_TEXT])},
        )
    except StepFailed as failure:
        return "(unreachable)", failure.message
    return str(body.get("status")), str(body.get("message") or "")


def fetch_hint(context: CheckContext) -> str:
    server = context.image_server
    if server is None:
        return "check that the server may fetch --image-url (DIYMOD_IMAGE_ALLOWED_HOSTS)"
    fetched = f"the check's image server was fetched {server.fetch_count} time(s)"
    return f"{fetched}; {ALLOW_HINT.format(host_port=server.host_port)}"


async def image_failure_explain(context: CheckContext, failure: StepFailed, timeout: float) -> str:
    """Why no image_processed came, with what /get_img_result says about the job."""
    status, message = await image_result_status(context)
    said = f"/get_img_result says {status}" + (f": {message}" if message else "")
    timed_out = failure.message.startswith(NO_EVENT)
    if status == "FAILED":
        # A failure is not always pushed, so a timeout can hide a failed job: name the job's fate.
        what = f"{NO_EVENT} within {timeout:g} s" if timed_out else failure.message
        return f"{what}; {said}; {fetch_hint(context)}"
    if timed_out and status == "NOT FOUND":
        return f"{NO_EVENT} within {timeout:g} s ({said}: the server queued no job for it)"
    if timed_out:
        return f"{NO_EVENT} within {timeout:g} s: {WORKER_HINT} ({said})"
    return f"{failure.message}; {said}; {fetch_hint(context)}"


async def image_processed_step(context: CheckContext) -> str:
    context.result_url = await image_processed_await(context, context.image_url)
    return (
        f"{excerpt(context.result_url)} "
        f"({since_ms(context.feed_sent_at):.0f} ms after the feed was sent)"
    )


async def image_processed_await(context: CheckContext, image_url: str) -> str:
    """Ask the socket for `image_url` and wait for its `image_processed`: the result URL."""
    client = context.client
    timeout = context.options.image_timeout
    await client.socket_send("wait_for_image", {"image_url": image_url, "filters": [FILTER_TEXT]})
    try:
        fields = await client.socket_await(
            "image_processed",
            lambda fields: (
                of_type("image_processed")(fields) and fields.get("image_url") == image_url
            ),
            timeout=timeout,
            error_matches=lambda fields: (
                fields.get("image_url") in (None, image_url) and "requestId" not in fields
            ),
            timeout_message=f"{NO_EVENT} within {timeout:g} s",
        )
    except StepFailed as failure:
        raise StepFailed(await image_failure_explain(context, failure, timeout)) from failure
    result = fields.get("processed_value") or fields.get("result")
    if not isinstance(result, str) or not result:
        raise step_failed(
            "processed_value (a URL string) in image_processed", excerpt(str(fields))
        )
    return result


async def get_img_result_step(context: CheckContext) -> str:
    await image_result_completed(context, context.image_url, context.result_url)
    return "COMPLETED, same URL as image_processed"


async def image_result_completed(context: CheckContext, image_url: str, result_url: str) -> None:
    body = await context.client.http_json(
        "GET",
        "/get_img_result",
        params={"img_url": image_url, "filters": json.dumps([FILTER_TEXT])},
    )
    if body.get("status") != "COMPLETED":
        raise step_failed("status COMPLETED from /get_img_result", excerpt(json.dumps(body)))
    if body.get("processed_value") != result_url:
        raise step_failed(
            f"processed_value {result_url} (as image_processed said)",
            str(body.get("processed_value")),
        )


def data_url_decode(url: str) -> bytes:
    header, _, payload = url.partition(",")
    try:
        if header.endswith(";base64"):
            return base64.b64decode(payload, validate=True)
        return unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as error:
        raise step_failed("a decodable data: URL", str(error)) from error


async def result_bytes_get(context: CheckContext, url: str | None = None) -> bytes:
    url = url or context.result_url
    if url.startswith("data:"):
        return data_url_decode(url)
    if urlsplit(url).scheme not in ("http", "https"):
        # Results must load inside reddit.com pages (CONTRACT section 5).
        raise step_failed("an absolute http(s) result URL", excerpt(url))
    response = await context.client.url_fetch(url)
    if response.status_code != 200:
        raise step_failed(f"HTTP 200 from GET {url}", f"HTTP {response.status_code}")
    return response.content


def image_describe(data: bytes) -> str:
    try:
        with Image.open(BytesIO(data)) as image:
            image.load()
            return f"{image.format} {image.width}x{image.height}, {len(data)} bytes"
    except (UnidentifiedImageError, OSError) as error:
        raise step_failed(
            "an image at the result URL", f"{len(data)} bytes Pillow cannot read ({error})"
        ) from error


async def result_image_step(context: CheckContext) -> str:
    data = await result_bytes_get(context)
    described = image_describe(data)
    if context.image_server is not None and data == check_jpeg_bytes():
        raise step_failed("a transformed image", "the original image, byte for byte")
    context.end_to_end_ms = since_ms(context.feed_sent_at)
    return described


def gallery_slide_marked(returned: str, slide_url: str) -> dict[str, Any]:
    """The `diy-mod-image` of the slide whose `src` is its key (CONTRACT section 5): a lazy
    slide without `src` is one clients poll for with an empty URL and never swap."""
    attributes = image_attributes_find(returned, slide_url)
    if attributes is None:
        raise step_failed(
            f"slide 2 as <img src={slide_url}> (a marked lazy slide needs a src)",
            "no image with that src: slides after the first stay untransformed for clients",
        )
    lazy = attributes.get("data-lazy-src")
    if lazy is not None and lazy != slide_url:
        raise step_failed(f"data-lazy-src equal to src {slide_url}", excerpt(lazy))
    config = image_config_parse(attributes)
    if config is None:
        raise step_failed(f"slide 2 marked with diy-mod-image for {FILTER_TEXT!r}", "no mark")
    return config


async def gallery_step(context: CheckContext) -> str:
    """A gallery post: slide 2 (only `data-lazy-src` in the page) is marked with a `src` equal
    to its key, transformed, and retrievable by that `src` (issue 13)."""
    slides = gallery_slide_urls(context.image_url)
    post_id = check_id_make("t3_gallery")
    sent = shreddit_gallery_build(
        post_id=post_id, title=SPIDER_TITLE, body=SPIDER_BODY, slides=slides
    )
    _, returned = await check_feed_post(context, sent, "the /get_feed answer for the gallery")
    feed_intact_check(returned, post_id)
    config = gallery_slide_marked(returned, slides[1])
    if config.get("status") == "COMPLETED" and isinstance(config.get("processedUrl"), str):
        result_url = config["processedUrl"]
    else:
        result_url = await image_processed_await(context, slides[1])
    await image_result_completed(context, slides[1], result_url)
    data = await result_bytes_get(context, result_url)
    described = image_describe(data)
    if context.image_server is not None and data == check_jpeg_bytes():
        raise step_failed("a transformed slide 2", "the original image, byte for byte")
    return f"slide 2 marked with src = its key, COMPLETED by that src: {described}"


async def filter_delete_step(context: CheckContext) -> str:
    await context.client.http_json(
        "DELETE", f"/filters/{context.filter_id}", params={"user_id": context.client.user_id}
    )
    return f"filter {context.filter_id} deleted"


FULL_STEPS: list[tuple[str, Step]] = [
    ("image_serve", image_serve_step),
    ("filter_create", filter_create_step),
    ("get_feed", get_feed_step),
    ("image_processed", image_processed_step),
    ("get_img_result", get_img_result_step),
    ("result_image", result_image_step),
    ("gallery", gallery_step),
]
