"""A finished request is freed by reference counting, and big bodies bound what waits for the
collector (diymod/request_cycles.py)."""

from __future__ import annotations

import gc

import pytest
from rest_framework.request import Request

from feed.apis import FeedApi
from tests.feed.samples import REDDIT_URL, reddit_feed, shreddit_post


def live(kind: type) -> int:
    return sum(1 for item in gc.get_objects() if issubclass(type(item), kind))


def feed_post(api_client, posts: int = 3):
    feed = reddit_feed(
        *(shreddit_post(f"t3_c{n}", f"a post about spiders {n}") for n in range(posts))
    )
    return api_client.post(
        "/get_feed",
        {"user_id": "cycles", "url": REDDIT_URL, "data": {"feed_info": {"response": feed}}},
        format="json",
    )


@pytest.mark.django_db
def test_a_finished_api_request_leaves_nothing_for_the_collector(api_client, settings):
    settings.DIYMOD_GC_COLLECT_AFTER_MB = 0
    assert feed_post(api_client).status_code == 200  # warm: imports, the analyzer, caches
    gc.collect()
    gc.disable()
    try:
        before = (live(Request), live(FeedApi))
        response = feed_post(api_client)
        assert response.status_code == 200 and response.json()["feed"]["response"]
        after = (live(Request), live(FeedApi))
    finally:
        gc.enable()
    # Without the middleware the view and the DRF request sit in cycles until a collection.
    assert after == before


@pytest.mark.django_db
def test_bodies_past_the_budget_start_one_full_collection(api_client, settings, monkeypatch):
    from diymod import request_cycles

    collections = []
    monkeypatch.setattr(request_cycles.gc, "collect", lambda *args: collections.append(args))
    monkeypatch.setitem(request_cycles._received, "bytes", 0)
    settings.DIYMOD_GC_COLLECT_AFTER_MB = 1
    body = reddit_feed(*(shreddit_post(f"t3_b{n}", "x" * 20_000) for n in range(30)))  # ~600 KB
    payload = {"user_id": "cycles", "url": REDDIT_URL, "data": {"feed_info": {"response": body}}}

    assert api_client.post("/get_feed", payload, format="json").status_code == 200
    assert collections == []  # 0.6 MB of 1 MB
    assert api_client.post("/get_feed", payload, format="json").status_code == 200
    assert collections == [()]  # 1.2 MB: one collection, and the count starts again
    assert request_cycles._received["bytes"] == 0

    settings.DIYMOD_GC_COLLECT_AFTER_MB = 0  # never
    for _ in range(3):
        api_client.post("/get_feed", payload, format="json")
    assert collections == [()]


@pytest.mark.parametrize(("declared", "size"), [("1200", 1200), ("", 0), ("abc", 0), ("-5", 0)])
def test_the_counted_size_is_the_declared_one_or_nothing(rf, declared, size):
    from diymod.request_cycles import request_body_size

    request = rf.post("/get_feed", data=b"{}", content_type="application/json")
    request.META["CONTENT_LENGTH"] = declared
    assert request_body_size(request) == size
