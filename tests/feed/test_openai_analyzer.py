"""The OpenAI analyzer over real HTTP against the local OpenAI-compatible server."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest

from feed.analyzers import FallbackAnalyzer, analyzer_get
from feed.analyzers.base import FilterSpec, PostInput, RewriteRequest
from feed.analyzers.deadline import feed_deadline
from feed.analyzers.embedded import EmbeddedAnalyzer
from feed.analyzers.openai import OpenAIAnalyzer
from feed.wording import REWRITE_NOTE
from tests.support.openai_server import OpenAIServer

SPIDERS = FilterSpec(id=7, text="spiders", content_type="text", intensity=3)
SPIDERS_ALL = FilterSpec(id=8, text="spiders", content_type="all", intensity=3)


def user_payload(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON the analyzer put in the first text part of its user message."""
    content = body["messages"][-1]["content"]
    text = content if isinstance(content, str) else content[0]["text"]
    return json.loads(text)


def keyword_model(body: dict[str, Any]) -> dict[str, Any]:
    """A stand-in model: a post matches a filter when it names the filter's topic."""
    payload = user_payload(body)
    posts = []
    for post in payload["posts"]:
        matches = [
            {
                "filter_id": item["id"],
                "confidence": 0.9,
                "passages": [s for s in post["text"].split(". ") if item["topic"][:-1] in s],
                "in_text": True,
                "in_image": False,
            }
            for item in payload["filters"]
            if item["topic"][:-1] in post["text"].lower()
        ]
        posts.append({"id": post["id"], "matches": matches})
    return {"posts": posts}


def feed_posts(count: int) -> list[PostInput]:
    return [
        PostInput(f"t3_{n}", f"Post {n}. A spider lives here" if n % 5 == 0 else f"Post {n}.")
        for n in range(count)
    ]


@pytest.fixture
def model(openai_settings: OpenAIServer, settings: Any) -> OpenAIServer:
    settings.DIYMOD_ANALYZER = "auto"
    settings.DIYMOD_OPENAI_MODEL = "text-model"
    settings.DIYMOD_OPENAI_VISION_MODEL = "vision-model"
    settings.DIYMOD_FEED_DEADLINE_SECONDS = 8.0
    openai_settings.respond_with(keyword_model)
    return openai_settings


def test_twenty_five_posts_cost_one_model_call(model: OpenAIServer) -> None:
    analysis = analyzer_get().analyze(feed_posts(25), [SPIDERS])
    assert len(model.calls) == 1
    assert analysis.model_calls == 1
    assert sorted(analysis.matches) == sorted(f"t3_{n}" for n in range(0, 25, 5))
    assert analysis.degraded_reason == ""


def test_sixty_posts_cost_three_calls_covering_every_post(model: OpenAIServer) -> None:
    analysis = analyzer_get().analyze(feed_posts(60), [SPIDERS])
    assert len(model.calls) == 3
    sent = sorted(post["id"] for call in model.calls for post in user_payload(call.body)["posts"])
    assert sent == sorted(f"t3_{n}" for n in range(60))
    assert len(analysis.matches) == 12


def test_the_request_is_a_strict_structured_output_with_the_text_model(
    model: OpenAIServer,
) -> None:
    analyzer_get().analyze(feed_posts(3), [SPIDERS])
    body = model.calls[0].body
    assert body["model"] == "text-model"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert user_payload(body)["filters"] == [{"id": 7, "topic": "spiders", "applies_to": "text"}]


def test_invented_passages_and_unknown_ids_are_dropped(model: OpenAIServer) -> None:
    def lying_model(body: dict[str, Any]) -> dict[str, Any]:
        match = {"filter_id": 7, "confidence": 0.8, "in_text": True, "in_image": False}
        return {
            "posts": [
                {
                    "id": "p1",
                    "matches": [{**match, "passages": ["A spider lives here", "made up"]}],
                },
                {"id": "p2", "matches": [{**match, "filter_id": 99, "passages": []}]},
                {"id": "nobody", "matches": [{**match, "passages": []}]},
                {"id": "p3", "matches": [{**match, "confidence": 0.2, "passages": []}]},
            ]
        }

    model.respond_with(lying_model)
    posts = [
        PostInput("p1", "Hello. A spider lives here"),
        PostInput("p2", "x"),
        PostInput("p3", "y"),
    ]
    analysis = analyzer_get().analyze(posts, [SPIDERS])
    assert list(analysis.matches) == ["p1"]
    assert analysis.matches["p1"][0].passages == ("A spider lives here",)


