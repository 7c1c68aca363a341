"""Exclusions as semantic negatives: a profile's "not" phrases embedded and weighed against its
descriptions (MatchParams.negative_weight). Real MiniLM, a two-profile library written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feed.analyzers.base import FilterSpec, PostInput
from feed.analyzers.embedded import (
    SHIPPED,
    EmbeddedAnalyzer,
    MatchParams,
    negative_penalty,
)
from feed.profiles import Library, library_load

PROFILES = [
    {
        "key": "bats",
        "kind": "topic",
        "names": ["bats"],
        "descriptions": [
            "a post about bats, the flying mammals that roost in caves and eat insects",
            "someone found a bat in their attic or saw bats flying at dusk",
        ],
        "aliases": ["bats", "fruit bat"],
        "not": ["batman", "the batman movie", "a baseball bat", "baseball"],
    },
    {
        "key": "owls",
        "kind": "topic",
        "names": ["owls"],
        "descriptions": [
            "a post about owls, the birds of prey that hunt at night",
            "someone heard an owl hooting in the woods",
        ],
        "aliases": ["owls"],
    },
]
# The superhero post never names a look-alike (nothing to mask lexically), yet its night, cape
# and flight pull it towards the animal; its nearest "not" phrase is far nearer.
LOOK_ALIKE = PostInput(
    "hero", "Gotham's hero swings his cape across the night sky in the new superhero film."
)
ON_TOPIC = PostInput(
    "barn",
    "A colony of little brown creatures with leathery wings roosts in our barn and comes "
    "out at dusk.",
)
OWL = PostInput("owl", "Heard something hooting in the woods behind the house all night.")
# A threshold the look-alike passes on its semantic score alone (0.35 there).
LOW_TOPIC = MatchParams(topic=0.30)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    folder: Path = tmp_path_factory.mktemp("library")
    (folder / "animals.json").write_text(json.dumps(PROFILES))
    loaded = library_load(folder)
    assert not loaded.problems
    return loaded


def analyzer_with(library: Library, params: MatchParams) -> EmbeddedAnalyzer:
    return EmbeddedAnalyzer(params=params, library=library, cjk_model=False)


def marked(analyzer: EmbeddedAnalyzer, posts: list[PostInput], text: str) -> set[str]:
    spec = FilterSpec(id=1, text=text, content_type="text", intensity=3)
    return set(analyzer.analyze(posts, [spec]).matches)


def test_a_post_about_the_look_alike_is_not_matched_and_one_about_the_topic_still_matches(
    library: Library,
) -> None:
    off = analyzer_with(library, LOW_TOPIC)
    on = analyzer_with(library, MatchParams(topic=0.30, negative_weight=1.0))
    assert marked(off, [LOOK_ALIKE, ON_TOPIC], "bats") == {"hero", "barn"}
    assert marked(on, [LOOK_ALIKE, ON_TOPIC], "bats") == {"barn"}
    spec = FilterSpec(id=1, text="bats", content_type="text", intensity=3)
    hero, barn = (found[1].text for found in on.evidence([LOOK_ALIKE, ON_TOPIC], [spec]))
    assert hero.negative > hero.semantic + 0.1  # not a near thing
    assert barn.semantic > barn.negative + 0.1


def test_a_profile_without_not_phrases_is_unaffected(library: Library) -> None:
    posts = [LOOK_ALIKE, ON_TOPIC, OWL]
    off = analyzer_with(library, LOW_TOPIC)
    on = analyzer_with(library, MatchParams(topic=0.30, negative_weight=4.0))
    assert marked(on, posts, "owls") == marked(off, posts, "owls") == {"barn", "owl"}
    spec = FilterSpec(id=1, text="owls", content_type="text", intensity=3)
    assert all(found[1].text.negative == -1.0 for found in on.evidence(posts, [spec]))


def test_switched_off_the_not_phrases_are_not_even_embedded(library: Library) -> None:
    """No cost when the fitted parameters do not use them (nor any change in decisions)."""
    analyzer = analyzer_with(library, MatchParams(topic=0.30))
    assert not analyzer.use_negatives
    spec = FilterSpec(id=1, text="bats", content_type="text", intensity=3)
    [found] = analyzer.evidence([LOOK_ALIKE], [spec])
    assert found[1].text.negative == -1.0
    assert analyzer_with(library, SHIPPED).use_negatives == SHIPPED.negatives_on


def test_the_weight_is_part_of_the_tag_and_so_of_the_analyzer_version() -> None:
    off, on = MatchParams(), MatchParams(negative_weight=0.5)
    assert "-noff" in off.tag() and "-n0.500" in on.tag()
    assert off.tag() != on.tag() != MatchParams(negative_weight=1.0).tag()
    assert EmbeddedAnalyzer(params=off).version != EmbeddedAnalyzer(params=on).version


def test_the_penalty_is_the_weighted_excess_of_the_look_alike() -> None:
    assert negative_penalty(-1.0, 0.9, 1.0) == 0.0  # nothing read
    assert negative_penalty(0.3, -1.0, 1.0) == 0.0  # no "not" phrases
    assert negative_penalty(0.3, 0.9, 0.0) == 0.0  # switched off
    assert negative_penalty(0.4, 0.3, 2.0) == 0.0  # the topic wins: nothing lost
    assert negative_penalty(0.3, 0.4, 2.0) == pytest.approx(0.2)
