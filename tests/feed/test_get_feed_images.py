"""Images through the feed: marked DEFERRED, transformed in the background, pushed to the
socket, COMPLETED on the next feed (CONTRACT sections 5 and 6). Embedded default: the job runs on
the in-process pool and the push goes through the in-memory channel layer."""

from __future__ import annotations

import html
import json
import re
import time
from io import BytesIO
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from PIL import Image

from filters.services import filter_create, user_get_or_create
from imaging.models import ImageJob
from tests.feed.samples import REDDIT_URL, X_URL, reddit_feed, shreddit_post, tweet, x_timeline
from tests.support.image_jobs import image_jobs_settle
from tests.support.image_server import ImageServer
from tests.support.realtime_fixtures import socket_open

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("image_settings")]


def feed_post(body: str, url: str = REDDIT_URL, user_id: str = "alice") -> dict[str, Any]:
    payload = {"user_id": user_id, "url": url, "data": {"feed_info": {"response": body}}}
    response = Client().post("/get_feed", payload, content_type="application/json")
    assert response.status_code == 200
    return response.json()


def image_attribute(document: str, name: str) -> dict[str, Any]:
    match = re.search(rf'{name}="([^"]*)"', document)
    assert match, f"no {name} in the feed"
    return json.loads(html.unescape(match.group(1)))


def spider_feed(image_url: str) -> str:
    return reddit_feed(
        shreddit_post("t3_img", "Look at this spider", "Found it in the garden.", image=image_url)
    )


async def test_a_matching_image_is_deferred_pushed_then_completed(image_server: ImageServer):
    await sync_to_async(filter_create)(
        owner=await sync_to_async(user_get_or_create)(user_id="alice"),
        filter_text="spiders",
        intensity=5,
    )
    image_url = image_server.url("/image.jpg?w=320&h=240")
    socket = await socket_open("/ws/alice")
    first = await sync_to_async(feed_post)(spider_feed(image_url))
    document = first["feed"]["response"]
    config = image_attribute(document, "diy-mod-image")
    assert config == {
        "type": "cartoonish",
        "status": "DEFERRED",
        "filters": ["spiders"],
        "best_filter_name": "spiders",
    }
    assert image_attribute(document, "diy-mod-custom")["intervention"] == "cartoonish"
    assert f'src="{image_url}"' in document and 'srcset=""' in document
    assert "diy-mod-processed" in document
    assert "__REWRITE_START__" in document  # a text marker rides along (client limit)
    assert first["stats"]["images"] == 1

    frame = await socket.receive_json_from(timeout=10)
    assert frame["type"] == "image_processed"
    assert frame["image_url"] == image_url == frame["data"]["image_url"]
    assert frame["result"] == frame["processed_value"]
    assert frame["processed_value"].startswith("http://testserver/media/")
    await socket.disconnect()

    result_path = frame["processed_value"].removeprefix("http://testserver")
    served = await sync_to_async(Client().get)(result_path)
    transformed = Image.open(BytesIO(b"".join(served.streaming_content)))
    assert transformed.size == (320, 240)

    again = await sync_to_async(feed_post)(spider_feed(image_url))
    completed = image_attribute(again["feed"]["response"], "diy-mod-image")
    assert completed == {
        "type": "cartoonish",
        "status": "COMPLETED",
        "processedUrl": frame["processed_value"],
    }


async def test_another_users_socket_hears_nothing(image_server: ImageServer):
    await sync_to_async(filter_create)(
        owner=await sync_to_async(user_get_or_create)(user_id="alice"), filter_text="spiders"
    )
    bob = await socket_open("/ws/bob")
    alice = await socket_open("/ws/alice")
    await sync_to_async(feed_post)(spider_feed(image_server.url("/image.jpg?seed=7")))
    assert (await alice.receive_json_from(timeout=10))["type"] == "image_processed"
    assert await bob.receive_nothing(timeout=0.5)
    await alice.disconnect()
    await bob.disconnect()


