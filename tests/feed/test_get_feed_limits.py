"""Issue 12.4 and 12.5 (feed half): never a 5xx, one bad post costs only that post, and the
work per request is bounded (the deadline bounds all analysis; filters per user are capped)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from feed import services
from feed.analyzers.base import Analysis, Analyzer, FilterSpec, Match, PostInput, Rewrite
from filters.models import Filter
from filters.services import filter_create, user_get_or_create
from tests.feed.samples import REDDIT_URL, X_URL, reddit_feed, shreddit_post, tweet, x_timeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def embedded(settings: Any) -> None:
    settings.DIYMOD_ANALYZER = "embedded"
    settings.OPENAI_API_KEY = ""


def feed_post(api_client: Any, body: str, url: str = REDDIT_URL, user_id: str = "alice") -> Any:
    payload = {"user_id": user_id, "url": url, "data": {"feed_info": {"response": body}}}
    return api_client.post("/get_feed", payload, format="json")


class SpiderAnalyzer(Analyzer):
    """Matches posts saying "spider"; records each call; may end the deadline after a call."""

    version = "spider-test"

    def __init__(self, after_call: Any = None) -> None:
        self.calls: list[int] = []
        self.filter_counts: list[int] = []
        self.after_call = after_call

    def analyze(self, posts: list[PostInput], filters: list[FilterSpec]) -> Analysis:
        self.calls.append(len(posts))
        self.filter_counts.append(len(filters))
        matches = {
            post.id: [Match(filters[0].id, 0.9, ("spider",))]
            for post in posts
            if "spider" in post.text
        }
        if self.after_call:
            self.after_call()
        return Analysis(matches=matches)

    def rewrite(self, requests: Any) -> dict[str, Rewrite]:
        return {}


def spider_posts(count: int) -> str:
    return reddit_feed(*(shreddit_post(f"t3_{n}", f"spider number {n}") for n in range(count)))


# --- 12.4: never a 5xx ------------------------------------------------------------------------


@pytest.mark.parametrize("as_text", [False, True])
def test_data_nested_100000_deep_is_a_clear_400(api_client: Any, as_text: bool) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    data = json.dumps(nested) if as_text else nested  # client A sends `data` as JSON text
    raw = '{"user_id": "alice", "url": "' + REDDIT_URL + '", "data": ' + data + "}"

    response = api_client.generic("POST", "/get_feed", raw, content_type="application/json")

    assert response.status_code == 400, response.content[:300]
    assert response.json()["status"] == "error" and response.json()["message"]


@pytest.mark.usefixtures("embedded")
def test_one_lone_surrogate_tweet_costs_only_that_post(api_client: Any) -> None:
    """Issue 12.4: json decodes `\\ud800`; strict UTF-8 in the decision cache failed the feed."""
    filter_create(owner=user_get_or_create(user_id="alice"), filter_text="spiders", intensity=5)
    body = x_timeline(tweet("1", "a spider \ud800 on my wall"), tweet("2", "a spider in my bath"))
    assert "\\ud800" in body  # the raw JSON carries the escape, as X could send it

    response = feed_post(api_client, body, url=X_URL)

    assert response.status_code == 200
    answer = response.json()
    assert answer["degraded"] is False, answer["degraded_reason"]
    assert answer["stats"]["matched"] == 2
    timeline = json.loads(answer["feed"]["response"])
    entries = timeline["data"]["home"]["home_timeline_urt"]["instructions"][0]["entries"]
    texts = [e["content"]["itemContent"]["tweet_results"]["result"]["legacy"] for e in entries]
    assert all("__REWRITE_START__" in legacy["full_text"] for legacy in texts)


# --- 12.5: the deadline bounds all analysis -----------------------------------------------


def test_past_the_deadline_the_undecided_posts_come_back_unmarked_and_degraded(
    api_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The posts are analysed ANALYSIS_CHUNK_POSTS at a time; the deadline ends after the
    first step, so that step's posts are marked (and cached) and the rest come back as sent."""
    deadline_over = threading.Event()
    analyzer = SpiderAnalyzer()
    analyzer.after_call = lambda: deadline_over.set() if len(analyzer.calls) == 1 else None
    monkeypatch.setattr(services, "analyzer_get", lambda: analyzer)
    real_deadline = services.feed_deadline_get
    monkeypatch.setattr(
        services, "feed_deadline_get", lambda: 0.0 if deadline_over.is_set() else real_deadline()
    )
    filter_create(owner=user_get_or_create(user_id="alice"), filter_text="spiders", intensity=5)
    chunk = services.ANALYSIS_CHUNK_POSTS
    body = spider_posts(chunk * 2 + 5)

    answer = feed_post(api_client, body).json()

    assert analyzer.calls == [chunk]
    assert answer["degraded"] is True and "deadline" in answer["degraded_reason"]
    assert answer["stats"]["undecided"] == chunk + 5
    assert answer["stats"]["matched"] == chunk
    assert answer["feed"]["response"].count("__REWRITE_START__") == chunk
    deadline_over.clear()

    again = feed_post(api_client, body).json()  # the decided step was cached

    assert again["stats"]["cache_hits"] == chunk
    assert analyzer.calls == [chunk, chunk, 5]


