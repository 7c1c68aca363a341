"""A feed's image jobs are asked for at once (issue 18 item 2): one transaction and the same few
queries whatever the number of images, with the requesters, caps and moves of one-by-one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from filters.models import Filter
from filters.services import filter_create, user_get_or_create
from imaging import batches
from imaging.models import ImageJob, ImageRequest
from imaging.requests import REQUEST_REFRESH_SECONDS
from imaging.selectors import filter_key_make, url_hash_make
from tests.feed.samples import REDDIT_URL, reddit_feed, shreddit_post
from tests.support.image_jobs import image_jobs_settle
from tests.support.image_server import ImageServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("image_settings")]


def spider_posts(image_server: ImageServer, count: int, first: int = 0) -> str:
    return reddit_feed(
        *(
            shreddit_post(
                f"t3_s{n}",
                "Look at this spider",
                "Found it in the garden.",
                image=image_server.url(f"/image.jpg?w=16&h=12&seed={n}"),
            )
            for n in range(first, first + count)
        )
    )


def feed_post(body: str, user_id: str, host: str = "testserver") -> str:
    payload = {"user_id": user_id, "url": REDDIT_URL, "data": {"feed_info": {"response": body}}}
    response = Client(HTTP_HOST=host).post("/get_feed", payload, content_type="application/json")
    assert response.status_code == 200
    return response.json()["feed"]["response"]


def spider_user(user_id: str, **options: Any) -> Filter:
    owner = user_get_or_create(user_id=user_id)
    return filter_create(owner=owner, filter_text="spiders", intensity=5, **options)


def warm_queries(body: str, user_id: str) -> int:
    feed_post(body, user_id)  # cold: the decisions cached, the jobs and requests made
    image_jobs_settle()
    with CaptureQueriesContext(connection) as captured:
        document = feed_post(body, user_id)
    assert "diy-mod-image=" in document
    return len(captured.captured_queries)


def test_a_warm_feed_asks_for_six_images_in_the_queries_it_takes_for_two(
    image_server: ImageServer,
) -> None:
    spider_user("two")
    spider_user("six")

    two = warm_queries(spider_posts(image_server, 2), "two")
    six = warm_queries(spider_posts(image_server, 6, first=10), "six")

    assert six == two  # one-by-one took three queries and a transaction per image
    assert six <= 12
    assert ImageRequest.objects.filter(user__user_id="six").count() == 6


def test_a_feed_seen_again_at_once_writes_nothing_and_later_refreshes_its_requests(
    image_server: ImageServer,
) -> None:
    spider_user("again")
    body = spider_posts(image_server, 3)
    feed_post(body, "again")
    image_jobs_settle()
    asked = dict(ImageRequest.objects.values_list("pk", "requested_at"))

    with CaptureQueriesContext(connection) as captured:
        feed_post(body, "again")
    writes = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
    ]
    assert writes == []  # the warm feed (issue 18): its requests were asked a moment ago
    assert dict(ImageRequest.objects.values_list("pk", "requested_at")) == asked

    long_ago = timezone.now() - timedelta(seconds=REQUEST_REFRESH_SECONDS + 1)
    ImageRequest.objects.update(requested_at=long_ago)
    feed_post(body, "again")
    refreshed = ImageRequest.objects.values_list("requested_at", flat=True)
    assert len(refreshed) == 3
    assert all(when > long_ago for when in refreshed)


def test_a_request_asked_again_from_another_base_url_is_written_at_once(
    image_server: ImageServer,
) -> None:
    spider_user("mover-host")
    body = spider_posts(image_server, 2)
    feed_post(body, "mover-host", host="localhost")
    feed_post(body, "mover-host", host="127.0.0.1")
    image_jobs_settle()

    assert set(ImageRequest.objects.values_list("base_url", flat=True)) == {"http://127.0.0.1"}


def test_each_requester_of_a_shared_job_keeps_their_own_base_url(
    image_server: ImageServer,
) -> None:
    spider_user("alice")
    spider_user("bob")
    body = spider_posts(image_server, 3)

    feed_post(body, "alice", host="localhost")
    feed_post(body, "bob", host="127.0.0.1")
    feed_post(body, "alice", host="localhost")
    image_jobs_settle()

    assert ImageJob.objects.count() == 3  # the same picture is made once for both
    bases = {
        (request.user.user_id, request.base_url)
        for request in ImageRequest.objects.select_related("user")
    }
    assert bases == {("alice", "http://localhost"), ("bob", "http://127.0.0.1")}
    assert ImageRequest.objects.count() == 6


def test_a_changed_image_intervention_moves_the_request_to_the_other_job(
    image_server: ImageServer,
) -> None:
    spider = spider_user("mover")
    body = spider_posts(image_server, 2)
    feed_post(body, "mover")
    image_jobs_settle()
    first = set(ImageRequest.objects.values_list("job_id", flat=True))

    Filter.objects.filter(pk=spider.pk).update(metadata={"image_intervention": "blur"})
    feed_post(body, "mover")
    image_jobs_settle()

    moved = set(ImageRequest.objects.values_list("job_id", flat=True))
    assert ImageRequest.objects.count() == 2
    assert moved.isdisjoint(first)
    assert set(ImageJob.objects.filter(pk__in=moved).values_list("intervention", flat=True)) == {
        "blur"
    }


def test_a_failed_job_does_not_count_toward_the_per_feed_cap(
    settings: Any, image_server: ImageServer
) -> None:
    settings.DIYMOD_IMAGES_PER_FEED = 3
    spider_user("capped")
    body = spider_posts(image_server, 6)
    failing = [image_server.url(f"/image.jpg?w=16&h=12&seed={n}") for n in range(2)]
    ImageJob.objects.bulk_create(
        ImageJob(
            image_url=url,
            url_hash=url_hash_make(url),
            filter_key=filter_key_make(["spiders"]),
            intervention="cartoon",
            status=ImageJob.Status.FAILED,
        )
        for url in failing
    )

    document = feed_post(body, "capped")
    image_jobs_settle()

    assert document.count("diy-mod-image=") == 3  # images 2, 3 and 4; 0 and 1 failed
    assert ImageJob.objects.count() == 5
    assert ImageRequest.objects.count() == 5


def test_a_job_another_request_created_meanwhile_is_shared_not_duplicated(
    monkeypatch: pytest.MonkeyPatch, image_server: ImageServer
) -> None:
    spider_user("racer")
    body = spider_posts(image_server, 3)
    feed_post(body, "racer")
    image_jobs_settle()
    # As if another process created the jobs between the lookup and the insert: the insert
    # meets the unique constraint, and the images are then asked for one by one.
    monkeypatch.setattr(batches, "image_jobs_existing", lambda keys: {})

    document = feed_post(body, "racer")

    assert document.count("diy-mod-image=") == 3
    assert ImageJob.objects.count() == 3
    assert ImageRequest.objects.count() == 3


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "one by one"])
def test_a_capped_post_is_logged_once_whichever_way_its_jobs_were_asked_for(
    batched: bool,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    image_server: ImageServer,
) -> None:
    settings.DIYMOD_IMAGES_PER_FEED = 2
    spider_user("counted")
    body = spider_posts(image_server, 3)
    if not batched:  # the batch meets the unique constraint, as in the test above
        feed_post(body, "counted")
        image_jobs_settle()
        monkeypatch.setattr(batches, "image_jobs_existing", lambda keys: {})
    caplog.clear()

    with caplog.at_level("INFO", logger="imaging.batches"):
        document = feed_post(body, "counted")

    assert document.count("diy-mod-image=") == 2
    caps = [r.getMessage() for r in caplog.records if r.getMessage().startswith("image cap")]
    assert caps == ["image cap: 0 of a post's 1 images get a job"]
    fallbacks = [r for r in caplog.records if "asking one by one" in r.getMessage()]
    assert len(fallbacks) == (0 if batched else 1)