def test_a_passage_with_tidied_whitespace_maps_back_to_the_exact_text(
    model: OpenAIServer,
) -> None:
    text = "Big spider\nin my   shed today"
    match = {"filter_id": 7, "confidence": 0.9, "in_text": True, "in_image": False}
    model.respond_with(
        lambda body: {
            "posts": [{"id": "p1", "matches": [{**match, "passages": ["spider in my shed"]}]}]
        }
    )
    [found] = analyzer_get().analyze([PostInput("p1", text)], [SPIDERS]).matches["p1"]
    assert found.passages == ("spider\nin my   shed",)


def test_images_ride_along_in_the_same_request_for_image_filters(model: OpenAIServer) -> None:
    posts = [
        PostInput("p1", "look", image_alts=("alt one",), image_urls=("https://i.redd.it/a.jpg",)),
        PostInput("p2", "no picture"),
    ]
    analyzer_get().analyze(posts, [SPIDERS_ALL])
    [call] = model.calls
    assert call.body["model"] == "vision-model"
    parts = call.body["messages"][-1]["content"]
    image_urls = [part["image_url"]["url"] for part in parts if part["type"] == "image_url"]
    assert image_urls == ["https://i.redd.it/a.jpg"]
    assert user_payload(call.body)["posts"][0]["image_alt_texts"] == ["alt one"]


def test_text_filters_send_no_images(model: OpenAIServer) -> None:
    post = PostInput("p1", "look", image_urls=("https://i.redd.it/a.jpg",))
    analyzer_get().analyze([post], [SPIDERS])
    content = model.calls[0].body["messages"][-1]["content"]
    assert all(part["type"] == "text" for part in content)
    assert model.calls[0].body["model"] == "text-model"


def test_an_image_match_is_reported_on_the_image(model: OpenAIServer) -> None:
    model.respond_with(
        lambda body: {
            "posts": [
                {
                    "id": "p1",
                    "matches": [
                        {
                            "filter_id": 8,
                            "confidence": 0.95,
                            "passages": [],
                            "in_text": False,
                            "in_image": True,
                        }
                    ],
                }
            ]
        }
    )
    post = PostInput("p1", "my shed", image_urls=("https://i.redd.it/a.jpg",))
    [match] = analyzer_get().analyze([post], [SPIDERS_ALL]).matches["p1"]
    assert match.on_image and not match.on_text