@pytest.mark.usefixtures("embedded")
def test_the_embedded_analyzer_is_bounded_by_the_deadline_too(
    api_client: Any, settings: Any
) -> None:
    """A deadline over before analysis starts: no post is analysed, the feed comes back."""
    settings.DIYMOD_FEED_DEADLINE_SECONDS = 1e-9
    filter_create(owner=user_get_or_create(user_id="alice"), filter_text="spiders", intensity=5)
    body = spider_posts(3)

    answer = feed_post(api_client, body).json()

    assert answer["feed"]["response"] == body
    assert answer["degraded"] is True and "deadline exceeded" in answer["degraded_reason"]
    assert answer["stats"]["undecided"] == 3


def test_a_cancelled_feed_stops_analysing_at_the_next_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The socket sets `cancelled` when its client goes; the thread stops at the next step."""
    cancelled = threading.Event()
    analyzer = SpiderAnalyzer(after_call=cancelled.set)
    monkeypatch.setattr(services, "analyzer_get", lambda: analyzer)
    user = user_get_or_create(user_id="alice")
    filter_create(owner=user, filter_text="spiders", intensity=5)

    result = services.feed_moderate(
        user=user, url=REDDIT_URL, body=spider_posts(120), cancelled=cancelled
    )

    assert analyzer.calls == [services.ANALYSIS_CHUNK_POSTS]
    assert result.degraded and "client gone" in result.degraded_reason


# --- 12.5: filters per user are capped ------------------------------------------------------


def test_creating_a_filter_past_the_cap_is_a_clear_400(api_client: Any, settings: Any) -> None:
    settings.DIYMOD_MAX_FILTERS_PER_USER = 3
    for number in range(3):
        created = api_client.post(
            "/filters", {"user_id": "alice", "filter_text": f"topic {number}"}, format="json"
        )
        assert created.status_code == 200
    refused = api_client.post(
        "/filters", {"user_id": "alice", "filter_text": "one more"}, format="json"
    )
    other_user = api_client.post(
        "/filters", {"user_id": "bob", "filter_text": "one more"}, format="json"
    )

    assert refused.status_code == 400
    assert (
        "at most" in refused.json()["message"]
        or "most this server allows" in (refused.json()["message"])
    )
    assert other_user.status_code == 200


def test_a_feed_uses_at_most_the_cap_of_filters(
    api_client: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DIYMOD_MAX_FILTERS_PER_USER = 5
    analyzer = SpiderAnalyzer()
    monkeypatch.setattr(services, "analyzer_get", lambda: analyzer)
    user = user_get_or_create(user_id="alice")
    Filter.objects.bulk_create(  # more than the cap, as a lowered cap could leave behind
        [Filter(owner=user, filter_text=f"spiders {n}", intensity=5) for n in range(12)]
    )

    answer = feed_post(api_client, spider_posts(2)).json()

    assert analyzer.filter_counts == [5]
    assert answer["stats"]["matched"] == 2


@pytest.mark.usefixtures("embedded")
def test_more_than_2048_filters_still_moderate_the_feed(api_client: Any, settings: Any) -> None:
    """Issue 12.5: the embedded analyzer's filter-vector cache evicted what it had just
    computed past 2,048 filters (KeyError, feed unmoderated)."""
    settings.DIYMOD_MAX_FILTERS_PER_USER = 3000
    user = user_get_or_create(user_id="alice")
    topics = [f"obscure topic number {n}" for n in range(2100)] + ["spiders"]
    Filter.objects.bulk_create([Filter(owner=user, filter_text=t, intensity=5) for t in topics])

    answer = feed_post(api_client, reddit_feed(shreddit_post("t3_a", "A spider in my bath")))

    assert answer.status_code == 200
    assert answer.json()["degraded"] is False, answer.json()["degraded_reason"]
    assert "__REWRITE_START__" in answer.json()["feed"]["response"]
