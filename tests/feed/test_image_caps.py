"""Issue 12, item 5: a feed asks for at most DIYMOD_IMAGES_PER_FEED image jobs (and a post for
at most DIYMOD_IMAGES_PER_POST); the images past the cap are left as they are, the feed is
still moderated."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from filters.services import filter_create, user_get_or_create
from imaging.models import ImageJob
from imaging.runner import PENDING
from tests.feed.samples import REDDIT_URL, reddit_feed, shreddit_post
from tests.support.image_server import ImageServer
from tests.support.realtime_fixtures import in_memory_layer_use

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def image_server():
    with ImageServer() as running:
        yield running


@pytest.fixture(autouse=True)
def image_settings(settings: Any, tmp_path: Path, image_server: ImageServer) -> None:
    in_memory_layer_use(settings)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DIYMOD_IMAGE_ALLOWED_HOSTS = [image_server.host_port]
    settings.DIYMOD_IMAGE_ALLOW_PRIVATE = True


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
    jobs_settle()


def jobs_settle(timeout: float = 20.0) -> None:
    """The embedded default runs jobs in background threads: let them end before the flush."""
    deadline = time.monotonic() + timeout
    while ImageJob.objects.filter(status__in=PENDING).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
