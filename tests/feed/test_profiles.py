"""Filter profiles: the shipped topic library is valid, the loader versions it, filter texts
find their profile (or a generic one), and model-written profiles cost one call per text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feed.analyzers.base import FilterSpec, PostInput
from feed.analyzers.embedded import EmbeddedAnalyzer
from feed.profiles import Profile, library_load, profile_resolve, text_normalise
from feed.profiles.library import LIBRARY_DIR
from feed.profiles.resolve import NEAREST_MARGIN, NEAREST_MIN
from feed.profiles.types import KINDS, profile_problems

ENTRY = {
    "key": "zorblax",
    "kind": "topic",
    "group": "test",
    "names": ["zorblax", "zorblaxes"],
    "descriptions": ["a post about the zorblax creature"],
    "aliases": ["zorblax", "giant zorb"],
    "vocabulary": ["tentacle"],
    "not": ["zorblax cola"],
    "detector": None,
}


def library_files() -> list[Path]:
    return sorted(LIBRARY_DIR.glob("*.json"))


# --- the shipped library ----------------------------------------------------------------------


def test_the_shipped_library_loads_without_a_skipped_entry() -> None:
    library = library_load()
    assert library.problems == ()
    assert len(library.profiles) >= 100
    assert {profile.kind for profile in library.profiles} <= set(KINDS)


@pytest.mark.parametrize("path", library_files(), ids=lambda path: path.name)
def test_every_library_file_follows_the_schema(path: Path) -> None:
    entries = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(entries, list) and entries
    for entry in entries:
        assert profile_problems(entry) == [], entry.get("key")
        assert entry["key"].replace("-", "").isalnum(), entry["key"]
        assert entry["group"] == path.stem, (entry["key"], entry["group"])


def test_library_keys_are_unique_across_files() -> None:
    keys = [entry["key"] for path in library_files() for entry in json.loads(path.read_text())]
    assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})


def test_library_names_lead_to_their_own_profile_or_a_shared_earlier_one() -> None:
    library = library_load()
    for profile in library.profiles:
        found = profile_resolve(profile.names[0], library)
        assert found.source == "library", profile.key


def test_categories_name_a_detector_and_others_do_not() -> None:
    for profile in library_load().profiles:
        assert (profile.detector is not None) == (profile.kind == "category"), profile.key


# --- problems are found and skipped -----------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"aliases": ["Zorblax"]}, "not lower-case"),
        ({"not": ["zorblax"]}, "also in its own 'not' list"),
        ({"kind": "thing"}, "kind"),
        ({"kind": "category"}, "detector"),
        ({"descriptions": []}, "no descriptions"),
        ({"key": "Zorblax"}, "lower-case ascii"),
        ({"aliases": "zorblax"}, "list of non-empty strings"),
        ({"cased": ["zbx"]}, "cased names without a capital"),
        ({"cased": "ZbX"}, "list of non-empty strings"),
    ],
)
def test_an_invalid_entry_is_described(change: dict, problem: str) -> None:
    assert any(problem in text for text in profile_problems({**ENTRY, **change}))


def test_the_loader_skips_bad_entries_and_duplicate_keys(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps([ENTRY, {**ENTRY, "aliases": ["UPPER"]}]))
    (tmp_path / "b.json").write_text(json.dumps([ENTRY]))
    (tmp_path / "c.json").write_text("{not json")
    library = library_load(tmp_path)
    assert [profile.key for profile in library.profiles] == ["zorblax"]
    assert len(library.problems) == 3


def test_cased_names_match_only_as_written() -> None:
    from feed.analyzers.embedded import profile_matcher
    from feed.profiles.types import profile_from_dict

    assert not profile_problems({**ENTRY, "cased": ["ZbX"]})
    matcher = profile_matcher(profile_from_dict({**ENTRY, "cased": ["ZbX"]}))
    assert matcher.hits("ZbX patch notes are out").matched
    assert not matcher.hits("zbx patch notes are out").matched
    assert not matcher.hits("ZBX patch notes are out").matched


def test_a_profile_change_is_a_version_change(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps([ENTRY]))
    before = library_load(tmp_path)
    (tmp_path / "a.json").write_text(json.dumps([{**ENTRY, "vocabulary": ["slime"]}]))
    after = library_load(tmp_path)
    assert before.version != after.version
    fake = FakeModel()
    assert (
        EmbeddedAnalyzer(model=fake, library=before).version  # type: ignore[arg-type]
        != EmbeddedAnalyzer(model=fake, library=after).version  # type: ignore[arg-type]
    )
    assert before.version in EmbeddedAnalyzer(model=fake, library=before).version  # type: ignore[arg-type]


# --- from a filter text to a profile ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised", "spoiler"),
    [
        ("posts about spiders", "spiders", False),
        ("No posts about Spiders!", "spiders", False),
        ("spoilers for Severance", "severance", True),
        ("Severance spoilers", "severance", True),
        ("anything related to cats", "cats", False),
        ("crypto news", "crypto", False),
        ("Drugs & Alcohol", "drugs and alcohol", False),
    ],
)
def test_filter_texts_are_normalised(text: str, normalised: str, spoiler: bool) -> None:
    assert text_normalise(text) == (text_normalise(text).__class__(normalised, spoiler))


def tiny_library(tmp_path: Path) -> object:
    other = {**ENTRY, "key": "blorp", "names": ["blorp"], "aliases": ["blorp"], "not": []}
    entity = {**ENTRY, "key": "quux-show", "kind": "entity", "names": ["quux"], "not": []}
    (tmp_path / "t.json").write_text(json.dumps([ENTRY, other, entity]))
    return library_load(tmp_path)


def test_exact_names_match_across_plurals_and_filler(tmp_path: Path) -> None:
    library = tiny_library(tmp_path)
    assert profile_resolve("Zorblax", library).key == "zorblax"  # type: ignore[arg-type]
    assert profile_resolve("posts about zorblaxes", library).key == "zorblax"  # type: ignore[arg-type]
    spoiler = profile_resolve("spoilers for Quux", library)  # type: ignore[arg-type]
    assert spoiler.spoiler and spoiler.kind == "entity" and spoiler.key == "spoilers:quux-show"


def test_a_composite_filter_merges_its_parts(tmp_path: Path) -> None:
    library = tiny_library(tmp_path)
    merged = profile_resolve("zorblax and blorp", library)  # type: ignore[arg-type]
    assert merged.parts == ("zorblax", "blorp")
    assert {"zorblax", "blorp"} <= set(merged.aliases)
    half = profile_resolve("zorblax and glimmerwood", library)  # type: ignore[arg-type]
    assert half.parts == ("zorblax", "generic:glimmerwood")
    assert half.filter_words == "glimmerwood"


def test_an_unknown_text_gets_a_generic_profile_from_itself(tmp_path: Path) -> None:
    profile = profile_resolve("posts about Glimmerwood Forest", tiny_library(tmp_path))  # type: ignore[arg-type]
    assert profile.source == "generic" and profile.kind == "topic"
    assert profile.aliases == ("glimmerwood forest",)
    assert profile.filter_words == "posts about Glimmerwood Forest"
    assert profile.descriptions == ("a post about glimmerwood forest",)


def test_the_nearest_name_needs_a_score_and_a_margin(tmp_path: Path) -> None:
    library = tiny_library(tmp_path)
    zorblax, blorp = library.profiles[0], library.profiles[1]  # type: ignore[attr-defined]

    def ranked(*scores: tuple[Profile, float]):
        return lambda text: list(scores)

    close = ranked((zorblax, NEAREST_MIN + 0.05), (blorp, NEAREST_MIN - 0.2))
    assert profile_resolve("zorbs", library, close).key == "zorblax"  # type: ignore[arg-type]
    tied = ranked((zorblax, NEAREST_MIN + 0.05), (blorp, NEAREST_MIN + 0.05 - NEAREST_MARGIN / 2))
    assert profile_resolve("zorbs", library, tied).source == "generic"  # type: ignore[arg-type]
    far = ranked((zorblax, NEAREST_MIN - 0.01))
    assert profile_resolve("zorbs", library, far).source == "generic"  # type: ignore[arg-type]


def test_the_analyzer_finds_near_synonyms_through_the_real_model() -> None:
    analyzer = EmbeddedAnalyzer()
    assert analyzer.profile_for("arachnids").key == "spiders"


# --- a fake model for tests that need many filters cheaply ------------------------------------


class FakeModel:
    """Deterministic unit vectors per text: no semantics, just shapes and cache behaviour."""

    dimensions = 384

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: list[str]):
        import numpy as np

        self.calls += 1
        rows = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for index, text in enumerate(texts):
            rng = np.random.default_rng(abs(hash(text)) % (2**32))
            row = rng.standard_normal(self.dimensions)
            rows[index] = row / np.linalg.norm(row)
        return rows


def test_an_entity_profile_needs_a_mention(tmp_path: Path) -> None:
    library = tiny_library(tmp_path)
    analyzer = EmbeddedAnalyzer(library=library, cjk_model=False)  # type: ignore[arg-type]
    spec = FilterSpec(1, "quux", "text", 1)
    named = PostInput("named", "The new Quux episode was great.")
    unnamed = PostInput("unnamed", "The new episode was great.")
    assert list(analyzer.analyze([named, unnamed], [spec]).matches) == ["named"]