def test_text_only_filters_leave_images_alone(image_server: ImageServer):
    filter_create(
        owner=user_get_or_create(user_id="alice"),
        filter_text="spiders",
        content_type="text",
        intensity=3,
    )
    document = feed_post(spider_feed(image_server.url("/image.jpg?seed=3")))["feed"]["response"]
    assert "diy-mod-image" not in document and "__OVERLAY_START__" in document


def test_image_filters_use_alt_text_and_mark_the_post(image_server: ImageServer):
    filter_create(
        owner=user_get_or_create(user_id="alice"),
        filter_text="spiders",
        content_type="image",
        intensity=3,
    )
    post = shreddit_post("t3_alt", "Weekend photos", image=image_server.url("/image.jpg?seed=4"))
    document = feed_post(reddit_feed(post.replace('alt="post image"', 'alt="a large spider"')))
    assert image_attribute(document["feed"]["response"], "diy-mod-image")["status"] == "DEFERRED"
    assert document["posts"][0]["intervention"] == "image"


def test_x_media_gets_a_config_and_swaps_only_when_done(image_server: ImageServer):
    filter_create(owner=user_get_or_create(user_id="alice"), filter_text="spiders", intensity=5)
    photo = image_server.url("/image.jpg?seed=5")
    body = x_timeline(tweet("9", "a spider on my wall", photo=photo))
    first = json.loads(feed_post(body, url=X_URL)["feed"]["response"])
    legacy = first["data"]["home"]["home_timeline_urt"]["instructions"][0]["entries"][0]
    legacy = legacy["content"]["itemContent"]["tweet_results"]["result"]["legacy"]
    media = legacy["extended_entities"]["media"][0]
    assert json.loads(media["diy_mod_config"])["status"] == "DEFERRED"
    assert media["media_url_https"] == photo
    job_done_wait(photo)
    second = json.loads(feed_post(body, url=X_URL)["feed"]["response"])
    legacy = second["data"]["home"]["home_timeline_urt"]["instructions"][0]["entries"][0]
    media = legacy["content"]["itemContent"]["tweet_results"]["result"]["legacy"]
    swapped = media["extended_entities"]["media"][0]
    config = json.loads(swapped["diy_mod_config"])
    assert config["status"] == "COMPLETED"
    assert swapped["media_url_https"] == config["processedUrl"] != photo


def job_done_wait(image_url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ImageJob.objects.filter(image_url=image_url, status="done").exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"no finished job for {image_url}")


# --- the real gallery post (issue 13.1 and 13.4) ---------------------------------------------

GALLERY_FILTER = "masked depth modeling"  # matches the real gallery post's image alt text only


def real_gallery_feed(image_server: ImageServer) -> tuple[str, list[str]]:
    """The real 50-post page, its gallery slides loading from the local image server (the
    document is otherwise byte for byte the capture), and the slides' new URLs in order."""
    from feed.platforms import feed_parse
    from tests.support.captures import real_capture

    page = real_capture(
        "reddit", "shreddit_subreddit-feed_r-MachineLearning_rendered-dom_50posts_5ads.html"
    )
    gallery = next(p for p in feed_parse("reddit", page).posts if p.meta["post_type"] == "gallery")
    local = []
    for number, ref in enumerate(gallery.media):
        local.append(image_server.url(f"/image.png?w=64&h=48&seed={70 + number}"))
        page = page.replace(html.escape(ref.url), html.escape(local[-1]))
    return page, local


def gallery_post_html(document: str) -> str:
    from selectolax.lexbor import LexborHTMLParser

    posts = LexborHTMLParser(document).css('shreddit-post[post-type="gallery"]')
    assert len(posts) == 1
    return posts[0].html or ""


