"""Everyday first messages through POST /chat with the embedded assistant (issue 15): each one
must end in a filter whose text is the topic a person would accept, or, when the message names
no topic, in one question whose answer becomes it. The tables are tests/chat/first_messages.jsonl
and first_messages_holdout.jsonl.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.chat.first_messages import (
    HOLDOUT,
    Case,
    Outcome,
    case_play,
    cases_load,
    family_rates,
)

pytestmark = pytest.mark.django_db

CASES = cases_load()
HELD_OUT = cases_load(HOLDOUT)
REQUIRED_RATE = 0.95
FAMILY_FLOOR = 0.8  # no phrasing family may be left behind by a good overall figure
VAGUE_WORDS = {"posts", "post", "stuff", "anything", "things", "content", "something"}
# Cases the embedded assistant still gets wrong (kept visible, not dropped from the table).
KNOWN_MISSES: set[str] = set()
_users = itertools.count()


@pytest.fixture
def unlimited_chat(settings: Any) -> None:
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "chat": "100000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def play(case: Case) -> Outcome:
    client = APIClient()
    user_id = f"first-message-{next(_users)}"

    def post(message: str) -> dict[str, Any]:
        response = client.post(
            "/chat", {"user_id": user_id, "message": message, "history": []}, format="json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    return case_play(case, post)


def test_the_table_is_big_and_covers_every_family() -> None:
    families = {case.family for case in CASES}

    assert len(CASES) >= 120
    assert len({case.message for case in CASES}) == len(CASES)
    assert {
        "framing",
        "remarks",
        "implied_phobia",
        "implied_situation",
        "negations",
        "several",
        "typos",
        "emoji",
        "non_english",
        "already_handled",
        "ambiguous",
    } <= families


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=case.label,
            marks=[pytest.mark.xfail(strict=True)] if case.message in KNOWN_MISSES else [],
        )
        for case in CASES + HELD_OUT
    ],
)
def test_a_first_message_gives_a_clean_topic(unlimited_chat: None, case: Case) -> None:
    outcome = play(case)

    assert outcome.passed, (outcome.topic, outcome.first)
    if outcome.topic is not None:
        words = outcome.topic.lower().split()
        assert len(words) <= 8
        assert not set(words) & VAGUE_WORDS
    assert outcome.first["assistant"] == "embedded"


def test_at_least_95_percent_of_the_table_passes_and_every_family_holds(
    unlimited_chat: None,
) -> None:
    outcomes = [play(case) for case in CASES]

    rates = family_rates(outcomes)
    passed = sum(outcome.passed for outcome in outcomes)
    assert passed / len(outcomes) >= REQUIRED_RATE, [
        (o.case.message, o.topic) for o in outcomes if not o.passed
    ]
    assert all(good / total >= FAMILY_FLOOR for good, total in rates.values()), rates
