"""From a user's filter text to a profile: the library's when it knows the topic, else generic.

Order (issue 14): exact name match after normalising the text (filler such as "posts about"
stripped, plurals folded, "spoilers for X" read as X's profile in its spoiler sense), then each
part of a composite filter ("drugs and alcohol") on its own, then the nearest library name in
embedding space when it is close and clearly closer than any other profile (a margin), and
otherwise a generic profile built from the text itself. Model-written profiles (model.py) come
before all of these when OpenAI is configured.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from feed.analyzers.lexical import ALTERNATIVE_SPLIT, word_stem
from feed.profiles.library import Library
from feed.profiles.types import Profile

# Nearest-neighbour acceptance: the cosine of "a post about <filter>" to "a post about <name>"
# and its lead over the best name of any other profile. Set from first principles, not fitted:
# synonyms and rephrasings sit above 0.80 on MiniLM, neighbouring topics ~0.6-0.75.
NEAREST_MIN = 0.80
NEAREST_MARGIN = 0.03

_SPACE = re.compile(r"\s+")
_EDGE_PUNCTUATION = re.compile(r"^[\s\"'“”‘’.,;:!?()\[\]-]+|[\s\"'“”‘’.,;:!?()\[\]-]+$")
_SPOILER_BEFORE = re.compile(r"^spoilers?\s+(?:for|of|about|from|on|in)\s+(.+)$")
_SPOILER_AFTER = re.compile(r"^(.+?)\s+spoilers?$")
_PREFIXES = [
    re.compile(r"^(?:no|hide|block|mute|filter|avoid|skip|stop showing|please hide)\s+(.+)$"),
    re.compile(
        r"^(?:posts?|content|news|stuff|anything|everything|things|mentions?|talk|discussions?|"
        r"pictures?|photos?|images?|videos?|memes?|tweets?|articles?|jokes?)\s+"
        r"(?:about|of|on|mentioning|related to|regarding|involving|with|from)\s+(.+)$"
    ),
    re.compile(r"^(?:about|regarding)\s+(.+)$"),
]
_SUFFIX = re.compile(
    r"^(.+?)\s+(?:posts?|content|news|stuff|related|related content|memes?|tweets?|talk|"
    r"discussions?|pics|pictures|photos|videos|mentions|things)$"
)
_WORD = re.compile(r"[\w'$#@/+.-]+", re.UNICODE)


@dataclass(frozen=True)
class Normalised:
    text: str  # lower-case, filler stripped, one space between words
    spoiler: bool  # "spoilers for X" / "X spoilers"


def text_normalise(text: str) -> Normalised:
    text = _SPACE.sub(" ", text.lower().replace("&", " and ")).strip()
    text = _EDGE_PUNCTUATION.sub("", text)
    spoiler = False
    for _ in range(3):  # "no posts about spoilers for X": a few layers at most
        before = text
        if found := _SPOILER_BEFORE.match(text):
            text, spoiler = found.group(1), True
        elif (found := _SPOILER_AFTER.match(text)) and " " in text:
            text, spoiler = found.group(1), True
        for prefix in _PREFIXES:
            if found := prefix.match(text):
                text = found.group(1)
        if found := _SUFFIX.match(text):
            text = found.group(1)
        text = _EDGE_PUNCTUATION.sub("", text)
        if text == before:
            break
    return Normalised(text, spoiler)


def name_key(text: str) -> str:
    """A lookup key that folds plurals and possessives: "Spiders" and "spider" meet."""
    return " ".join(word_stem(word) for word in _WORD.findall(text.lower()))


Nearest = Callable[[str], list[tuple[Profile, float]]]


def profile_resolve(text: str, library: Library, nearest: Nearest | None = None) -> Profile:
    normalised = text_normalise(text)
    profile = _library_profile(normalised.text, library, nearest)
    if profile is None:
        profile = profile_generic(text, normalised.text)
    return profile.as_spoiler() if normalised.spoiler else profile


def _library_profile(text: str, library: Library, nearest: Nearest | None) -> Profile | None:
    if not text:
        return None
    index = library_index(library)
    if (found := index.get(name_key(text))) is not None:
        return found
    parts = [part for part in ALTERNATIVE_SPLIT.split(text) if part.strip()]
    if len(parts) > 1:
        resolved = [index.get(name_key(part)) for part in parts]
        if any(resolved):
            unique = {
                (found.key if found else f"generic:{part}"): found or profile_generic(part, part)
                for part, found in zip(parts, resolved, strict=True)
            }
            members = list(unique.values())
            return members[0] if len(members) == 1 else profiles_merge(text, members)
    if nearest is not None:
        ranked = nearest(text)
        if ranked and ranked[0][1] >= NEAREST_MIN:
            best, score = ranked[0]
            runner_up = next((s for p, s in ranked[1:] if p.key != best.key), -1.0)
            if score - runner_up >= NEAREST_MARGIN:
                return best
    return None


_indexes: dict[str, dict[str, Profile]] = {}


def library_index(library: Library) -> dict[str, Profile]:
    if library.sha256 not in _indexes:
        index: dict[str, Profile] = {}
        for profile in library.profiles:
            for name in (*profile.names, profile.key.replace("-", " ")):
                index.setdefault(name_key(text_normalise(name).text), profile)
        _indexes[library.sha256] = index
    return _indexes[library.sha256]


def profile_generic(original: str, normalised: str) -> Profile:
    """A profile from the text alone: the phrase as an alias, its words as vocabulary."""
    phrase = normalised or original.strip().lower()
    words = tuple(
        word for word in _WORD.findall(phrase) if len(word) > 2 and word not in _FILLER_WORDS
    )
    return Profile(
        key=f"generic:{phrase}",
        kind="topic",
        names=(phrase,),
        descriptions=(f"a post about {phrase}",),
        aliases=(phrase,) if phrase else (),
        vocabulary=words,
        source="generic",
        filter_words=original.strip(),
    )


_FILLER_WORDS = frozenset("and the for with about any all from".split())


def profiles_merge(text: str, profiles: list[Profile]) -> Profile:
    """One profile for "a and b": the union of the parts, an entity only if all parts are."""
    kinds = {profile.kind for profile in profiles}
    kind = "entity" if kinds == {"entity"} else "category" if kinds == {"category"} else "topic"
    detectors = [profile.detector for profile in profiles if profile.detector]

    def union(attribute: str) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(item for profile in profiles for item in getattr(profile, attribute))
        )

    merged = Profile(
        key="+".join(profile.key for profile in profiles),
        kind=kind,
        names=(text, *union("names")),
        descriptions=union("descriptions"),
        aliases=union("aliases"),
        cased=union("cased"),
        vocabulary=union("vocabulary"),
        not_phrases=tuple(
            phrase for phrase in union("not_phrases") if phrase not in union("aliases")
        ),
        detector=detectors[0] if detectors else None,
        source="library",
        parts=tuple(profile.key for profile in profiles),
    )
    generic = [profile for profile in profiles if profile.source == "generic"]
    if generic:  # the unknown parts keep their own words for the key-word leg
        merged = replace(merged, filter_words=" and ".join(p.filter_words for p in generic))
    return merged