def test_the_real_gallerys_later_slides_get_a_src_the_client_can_poll_and_swap(
    image_server: ImageServer,
) -> None:
    """Issue 13.1: every marked slide carries `src` = its key; slide 2 is transformed and
    `/get_img_result` answers for exactly that `src`."""
    from selectolax.lexbor import LexborHTMLParser

    filter_create(
        owner=user_get_or_create(user_id="alice"),
        filter_text=GALLERY_FILTER,
        content_type="image",
        intensity=3,
    )
    page, local = real_gallery_feed(image_server)

    document = feed_post(page)["feed"]["response"]

    post = LexborHTMLParser(gallery_post_html(document))
    marked = [img for img in post.css("img") if "diy-mod-image" in img.attributes]
    assert [img.attributes["src"] for img in marked] == local
    for img in marked[1:]:  # the lazy slides: data-lazy-src kept coherent with src
        assert img.attributes["data-lazy-src"] == img.attributes["src"]
        assert img.attributes["data-lazy-srcset"] == "" and img.attributes["srcset"] == ""
    slide_two = marked[1].attributes["src"]
    job_done_wait(slide_two)
    answer = Client().get(
        "/get_img_result",
        {"img_url": slide_two, "filters": json.dumps([GALLERY_FILTER]), "user_id": "alice"},
    )
    assert answer.status_code == 200
    result = answer.json()
    assert result["status"] == "COMPLETED"
    served = Client().get(result["processed_value"].removeprefix("http://testserver"))
    assert Image.open(BytesIO(b"".join(served.streaming_content))).size == (64, 48)


def test_an_image_only_match_on_the_real_gallery_shows_no_badge_and_changes_no_text(
    image_server: ImageServer,
) -> None:
    """Issue 13.4: the title gets an empty blur pair (the client then processes the images);
    no rewrite pair, so no "Modified by DIY-MOD" badge, and the words stay as they were."""
    from selectolax.lexbor import LexborHTMLParser

    from feed.platforms import feed_parse

    filter_create(
        owner=user_get_or_create(user_id="alice"),
        filter_text=GALLERY_FILTER,
        content_type="image",
        intensity=5,
    )
    page, _local = real_gallery_feed(image_server)
    title_before = next(
        f.text
        for p in feed_parse("reddit", page).posts
        if p.meta.get("post_type") == "gallery"
        for f in p.fields
        if f.key == "title"
    )

    answer = feed_post(page)

    post_html = gallery_post_html(answer["feed"]["response"])
    assert "__REWRITE_START__" not in post_html and "__OVERLAY_START__" not in post_html
    title = LexborHTMLParser(post_html).css_first('a[slot="title"]').text()
    assert title == "__BLUR_START____BLUR_END__" + html.escape(title_before)
    assert [p["intervention"] for p in answer["posts"]] == ["image"]
    assert "diy-mod-image" in post_html  # the image is still processed


# Issue 12, item 5: a feed asks for at most DIYMOD_IMAGES_PER_FEED image jobs; the images past
# the cap are left as they are, the feed is still moderated.
def test_a_feed_queues_no_more_image_jobs_than_the_per_feed_cap(
    settings: Any, image_server: ImageServer
) -> None:
    settings.DIYMOD_IMAGES_PER_FEED = 3
    filter_create(owner=user_get_or_create(user_id="capped"), filter_text="spiders", intensity=5)
    posts = [
        shreddit_post(
            f"t3_cap{n}",
            "Look at this spider",
            "Found it in the garden.",
            image=image_server.url(f"/image.jpg?w=16&h=12&seed={n}"),
        )
        for n in range(6)
    ]
    payload = {
        "user_id": "capped",
        "url": REDDIT_URL,
        "data": {"feed_info": {"response": reddit_feed(*posts)}},
    }

    response = Client().post("/get_feed", payload, content_type="application/json")

    assert response.status_code == 200
    document = response.json()["feed"]["response"]
    assert document.count("diy-mod-image=") == 3
    assert ImageJob.objects.count() == 3
    starts = ("__BLUR_START__", "__OVERLAY_START__", "__REWRITE_START__")
    assert sum(document.count(start) for start in starts) >= 6  # every post still moderated
    image_jobs_settle()
