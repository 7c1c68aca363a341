"""The first-message table (first_messages.jsonl) and how one case is played through POST /chat.

Shared by tests/chat/test_first_messages.py and bench/assistant.py. A case is a user's first
message and the topics a person would accept as its filter text (null: the message names no
topic, and the assistant should ask one question for it). The conversation is played as a user
would: the first message, then the quick answer to a question about intensity or duration,
until the assistant proposes a filter (ready_for_config) or asks anything else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("first_messages.jsonl")
# Written after the main table was tuned on, run once before any change for it (55/64 then);
# fixed since, so now a regression table like the other.
HOLDOUT = Path(__file__).with_name("first_messages_holdout.jsonl")
INTENSITY_OPTIONS = ["Just blur it", "Warn me first", "Remove completely"]
DURATION_OPTIONS = ["For a day", "For a week", "For a month", "Permanently"]
MAX_TURNS = 3
# The matcher reads a filter text as alternatives split like this (feed/analyzers/lexical.py).
PARTS = re.compile(r"\s*(?:,|;|/|&|\+|\band\b|\bor\b)\s*", re.IGNORECASE)

Post = Callable[[str], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    family: str
    message: str
    topics: tuple[str, ...] | None  # None: the message is ambiguous; expect a question

    @property
    def label(self) -> str:
        return f"{self.family}: {self.message}"


@dataclass(frozen=True)
class Outcome:
    case: Case
    topic: str | None  # the proposed filter text (None when nothing was proposed)
    first: dict[str, Any]  # the reply to the first message
    passed: bool


def cases_load(path: Path = TABLE) -> list[Case]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [
        Case(
            family=row["family"],
            message=row["message"],
            topics=tuple(row["topics"]) if row["topics"] is not None else None,
        )
        for row in rows
    ]


def topic_parts(topic: str) -> frozenset[str]:
    """A filter text as its set of alternatives, compared without case, articles or plurals."""
    parts = set()
    for part in PARTS.split(topic.strip()):
        words = [word for word in part.lower().split() if word not in {"the", "a", "an"}]
        if words:
            words[-1] = _singular(words[-1])
            parts.add(" ".join(words))
    return frozenset(parts)


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def topic_accepted(topic: str, acceptable: tuple[str, ...]) -> bool:
    return topic_parts(topic) in {topic_parts(item) for item in acceptable}


def case_play(case: Case, post: Post) -> Outcome:
    """Play the case through `post` (one call of POST /chat for a fresh user)."""
    first = post(case.message)
    if case.topics is None:
        return Outcome(case, None, first, _asked_for_topic(first, post))
    body = first
    for _ in range(MAX_TURNS):
        if body.get("type") == "ready_for_config":
            topic = str(body["filter_data"]["filter_text"])
            return Outcome(case, topic, first, topic_accepted(topic, case.topics))
        answer = _quick_answer(body)
        if answer is None:
            break
        body = post(answer)
    return Outcome(case, None, first, False)


def _quick_answer(body: dict[str, Any]) -> str | None:
    if body.get("type") != "clarify":
        return None
    if body.get("options") == INTENSITY_OPTIONS:
        return "Warn me first"
    if body.get("options") == DURATION_OPTIONS:
        return "Permanently"
    return None


def _asked_for_topic(first: dict[str, Any], post: Post) -> bool:
    """An ambiguous message gets one question, and the answer to it becomes the topic."""
    if first.get("type") != "clarify" or first.get("filter_data") is not None:
        return False
    if "?" not in str(first.get("text")):
        return False
    answer = post("spiders")
    if answer.get("type") == "clarify" and answer.get("options") == INTENSITY_OPTIONS:
        answer = post("Warn me first")
    data = answer.get("filter_data") or {}
    return answer.get("type") == "ready_for_config" and data.get("filter_text") == "spiders"


def family_rates(outcomes: list[Outcome]) -> dict[str, tuple[int, int]]:
    """family -> (passed, total), in the table's order."""
    rates: dict[str, tuple[int, int]] = {}
    for outcome in outcomes:
        passed, total = rates.get(outcome.case.family, (0, 0))
        rates[outcome.case.family] = (passed + outcome.passed, total + 1)
    return rates