def test_a_slow_model_past_the_deadline_degrades_to_the_local_analyzer(
    model: OpenAIServer, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.DIYMOD_FEED_DEADLINE_SECONDS = 2.0  # leaves the model 0.5 s
    model.delay = 5.0
    with caplog.at_level(logging.WARNING, logger="feed.analyzers"):
        analysis = analyzer_get().analyze(
            [PostInput("p1", "I found a spider in my shoe.")], [SPIDERS]
        )
    assert "timeout" in analysis.degraded_reason
    assert list(analysis.matches) == ["p1"]  # the embedded analyzer's answer
    assert len(model.calls) == 1  # no retry can fit in what is left
    assert any("failed" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("status", [429, 500])
def test_server_errors_are_retried_a_bounded_number_of_times_then_degrade(
    model: OpenAIServer, settings: Any, status: int
) -> None:
    settings.DIYMOD_OPENAI_MAX_RETRIES = 2
    model.fail_with(status)
    analysis = analyzer_get().analyze(feed_posts(5), [SPIDERS])
    assert len(model.calls) == 3
    assert f"http_{status}" in analysis.degraded_reason
    assert analysis.model_calls == 3
    assert list(analysis.matches) == ["t3_0"]


def test_one_transient_error_is_retried_without_degrading(model: OpenAIServer) -> None:
    model.fail_with(500, times=1)
    analysis = analyzer_get().analyze(feed_posts(5), [SPIDERS])
    assert analysis.degraded_reason == ""
    assert len(model.calls) == 2


def test_invalid_json_from_the_model_degrades(model: OpenAIServer, settings: Any) -> None:
    settings.DIYMOD_OPENAI_MAX_RETRIES = 0
    model.fail_with("invalid_json")
    analysis = analyzer_get().analyze(feed_posts(5), [SPIDERS])
    assert "invalid_json" in analysis.degraded_reason
    # No ordinary retry; the one response-format retry of an unparseable answer (issue 16).
    assert [call.body["response_format"]["type"] for call in model.calls] == [
        "json_schema",
        "json_object",
    ]


def test_one_failed_chunk_degrades_the_whole_answer(model: OpenAIServer, settings: Any) -> None:
    settings.DIYMOD_OPENAI_MAX_RETRIES = 0
    model.fail_with(500, times=1)
    analysis = analyzer_get().analyze(feed_posts(50), [SPIDERS])
    assert len(model.calls) == 2
    assert analysis.degraded_reason
    assert len(analysis.matches) == 10  # every post answered, by the local analyzer


def test_rewrites_are_one_request_for_only_the_posts_that_need_them(model: OpenAIServer) -> None:
    def rewriter(body: dict[str, Any]) -> dict[str, Any]:
        posts = user_payload(body)["posts"]
        return {
            "posts": [
                {
                    "id": post["id"],
                    "warning": "You asked not to see some of this",
                    "replacements": [
                        {"passage": passage, "replacement": "Something small was here."}
                        for passage in post["passages"]
                    ]
                    + [{"passage": "not in the post", "replacement": "x"}],
                }
                for post in posts
            ]
        }

    model.respond_with(rewriter)
    requests = [
        RewriteRequest("a", "Hi. A spider lives here.", ("A spider lives here.",), ("spiders",)),
        RewriteRequest("b", "A spider bit me.", ("A spider bit me.",), ("spiders",)),
    ]
    rewrites = analyzer_get().rewrite(requests)
    [call] = model.calls
    assert [post["id"] for post in user_payload(call.body)["posts"]] == ["a", "b"]
    assert rewrites["a"].replacements == {"A spider lives here.": "Something small was here."}
    assert rewrites["b"].warning == "You asked not to see some of this"


def test_a_warning_that_names_the_topic_or_breaks_the_marker_is_dropped(
    model: OpenAIServer,
) -> None:
    model.respond_with(
        lambda body: {
            "posts": [
                {"id": "a", "warning": "Spiders ahead", "replacements": []},
                {"id": "b", "warning": 'Careful | "this" <b>', "replacements": []},
            ]
        }
    )
    requests = [
        RewriteRequest("a", "A spider.", ("A spider.",), ("spiders",)),
        RewriteRequest("b", "A spider.", ("A spider.",), ("spiders",)),
    ]
    rewrites = analyzer_get().rewrite(requests)
    assert rewrites["a"].warning == ""
    assert rewrites["b"].warning == "Careful this b"


def test_a_failed_rewrite_falls_back_to_local_notes(model: OpenAIServer, settings: Any) -> None:
    settings.DIYMOD_OPENAI_MAX_RETRIES = 0
    model.fail_with("drop")
    request = RewriteRequest("a", "Hi. A spider lives here.", ("spider",), ("spiders",))
    rewrites = analyzer_get().rewrite([request])
    assert rewrites["a"].replacements == {"A spider lives here.": REWRITE_NOTE}


def test_the_settings_choose_the_analyzer(openai_settings: OpenAIServer, settings: Any) -> None:
    settings.DIYMOD_ANALYZER = "auto"
    settings.DIYMOD_OPENAI_MODEL = "model-a"
    chosen = analyzer_get()
    assert isinstance(chosen, FallbackAnalyzer)
    assert isinstance(chosen.primary, OpenAIAnalyzer)
    assert "model-a" in chosen.version
    settings.DIYMOD_ANALYZER = "embedded"
    assert isinstance(analyzer_get(), EmbeddedAnalyzer)


def test_an_enclosing_feed_deadline_already_spent_skips_the_model(model: OpenAIServer) -> None:
    with feed_deadline(time.monotonic() + 1.0):  # less than the fallback's reserve is left
        analysis = analyzer_get().analyze(feed_posts(5), [SPIDERS])
    assert model.calls == []
    assert "deadline" in analysis.degraded_reason
    assert list(analysis.matches) == ["t3_0"]
