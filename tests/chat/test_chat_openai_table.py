"""The first-message table (tests/chat/first_messages.jsonl) on the OpenAI assistant, over real
HTTP against the local OpenAI-compatible server: what the server sends for every phrasing family,
that it reads the model's answer into the contract's shape, and that any model error on a turn
hands that turn to the embedded assistant, which still gets the table right.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from chat.assistant.prompts import SYSTEM_PROMPT
from tests.chat.first_messages import HOLDOUT, Case, case_play, cases_load, family_rates
from tests.chat.test_chat_openai import READY_SPIDERS, context_of, model_reply
from tests.support.openai_server import OpenAIServer

pytestmark = pytest.mark.django_db

CASES = cases_load() + cases_load(HOLDOUT)
BY_MESSAGE = {case.message: case for case in CASES}
_users = itertools.count()


@pytest.fixture
def table_settings(openai_settings: OpenAIServer, settings: Any) -> OpenAIServer:
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "chat": "100000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    settings.DIYMOD_OPENAI_MAX_RETRIES = 0  # a failed turn falls back at once
    return openai_settings


def ready(topic: str) -> dict[str, Any]:
    return model_reply(
        text=f'Here is your filter for "{topic}".',
        type="ready_for_config",
        options=["Just blur it"],
        filter_data={
            "filter_text": topic,
            "content_type": "all",
            "intensity": 3,
            "duration": "permanent",
            "context": "",
        },
    )


def table_model(body: dict[str, Any]) -> dict[str, Any]:
    """A model that answers the table as a good model would: the case's first topic, or a
    question when the message names none ("spiders" then answers that question)."""
    message = body["messages"][-1]["content"]
    case = BY_MESSAGE.get(message)
    if case is not None and case.topics:
        return ready(case.topics[0])
    if message == "spiders":
        return ready("spiders")
    return model_reply(text="What would you like me to filter?", options=["Spiders"])


def poster(client: APIClient) -> Any:
    user_id = f"openai-table-{next(_users)}"

    def post(message: str) -> dict[str, Any]:
        response = client.post(
            "/chat", {"user_id": user_id, "message": message, "history": []}, format="json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    return post


def test_the_system_prompt_carries_guidance_for_every_phrasing_family() -> None:
    prompt = SYSTEM_PROMPT.lower()

    for guidance in (
        "never the whole sentence",  # framing phrases
        "remark",
        "negations",
        "several topics",
        "phobia",
        "ophidiophobia",
        "sober",
        "passed away",
        "typos",
        "emoji",
        "any language",
        "english",
        "clarifying question only when",
    ):
        assert guidance in prompt, guidance


@pytest.mark.parametrize("case", CASES, ids=[case.label for case in CASES])
def test_each_first_message_is_sent_well_formed_and_the_answer_is_read(
    api_client: APIClient, table_settings: OpenAIServer, case: Case
) -> None:
    table_settings.respond_with(table_model)

    outcome = case_play(case, poster(api_client))

    assert outcome.passed, (outcome.topic, outcome.first)
    assert outcome.first["assistant"] == "openai"
    assert "degraded" not in outcome.first
    call = table_settings.calls[0]
    assert call.body["model"]
    assert call.body["response_format"]["type"] in ("json_schema", "json_object")
    system = [item for item in call.body["messages"] if item["role"] == "system"]
    assert system[0]["content"] == SYSTEM_PROMPT
    assert context_of(call.body)["existing_filters"] == []
    # The message goes to the model exactly as typed: emoji, accents and CJK included.
    assert call.body["messages"][-1] == {"role": "user", "content": case.message}
    json.dumps(call.body, ensure_ascii=False)  # a JSON body end to end


def test_a_model_failing_on_every_turn_leaves_the_table_to_the_embedded_assistant(
    api_client: APIClient, table_settings: OpenAIServer
) -> None:
    table_settings.fail_with(500, times=None)

    outcomes = [case_play(case, poster(api_client)) for case in CASES]

    assert all(outcome.first["assistant"] == "embedded" for outcome in outcomes)
    assert all(outcome.first["degraded_reason"] == "http_500" for outcome in outcomes)
    passed = sum(outcome.passed for outcome in outcomes)
    assert passed / len(outcomes) >= 0.95, family_rates(outcomes)


def test_the_fallback_is_per_turn_and_the_model_continues_from_the_embedded_draft(
    api_client: APIClient, table_settings: OpenAIServer
) -> None:
    table_settings.fail_with(500, times=1)
    table_settings.respond_with(lambda body: ready("snakes"))
    post = poster(api_client)

    first = post("I have ophidiophobia")
    second = post("Warn me first")

    assert first["assistant"] == "embedded" and first["degraded"] is True
    assert first["type"] == "clarify"
    assert '"snakes"' in first["text"]
    assert second["assistant"] == "openai" and "degraded" not in second
    assert second["filter_data"]["filter_text"] == "snakes"
    draft = context_of(table_settings.calls[-1].body)["draft_in_progress"]
    assert draft["filter_text"] == "snakes"


@pytest.mark.parametrize("vague", ["posts", "stuff", "anything", "  Content "])
def test_a_vague_filter_text_from_the_model_is_not_trusted(
    api_client: APIClient, table_settings: OpenAIServer, vague: str
) -> None:
    table_settings.respond_with(
        lambda body: {
            **READY_SPIDERS,
            "filter_data": {**READY_SPIDERS["filter_data"], "filter_text": vague},
        }
    )

    body = poster(api_client)("I want to stop seeing posts about PhD students")

    assert body["assistant"] == "embedded"
    assert body["degraded_reason"] == "invalid_output"
    assert '"PhD students"' in body["text"]
