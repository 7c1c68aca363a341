"""Profiles written by the model (feed/profiles/model.py), over real HTTP against the local
OpenAI-compatible test server: one call per new filter text, never per post, cached, used by
the embedded analyzer, and any failure falls back to the library or generic profile."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from feed.analyzers.base import FilterSpec, PostInput
from feed.analyzers.embedded import EmbeddedAnalyzer
from feed.profiles.model import ModelProfiles
from tests.support.openai_server import CHAT_PATH, OpenAIServer

GLIMMER = {
    "kind": "entity",
    "names": ["glimmerwood"],
    "descriptions": ["a post about the glimmerwood festival"],
    "aliases": ["glimmerwood", "#glimmerfest", "quuxcorp"],
    "vocabulary": ["lanterns"],
    "not": ["glimmerwood road"],
    "detector": "none",
}


@pytest.fixture
def model(openai_settings: OpenAIServer, settings: Any) -> OpenAIServer:
    settings.DIYMOD_OPENAI_MODEL = "profile-model"
    cache.clear()
    openai_settings.respond_with(lambda body: GLIMMER)
    return openai_settings


def chat_calls(server: OpenAIServer) -> list[Any]:
    return [call for call in server.calls if call.path == CHAT_PATH]


def test_one_call_per_new_filter_text_never_per_post(model: OpenAIServer) -> None:
    analyzer = EmbeddedAnalyzer(profile_source=ModelProfiles(), cjk_model=False)
    spec = FilterSpec(1, "Glimmerwood", "text", 1)
    posts = [PostInput(f"p{n}", f"Post number {n} about lunch.") for n in range(30)]
    posts.append(PostInput("hit", "Tickets for QuuxCorp's lantern night are out"))
    for _ in range(3):
        matches = analyzer.analyze(posts, [spec]).matches
    assert list(matches) == ["hit"]
    [call] = chat_calls(model)
    assert call.body["model"] == "profile-model"
    assert call.body["response_format"]["type"] == "json_schema"
    assert call.body["messages"][-1]["content"].endswith("glimmerwood")


def test_the_model_profile_masks_its_own_look_alikes(model: OpenAIServer) -> None:
    analyzer = EmbeddedAnalyzer(profile_source=ModelProfiles(), cjk_model=False)
    post = PostInput("road", "Traffic on Glimmerwood Road is slow this morning.")
    assert analyzer.analyze([post], [FilterSpec(1, "glimmerwood", "text", 1)]).matches == {}


def test_a_stored_profile_is_shared_across_processes_without_a_call(model: OpenAIServer) -> None:
    first = ModelProfiles().profile_get("glimmerwood")
    second = ModelProfiles().profile_get("posts about Glimmerwood")  # a new process, same text
    assert first is not None and second is not None
    assert first.aliases == second.aliases and second.source == "model"
    assert len(chat_calls(model)) == 1


def test_a_failing_model_falls_back_to_the_library_and_is_not_asked_again_at_once(
    model: OpenAIServer,
) -> None:
    model.fail_with(500, times=None)
    source = ModelProfiles()
    analyzer = EmbeddedAnalyzer(profile_source=source, cjk_model=False)
    assert analyzer.profile_for("spiders").source == "library"
    assert source.profile_get("spiders") is None
    assert len(chat_calls(model)) == 2  # one attempt and its one retry, once


def test_an_invalid_profile_is_not_used(model: OpenAIServer) -> None:
    model.respond_with(lambda body: {**GLIMMER, "kind": "nonsense"})
    assert ModelProfiles().profile_get("glimmerwood") is None


def test_without_a_key_no_call_is_made(model: OpenAIServer, settings: Any) -> None:
    settings.OPENAI_API_KEY = ""
    assert ModelProfiles().profile_get("glimmerwood") is None
    assert chat_calls(model) == []


def test_the_model_source_is_part_of_the_analyzer_version(model: OpenAIServer) -> None:
    with_model = EmbeddedAnalyzer(profile_source=ModelProfiles())
    assert "mpp1-profile-model" in with_model.version
    assert with_model.version != EmbeddedAnalyzer().version
