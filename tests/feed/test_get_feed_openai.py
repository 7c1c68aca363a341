"""POST /get_feed with the OpenAI analyzer, over real HTTP to the local compatible server."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from filters.services import filter_create, user_get_or_create
from tests.feed.samples import REDDIT_URL, reddit_feed, shreddit_post
from tests.support.openai_server import OpenAIServer

pytestmark = pytest.mark.django_db


def request_payload(body: dict[str, Any]) -> dict[str, Any]:
    content = body["messages"][-1]["content"]
    return json.loads(content if isinstance(content, str) else content[0]["text"])


def schema_name(body: dict[str, Any]) -> str:
    return body["response_format"]["json_schema"]["name"]


def keyword_model(body: dict[str, Any]) -> dict[str, Any]:
    """Matches posts naming the filter's topic; rewrites say "a creature" instead."""
    payload = request_payload(body)
    if schema_name(body) == "feed_rewrites":
        return {
            "posts": [
                {
                    "id": post["id"],
                    "warning": "Heads up: this post has something you asked to avoid",
                    "replacements": [
                        {"passage": passage, "replacement": "I saw a creature."}
                        for passage in post["passages"]
                    ],
                }
                for post in payload["posts"]
            ]
        }
    posts = []
    for post in payload["posts"]:
        matches = [
            {
                "filter_id": item["id"],
                "confidence": 0.95,
                "passages": [s for s in post["text"].split("\n") if "spider" in s.lower()],
                "in_text": True,
                "in_image": False,
            }
            for item in payload["filters"]
            if "spider" in post["text"].lower()
        ]
        posts.append({"id": post["id"], "matches": matches})
    return {"posts": posts}


def feed_of(count: int) -> str:
    posts = [
        shreddit_post(f"t3_{n}", "I saw a spider today" if n % 5 == 0 else f"Lunch number {n}")
        for n in range(count)
    ]
    return reddit_feed(*posts)


@pytest.fixture
def model(openai_settings: OpenAIServer, settings: Any) -> OpenAIServer:
    settings.DIYMOD_ANALYZER = "auto"
    settings.DIYMOD_FEED_DEADLINE_SECONDS = 6.0
    openai_settings.respond_with(keyword_model)
    filter_create(owner=user_get_or_create(user_id="alice"), filter_text="spiders", intensity=4)
    return openai_settings


def feed_post(api_client, body: str, user_id: str = "alice") -> dict[str, Any]:
    payload = {"user_id": user_id, "url": REDDIT_URL, "data": {"feed_info": {"response": body}}}
    response = api_client.post("/get_feed", payload, format="json")
    assert response.status_code == 200
    return response.json()


def test_a_25_post_feed_costs_two_model_calls_and_uses_the_models_rewrite(api_client, model):
    body = feed_post(api_client, feed_of(25))
    assert body["stats"]["model_calls"] == 2
    assert [schema_name(call.body) for call in model.calls] == ["feed_matches", "feed_rewrites"]
    assert body["degraded"] is False
    assert "__REWRITE_START__I saw a creature.__REWRITE_END__" in body["feed"]["response"]
    assert body["stats"]["matched"] == 5


def test_a_feed_seen_again_costs_no_model_call(api_client, model):
    first = feed_post(api_client, feed_of(25))
    second = feed_post(api_client, feed_of(25))
    assert second["stats"]["model_calls"] == 0
    assert second["stats"]["cache_hits"] == 25
    assert len(model.calls) == 2
    assert second["feed"]["response"] == first["feed"]["response"]


def test_another_user_with_the_same_filter_shares_the_cached_decisions(api_client, model):
    feed_post(api_client, feed_of(10))
    filter_create(owner=user_get_or_create(user_id="bob"), filter_text="spiders", intensity=4)
    assert feed_post(api_client, feed_of(10), user_id="bob")["stats"]["model_calls"] == 0


def test_the_other_users_filters_never_reach_the_model(api_client, model):
    filter_create(owner=user_get_or_create(user_id="bob"), filter_text="clowns")
    feed_post(api_client, feed_of(5))
    topics = [item["topic"] for item in request_payload(model.calls[0].body)["filters"]]
    assert topics == ["spiders"]


@pytest.mark.parametrize("fault", [500, 429, "invalid_json", "drop"])
def test_model_faults_degrade_to_the_local_analyzer_and_still_mark(api_client, model, fault):
    model.fail_with(fault)
    body = feed_post(api_client, feed_of(10))
    assert body["degraded"] is True
    assert body["degraded_reason"]
    assert "__REWRITE_START__" in body["feed"]["response"]


def test_a_slow_model_is_abandoned_at_the_deadline(api_client, model, settings):
    settings.DIYMOD_FEED_DEADLINE_SECONDS = 2.5
    settings.DIYMOD_OPENAI_TIMEOUT_SECONDS = 10.0
    model.delay = 6.0
    started = time.monotonic()
    body = feed_post(api_client, feed_of(10))
    elapsed = time.monotonic() - started
    model.delay = 0  # let the server's handler threads finish quickly
    assert body["degraded"] is True
    assert "__REWRITE_START__" in body["feed"]["response"]
    assert elapsed < 5.5  # bounded by the deadline, not by the model's 6 s


def test_degraded_decisions_are_not_cached(api_client, model):
    model.fail_with(500, times=4)
    assert feed_post(api_client, feed_of(5))["degraded"] is True
    model.clear_faults()
    body = feed_post(api_client, feed_of(5))
    assert body["degraded"] is False and body["stats"]["model_calls"] >= 1
