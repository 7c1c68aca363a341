"""What a filter means, written down once per filter text: a profile (issue 14).

A profile says what kind of filter it is and carries the knowledge the analyzer scores posts
with: descriptions a post about it would resemble (semantic leg), aliases whose mention means it
almost surely (lexical leg), vocabulary that supports it, look-alikes that must not count, and,
for categories of language, the detector that finds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

KINDS = ("entity", "topic", "category")
DETECTORS = ("profanity", "slurs")
SOURCES = ("library", "model", "generic")


@dataclass(frozen=True)
class Profile:
    key: str
    kind: str  # "entity" | "topic" | "category"
    names: tuple[str, ...]  # how people write this filter
    descriptions: tuple[str, ...]  # sentences a post about it would resemble
    aliases: tuple[str, ...] = ()  # mention means the topic almost surely
    # Names that are common words in lower case, matched exactly as written ("LoL", "WoW").
    cased: tuple[str, ...] = ()
    vocabulary: tuple[str, ...] = ()  # weak evidence: several must co-occur
    not_phrases: tuple[str, ...] = ()  # look-alikes masked before anything else
    detector: str | None = None  # categories only
    group: str = ""
    source: str = "library"  # "library" | "model" | "generic"
    spoiler: bool = False  # "spoilers for X": X's profile, read as spoilers
    # Generic profiles keep the filter's own words: the old key-word leg (lexical.py) reads them.
    filter_words: str = ""
    parts: tuple[str, ...] = field(default=())  # keys merged into this one ("a and b")

    def as_spoiler(self) -> Profile:
        return replace(self, spoiler=True, key=f"spoilers:{self.key}")


def profile_from_dict(data: dict, *, source: str = "library") -> Profile:
    """A profile from the library's JSON schema (docs: feed/profiles/library/README)."""
    return Profile(
        key=str(data["key"]),
        kind=str(data["kind"]),
        names=tuple(str(name) for name in data.get("names", ())),
        descriptions=tuple(str(text) for text in data.get("descriptions", ())),
        aliases=tuple(str(alias) for alias in data.get("aliases", ())),
        cased=tuple(str(name) for name in data.get("cased", ())),
        vocabulary=tuple(str(word) for word in data.get("vocabulary", ())),
        not_phrases=tuple(str(phrase) for phrase in data.get("not", ())),
        detector=data.get("detector"),
        group=str(data.get("group", "")),
        source=source,
    )


def profile_problems(data: object) -> list[str]:
    """Why one library entry is not a valid profile (empty when it is)."""
    if not isinstance(data, dict):
        return ["not an object"]
    problems = []
    key = data.get("key")
    if not isinstance(key, str) or not key or key != key.lower() or not key.isascii():
        problems.append(f"key {key!r} is not lower-case ascii")
    if data.get("kind") not in KINDS:
        problems.append(f"kind {data.get('kind')!r} is not one of {KINDS}")
    for name in ("names", "descriptions", "aliases", "vocabulary", "not", "cased"):
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            problems.append(f"{name} is not a list of non-empty strings")
    if problems:
        return problems
    if not data["names"]:
        problems.append("no names")
    if not data["descriptions"]:
        problems.append("no descriptions")
    for name in ("names", "aliases", "vocabulary", "not"):
        upper = [v for v in data.get(name, []) if v != v.lower()]
        if upper:
            problems.append(f"{name} not lower-case: {upper[:3]}")
    lower_cased = [v for v in data.get("cased", []) if v == v.lower()]
    if lower_cased:
        problems.append(f"cased names without a capital (put them in aliases): {lower_cased[:3]}")
    nots = {phrase.lower() for phrase in data.get("not", [])}
    clash = [alias for alias in [*data.get("aliases", []), *data["names"]] if alias in nots]
    if clash:
        problems.append(f"aliases also in its own 'not' list: {clash[:3]}")
    detector = data.get("detector")
    if data["kind"] == "category" and detector not in DETECTORS:
        problems.append(f"category without a detector in {DETECTORS}")
    if data["kind"] != "category" and detector is not None:
        problems.append("a detector on a non-category profile")
    return problems
