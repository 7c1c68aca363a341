"""What users read about what their filters hid: one home for every feed path.

The overlay card's warning (CONTRACT section 4), the note that stands in for a rewritten
passage, the check that a warning does not name the topic, and intensity -> text
intervention. The markers (`feed.interventions`), the feed service and both analyzers read
them here. What imaging shows too (the default warning, the intensity table) comes from
`diymod.wording`: feed depends on imaging, so neither app can hold it for the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from diymod.wording import DEFAULT_WARNING, interventions_for

__all__ = [
    "DEFAULT_WARNING",
    "REWRITE_NOTE",
    "Kind",
    "intervention_for",
    "topic_named",
    "warning_clean",
    "warning_or_default",
]

REWRITE_NOTE = "[Part of this post was hidden by your DIY-MOD filters]"
# The warning is the text before the first `|`: no `|`, newline, quote or angle bracket.
WARNING_FORBIDDEN = re.compile(r'[|"<>\r\n]+')
WARNING_MAX_CHARS = 120
# A topic's words looked for in a warning: Latin words of three letters or more, and every
# run of CJK characters (a two-character word such as 蜘蛛 names a topic as fully as "spiders").
TOPIC_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]+|\w{3,}")


class Kind(StrEnum):
    """A text intervention (CONTRACT section 4)."""

    BLUR = "blur"
    OVERLAY = "overlay"
    REWRITE = "rewrite"


def intervention_for(intensity: int) -> Kind:
    """CONTRACT section 4: 1-2 blur, 3 overlay with a warning, 4-5 rewrite."""
    return Kind(interventions_for(intensity)[0])


def topic_named(text: str, topics: Iterable[str]) -> bool:
    """Whether `text` holds a word of one of `topics` (its plural `s` dropped), anywhere.

    Errs towards yes: a false yes only costs a warning its own wording (the default is shown),
    a false no would show the topic on the card meant to hide it.
    """
    lowered = text.lower()
    return any(
        word_singular(word) in lowered
        for topic in topics
        for word in TOPIC_WORD.findall(topic.lower())
    )


def word_singular(word: str) -> str:
    """`word` without one plural `s` ("spiders" -> "spider"; "ass", "glass" keep theirs)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def warning_clean(warning: str, topics: Iterable[str] = ()) -> str:
    """`warning` safe inside the overlay marker, or "" when nothing is left or it names one
    of `topics` (the callers then show DEFAULT_WARNING, which names nothing)."""
    cleaned = " ".join(WARNING_FORBIDDEN.sub(" ", warning).split())[:WARNING_MAX_CHARS]
    return "" if topic_named(cleaned, topics) else cleaned


def warning_or_default(warning: str | None, topics: Iterable[str] = ()) -> str:
    """The warning the overlay card shows: `warning` cleaned, else DEFAULT_WARNING."""
    return warning_clean(warning or "", topics) or DEFAULT_WARNING
