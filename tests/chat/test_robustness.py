"""Whatever people type, the embedded assistant answers in the contract's shape and never
crashes (property tests over arbitrary and phrase-built messages)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from rest_framework.test import APIClient

from chat.assistant import replies as say
from chat.assistant.embedded import EmbeddedAssistant
from chat.assistant.state import (
    CONTENT_TYPES,
    DURATIONS,
    ConversationState,
    KnownFilter,
    state_from_dict,
    state_to_dict,
)

FILTERS = [
    KnownFilter(
        id=1, filter_text="spiders", content_type="all", intensity=2, duration="permanent"
    ),
    KnownFilter(
        id=2, filter_text="Severance spoilers", content_type="text", intensity=3, duration="week"
    ),
]
PHRASES = [
    "hide",
    "block",
    "spiders",
    "no spoilers for",
    "Severance",
    "just blur",
    "warn me",
    "remove completely",
    "for a week",
    "today only",
    "yes",
    "no",
    "remove my",
    "filter",
    "change",
    "make it",
    "stronger",
    "Yes, show my filters",
    "Add another filter",
    "I'm done",
    "Try again",
    "images only",
    "2",
    "until I catch up",
    "?",
    "the",
    "level 9",
    "\u2019",
    "<script>",
    "\x00",
    "   ",
]
phrase_messages = st.lists(st.sampled_from(PHRASES), min_size=0, max_size=5).map(" ".join)
messages = st.one_of(st.text(max_size=120), phrase_messages)


def reply_is_in_contract_shape(reply: say.Reply) -> None:
    assert reply.type in say.REPLY_TYPES
    assert reply.text.strip()
    assert all(isinstance(option, str) and option for option in reply.options)
    if reply.type == say.TYPE_READY:
        data = reply.filter_data
        assert data is not None
        assert data.filter_text.strip()
        assert data.content_type in CONTENT_TYPES
        assert data.duration in DURATIONS
        assert 1 <= data.intensity <= 5
    else:
        assert reply.filter_data is None


@examples(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messages, min_size=1, max_size=6))
def test_any_conversation_gets_replies_in_the_contract_shape(conversation: list[str]) -> None:
    assistant = EmbeddedAssistant()
    state = ConversationState()
    for message in conversation:
        turn = assistant.respond(state=state, message=message, filters=FILTERS)
        reply_is_in_contract_shape(turn.reply)
        for action in turn.actions:
            assert set(action.filter_ids) <= {known.id for known in FILTERS}
        state = state_from_dict(state_to_dict(turn.state))
        assert state == turn.state


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "message": json_values | messages,
            "history": json_values,
            "user_id": json_values,
        },
    ),
)


@pytest.fixture
def unlimited_chat(settings: Any) -> None:
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "chat": "100000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


@pytest.mark.django_db
@examples(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=bodies)
def test_no_chat_body_ever_gets_a_server_error(unlimited_chat: None, body: object) -> None:
    response = APIClient().post("/chat", body, format="json")

    assert response.status_code in (200, 400)
    payload = response.json()
    if response.status_code == 200:
        assert set(payload) >= {"status", "text", "type", "options", "filter_data"}
    else:
        assert payload["status"] == "error" and payload["message"]
