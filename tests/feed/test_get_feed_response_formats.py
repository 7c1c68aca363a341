"""POST /get_feed with the OpenAI analyzer against servers that differ in structured output
(tests/support/openai_server.py mimics): OpenAI/vLLM-like, llama.cpp-like, code-fence."""

from __future__ import annotations

import json
from typing import Any

import pytest

from filters.services import filter_create, user_get_or_create
from tests.feed.samples import reddit_feed, shreddit_post
from tests.feed.test_get_feed_openai import feed_post, keyword_model
from tests.support.openai_server import OpenAIServer, RecordedCall

pytestmark = pytest.mark.django_db


def sent_schema(body: dict[str, Any]) -> dict[str, Any]:
    response_format = body["response_format"]
    return response_format.get("schema") or response_format["json_schema"]["schema"]


def any_format_model(body: dict[str, Any]) -> dict[str, Any]:
    """keyword_model for requests in either format: which step asks is read off the schema."""
    name = "feed_rewrites" if "warning" in json.dumps(sent_schema(body)) else "feed_matches"
    return keyword_model({**body, "response_format": {"json_schema": {"name": name}}})


def step(call: RecordedCall) -> str:
    kind = call.body["response_format"]["type"]
    which = "rewrites" if "warning" in json.dumps(sent_schema(call.body)) else "matches"
    return f"{which}:{kind}" + (":refused" if call.fault else "")


def feed_of(count: int, prefix: str = "a") -> str:
    """Posts whose texts differ by prefix, so that a second feed is not served from caches."""
    posts = [
        shreddit_post(f"t3_{prefix}{n}", f"Lunch {prefix} {n}")
        if n % 5
        else shreddit_post(f"t3_{prefix}{n}", f"I saw a spider in {prefix} today")
        for n in range(count)
    ]
    return reddit_feed(*posts)


@pytest.fixture
def model(openai_settings: OpenAIServer, settings: Any) -> OpenAIServer:
    settings.DIYMOD_ANALYZER = "auto"
    settings.DIYMOD_FEED_DEADLINE_SECONDS = 6.0
    filter_create(owner=user_get_or_create(user_id="alice"), filter_text="spiders", intensity=4)
    return openai_settings


@pytest.fixture
def compat(model: OpenAIServer, settings: Any) -> OpenAIServer:
    settings.DIYMOD_OPENAI_RESPONSE_FORMAT = "auto"
    model.respond_with(any_format_model)
    return model


@pytest.mark.parametrize(
    ("mimic", "steps"),
    [
        ("openai", ["matches:json_schema", "rewrites:json_schema"]),
        (
            "llama_cpp",
            ["matches:json_schema:refused", "matches:json_object", "rewrites:json_object"],
        ),
        ("code_fence", ["matches:json_schema", "rewrites:json_object"]),
    ],
)
def test_each_kind_of_server_gets_a_moderated_feed_from_the_model(
    api_client, compat, mimic, steps
):
    compat.mimic = mimic
    body = feed_post(api_client, feed_of(25))
    assert [step(call) for call in compat.calls] == steps
    assert body["degraded"] is False
    assert body["stats"]["model_calls"] == len(steps)
    assert body["stats"]["matched"] == 5
    assert "__REWRITE_START__I saw a creature.__REWRITE_END__" in body["feed"]["response"]


def test_a_second_feed_makes_no_json_schema_attempt_against_a_llama_cpp_like_server(
    api_client, compat
):
    compat.mimic = "llama_cpp"
    feed_post(api_client, feed_of(10, prefix="a"))
    first_calls = len(compat.calls)
    body = feed_post(api_client, feed_of(10, prefix="b"))
    later = compat.calls[first_calls:]
    assert [step(call) for call in later] == ["matches:json_object", "rewrites:json_object"]
    assert body["stats"]["model_calls"] == 2 and body["degraded"] is False


def test_a_feed_in_several_chunks_spends_one_refused_request_in_all(api_client, compat):
    compat.mimic = "llama_cpp"
    body = feed_post(api_client, feed_of(60))  # three chunks of at most 25 posts
    steps = [step(call) for call in compat.calls]
    assert steps.count("matches:json_schema:refused") == 1
    assert steps.count("matches:json_object") == 3
    assert body["stats"]["model_calls"] == len(steps) == 5  # + one rewrite request
    assert body["degraded"] is False and body["stats"]["matched"] == 12


def test_an_answer_that_does_not_match_the_schema_degrades_the_feed(api_client, compat):
    compat.mimic = "llama_cpp"
    compat.respond_with(lambda body: {"posts": [{"id": "t3_a0", "matches": "spiders"}]})
    body = feed_post(api_client, feed_of(10))
    assert body["degraded"] is True
    assert "invalid_json" in body["degraded_reason"]
    assert "__REWRITE_START__" in body["feed"]["response"]  # the local analyzer still marks


def test_forced_json_schema_is_never_switched_and_a_refusing_server_degrades(
    api_client, compat, settings
):
    settings.DIYMOD_OPENAI_RESPONSE_FORMAT = "json_schema"
    compat.mimic = "llama_cpp"
    body = feed_post(api_client, feed_of(10))
    assert body["degraded"] is True and "http_400" in body["degraded_reason"]
    assert {call.body["response_format"]["type"] for call in compat.calls} == {"json_schema"}


def test_forced_json_object_is_used_from_the_first_request(api_client, compat, settings):
    settings.DIYMOD_OPENAI_RESPONSE_FORMAT = "json_object"
    body = feed_post(api_client, feed_of(25))
    assert [step(call) for call in compat.calls] == ["matches:json_object", "rewrites:json_object"]
    assert body["degraded"] is False and body["stats"]["matched"] == 5
