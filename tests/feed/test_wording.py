"""What users read (feed/wording.py, diymod/wording.py): one table of every wording rule, then
the words as they reach a page on both platforms, from the embedded and the OpenAI path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from diymod.wording import DEFAULT_WARNING, IMAGE_CARD_TITLE, INTERVENTIONS_BY_INTENSITY
from feed import interventions, wording
from feed.wording import Kind
from filters.services import filter_create, user_get_or_create
from imaging.transforms import INTERVENTIONS, intervention_choose
from tests.feed.samples import REDDIT_URL, X_URL, reddit_feed, shreddit_post, tweet, x_timeline
from tests.support.openai_server import OpenAIServer

SPIDER_TEXT = "A huge spider was in the tent. We had lunch after."


@pytest.mark.parametrize(
    ("intensity", "text", "image"),
    [
        (0, Kind.BLUR, "blur"),  # out of range: the nearest row
        (1, Kind.BLUR, "blur"),
        (2, Kind.BLUR, "blur"),
        (3, Kind.OVERLAY, "warning"),
        (4, Kind.REWRITE, "cartoon"),
        (5, Kind.REWRITE, "cartoon"),
        (6, Kind.REWRITE, "cartoon"),
    ],
)
def test_one_intensity_table_picks_the_text_and_the_image_intervention(intensity, text, image):
    assert wording.intervention_for(intensity) is text
    assert intervention_choose(intensity=intensity) == image


def test_the_table_names_only_interventions_the_markers_and_imaging_know():
    for text, image in INTERVENTIONS_BY_INTENSITY.values():
        assert Kind(text) and image in INTERVENTIONS
    assert sorted(INTERVENTIONS_BY_INTENSITY) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("raw", "topics", "expected"),
    [
        ("Heads up", (), "Heads up"),
        ('Careful | "this"\n<now>', (), "Careful this now"),
        ("  lots   of\r\n space ", (), "lots of space"),
        ("|||", (), ""),
        ("x" * 200, (), "x" * wording.WARNING_MAX_CHARS),
        ("Spiders ahead", ("spiders",), ""),  # the topic itself
        ("A spider is here", ("spiders",), ""),  # its singular
        ("A TARANTULA", ("giant tarantulas",), ""),  # any word of it, any case
        ("Heads up", ("spiders",), "Heads up"),
        ("Something ahead", ("of", "an"), "Something ahead"),  # words under three letters
        ("Something ahead", ("Game of Thrones", "spiders"), "Something ahead"),
    ],
)
def test_warning_clean_is_marker_safe_short_and_never_names_a_topic(raw, topics, expected):
    assert wording.warning_clean(raw, topics) == expected


@pytest.mark.parametrize(
    ("raw", "topics", "expected"),
    [
        (None, (), DEFAULT_WARNING),
        ("", (), DEFAULT_WARNING),
        ("|\n|", (), DEFAULT_WARNING),
        ("Spiders ahead", ("spiders",), DEFAULT_WARNING),
        ("Heads up", ("spiders",), "Heads up"),
    ],
)
def test_warning_or_default_falls_back_to_the_one_default(raw, topics, expected):
    assert wording.warning_or_default(raw, topics) == expected


@pytest.mark.parametrize(
    ("text", "topics", "named"),
    [
        ("Spider season", ["spiders"], True),
        ("nothing to see", ["spiders"], False),
        ("nothing to see", [], False),
        ("thrones everywhere", ["Game of Thrones"], True),
        ("r/arachnids", ["r/arachnids"], True),
        ("小心蜘蛛", ["蜘蛛"], True),  # a two-character CJK topic is a whole word
        ("前方有内容", ["蜘蛛"], False),
        ("Grass everywhere", ["glass"], False),  # "ss" is no plural: glass, not "glas"
        ("Glasses on", ["glass"], True),
        ("Take a break", ["ass"], False),  # a short word keeps its s (it was "a": any "a" matched)
    ],
)
def test_topic_named_finds_any_word_of_any_topic(text, topics, named):
    assert wording.topic_named(text, topics) is named


@pytest.mark.parametrize("text", [DEFAULT_WARNING, IMAGE_CARD_TITLE, wording.REWRITE_NOTE])
def test_the_fixed_wording_is_marker_safe(text):
    assert wording.warning_clean(text) == text
    assert not interventions.markers_present(text)


def test_the_markers_use_the_wording():
    assert interventions.overlay_mark("x", "|").startswith(f"__OVERLAY_START__{DEFAULT_WARNING}|")
    assert wording.REWRITE_NOTE in (interventions.rewrite_mark("bad. good.", {"bad.": ""}) or "")


# --- the words on a page ------------------------------------------------------------------

PLATFORMS = {
    "reddit": (REDDIT_URL, reddit_feed(shreddit_post("t3_s", "Camping", SPIDER_TEXT))),
    "x": (X_URL, x_timeline(tweet("1", SPIDER_TEXT))),
}


def feed_response(api_client: Any, platform: str) -> str:
    url, body = PLATFORMS[platform]
    payload = {"user_id": "alice", "url": url, "data": {"feed_info": {"response": body}}}
    response = api_client.post("/get_feed", payload, format="json")
    assert response.status_code == 200
    return response.json()["feed"]["response"]


def alice_filter(intensity: int) -> None:
    owner = user_get_or_create(user_id="alice")
    filter_create(owner=owner, filter_text="spiders", intensity=intensity)


@pytest.mark.django_db
@pytest.mark.parametrize("platform", ["reddit", "x"])
@pytest.mark.parametrize(
    ("intensity", "expected"),
    [
        (1, "__BLUR_START__"),
        (2, "__BLUR_START__"),
        (3, f"__OVERLAY_START__{DEFAULT_WARNING}|"),
        (4, f"__REWRITE_START__{wording.REWRITE_NOTE}__REWRITE_END__"),
        (5, f"__REWRITE_START__{wording.REWRITE_NOTE}__REWRITE_END__"),
    ],
)
def test_the_embedded_path_shows_the_wording_on_both_platforms(
    api_client, platform, intensity, expected
):
    alice_filter(intensity)
    assert expected in feed_response(api_client, platform)


def warning_model(warning: str) -> Any:
    """A model that matches the spider sentence and answers rewrites with `warning`."""

    def respond(body: dict[str, Any]) -> dict[str, Any]:
        content = body["messages"][-1]["content"]
        payload = json.loads(content if isinstance(content, str) else content[0]["text"])
        if body["response_format"]["json_schema"]["name"] == "feed_rewrites":
            posts = payload["posts"]
            return {
                "posts": [{"id": p["id"], "warning": warning, "replacements": []} for p in posts]
            }
        match = {"confidence": 0.95, "in_text": True, "in_image": False}
        return {
            "posts": [
                {
                    "id": post["id"],
                    "matches": [
                        {**match, "filter_id": f["id"], "passages": [SPIDER_TEXT.split(".")[0]]}
                        for f in payload["filters"]
                    ],
                }
                for post in payload["posts"]
            ]
        }

    return respond


@pytest.mark.django_db
@pytest.mark.parametrize("platform", ["reddit", "x"])
@pytest.mark.parametrize(
    ("model_warning", "shown"),
    [
        ("Heads up: something you asked to avoid", "Heads up: something you asked to avoid"),
        ("Spiders ahead", DEFAULT_WARNING),  # names the topic: the default instead
        ('Careful | "now"', "Careful now"),
    ],
)
def test_the_openai_path_shows_a_safe_model_warning_or_the_default(
    api_client, openai_settings: OpenAIServer, settings, platform, model_warning, shown
):
    settings.DIYMOD_ANALYZER = "auto"
    settings.DIYMOD_FEED_DEADLINE_SECONDS = 6.0
    openai_settings.respond_with(warning_model(model_warning))
    alice_filter(3)
    assert f"__OVERLAY_START__{shown}|" in feed_response(api_client, platform)
