"""The OpenAI assistant over real HTTP against the local OpenAI-compatible server
(tests/support/openai_server.py), including its faults and the embedded fallback."""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from filters.models import Filter
from filters.services import filter_create, user_get_or_create
from tests.support.openai_server import OpenAIServer

pytestmark = pytest.mark.django_db


def model_reply(**fields: Any) -> dict[str, Any]:
    reply = {
        "text": "Okay.",
        "type": "clarify",
        "options": [],
        "filter_data": None,
        "action": None,
    }
    reply.update(fields)
    return reply


READY_SPIDERS = model_reply(
    text='Here is your filter for "spiders".',
    type="ready_for_config",
    options=["Just blur it"],
    filter_data={
        "filter_text": "spiders",
        "content_type": "all",
        "intensity": 4,
        "duration": "week",
        "context": "Spiders and arachnids.",
    },
)


def chat(client: APIClient, message: str, user_id: str = "alice") -> dict[str, Any]:
    response = client.post(
        "/chat", {"user_id": user_id, "message": message, "history": []}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def context_of(call_body: dict[str, Any]) -> dict[str, Any]:
    for message in call_body["messages"]:
        content = message["content"]
        if (
            message["role"] == "system"
            and isinstance(content, str)
            and content.startswith("Context: ")
        ):
            return json.loads(content.removeprefix("Context: "))
    raise AssertionError("no context message sent")


def test_the_model_answer_is_passed_through_in_the_contract_shape(
    api_client: APIClient, openai_settings: OpenAIServer
) -> None:
    openai_settings.respond_with(lambda body: READY_SPIDERS)

    body = chat(api_client, "please keep spiders away from me for a while")

    assert body["type"] == "ready_for_config"
    assert body["filter_data"] == {
        "filter_text": "spiders",
        "content_type": "all",
        "intensity": 4,
        "duration": "week",
        "context": "Spiders and arachnids.",
    }
    assert body["assistant"] == "openai"
    assert "degraded" not in body


def test_the_request_carries_the_users_filters_the_message_and_a_strict_schema(
    api_client: APIClient, openai_settings: OpenAIServer
) -> None:
    filter_create(owner=user_get_or_create(user_id="alice"), filter_text="crypto")
    filter_create(owner=user_get_or_create(user_id="bob"), filter_text="bobs own topic")
    openai_settings.respond_with(lambda body: model_reply(text="Which show?"))

    chat(api_client, "no spoilers please")
    chat(api_client, "the one with the office floor")

    first, second = openai_settings.calls
    assert first.body["response_format"]["json_schema"]["strict"] is True
    assert first.body["messages"][-1] == {"role": "user", "content": "no spoilers please"}
    filters = context_of(first.body)["existing_filters"]
    assert [item["filter_text"] for item in filters] == ["crypto"]
    # The server's own transcript gives the model the earlier turns.
    assert {"role": "assistant", "content": "Which show?"} in second.body["messages"]


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (500, "http_500"),
        (429, "http_429"),
        ("invalid_json", "invalid_json"),
        ("refusal", "refusal"),
    ],
)
def test_a_failing_model_falls_back_to_the_embedded_assistant_and_says_so(
    api_client: APIClient, openai_settings: OpenAIServer, fault: Any, reason: str
) -> None:
    openai_settings.fail_with(fault, times=None)

    body = chat(api_client, "I never want to see anything about spiders")

    assert body["type"] == "ready_for_config"
    assert body["filter_data"]["filter_text"] == "spiders"
    assert body["assistant"] == "embedded"
    assert body["degraded"] is True
    assert body["degraded_reason"] == reason
    assert len(openai_settings.calls) >= 1


def test_a_transient_model_error_is_retried_once(
    api_client: APIClient, openai_settings: OpenAIServer
) -> None:
    openai_settings.fail_with(503, times=1)
    openai_settings.respond_with(lambda body: READY_SPIDERS)

    body = chat(api_client, "spiders please")

    assert body["assistant"] == "openai"
    assert len(openai_settings.calls) == 2


@pytest.mark.parametrize(
    "bad",
    [
        model_reply(type="ready_for_config", filter_data=None),
        model_reply(
            type="ready_for_config", filter_data={**READY_SPIDERS["filter_data"], "intensity": 9}
        ),
        model_reply(
            type="ready_for_config",
            filter_data={**READY_SPIDERS["filter_data"], "duration": "forever"},
        ),
        model_reply(type="celebrate"),
        model_reply(text="   "),
        model_reply(options="Just blur it"),
    ],
)
def test_a_model_answer_outside_the_contract_is_not_trusted(
    api_client: APIClient, openai_settings: OpenAIServer, bad: dict[str, Any]
) -> None:
    openai_settings.respond_with(lambda body: bad)

    body = chat(api_client, "clowns")

    assert body["assistant"] == "embedded"
    assert body["degraded_reason"] == "invalid_output"
    assert body["type"] == "clarify"  # the embedded assistant asks how strongly


def test_a_duplicate_proposed_by_the_model_is_caught_by_the_server(
    api_client: APIClient, openai_settings: OpenAIServer
) -> None:
    filter_create(
        owner=user_get_or_create(user_id="alice"),
        filter_text="Spider",
        intensity=4,
        duration="week",
    )
    openai_settings.respond_with(lambda body: READY_SPIDERS)

    body = chat(api_client, "spiders")

    assert body["type"] == "clarify"
    assert body["filter_data"] is None
    assert "already have" in body["text"]


def test_a_removal_proposed_by_the_model_needs_a_yes_that_never_reaches_the_model(
    api_client: APIClient, openai_settings: OpenAIServer
) -> None:
    target = filter_create(owner=user_get_or_create(user_id="alice"), filter_text="crypto")
    openai_settings.respond_with(
        lambda body: model_reply(
            text="Remove it?",
            action={
                "kind": "remove",
                "filter_ids": [target.id],
                "intensity": None,
                "duration": None,
                "content_type": None,
            },
        )
    )

    question = chat(api_client, "I'm over the crypto thing")
    assert Filter.objects.filter(id=target.id).exists()
    done = chat(api_client, "Yes, remove it")

    assert question["options"] == ["Yes, remove it", "No, keep it"]
    assert '"crypto"' in question["text"]  # the server words what is being confirmed
    assert done["type"] == "complete"
    assert not Filter.objects.filter(id=target.id).exists()
    assert len(openai_settings.calls) == 1


def test_the_model_cannot_act_on_another_users_filter(
    api_client: APIClient, openai_settings: OpenAIServer
) -> None:
    theirs = filter_create(owner=user_get_or_create(user_id="bob"), filter_text="crypto")
    openai_settings.respond_with(
        lambda body: model_reply(
            text="Remove it?",
            action={
                "kind": "remove",
                "filter_ids": [theirs.id],
                "intensity": None,
                "duration": None,
                "content_type": None,
            },
        )
    )

    question = chat(api_client, "remove filter number one")
    chat(api_client, "yes")

    assert question["options"] == []
    assert Filter.objects.filter(id=theirs.id).exists()


def test_commands_with_a_fixed_meaning_do_not_call_the_model(
    api_client: APIClient, openai_settings: OpenAIServer
) -> None:
    done = chat(api_client, "I'm done")
    listing = chat(api_client, "Yes, show my filters")

    assert done["type"] == "complete"
    assert "don't have any" in listing["text"]
    assert openai_settings.calls == []


def example_image() -> InMemoryUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (32, 24), (10, 10, 10)).save(buffer, format="PNG")
    size = buffer.tell()
    buffer.seek(0)
    return InMemoryUploadedFile(buffer, "image", "x.png", "image/png", size, None)


def test_an_image_goes_to_the_vision_model_which_proposes_filters(
    api_client: APIClient, openai_settings: OpenAIServer, settings: Any
) -> None:
    settings.DIYMOD_OPENAI_VISION_MODEL = "vision-test-model"
    openai_settings.respond_with(
        lambda body: model_reply(
            text="I can see a large spider close up.", options=["Spiders", "Insects"]
        )
    )

    response = api_client.post(
        "/chat/image", {"image": example_image(), "user_id": "alice"}, format="multipart"
    )

    body = response.json()
    assert body["options"] == ["Spiders", "Insects"]
    assert body["assistant"] == "openai"
    [call] = openai_settings.calls
    assert call.body["model"] == "vision-test-model"
    parts = call.body["messages"][-1]["content"]
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")


def test_an_image_with_a_failing_vision_model_gets_the_honest_embedded_answer(
    api_client: APIClient, openai_settings: OpenAIServer
) -> None:
    openai_settings.fail_with(500, times=None)

    response = api_client.post(
        "/chat/image", {"image": example_image(), "user_id": "alice"}, format="multipart"
    )

    body = response.json()
    assert body["type"] == "clarify"
    assert "can't look inside images" in body["text"]
    assert body["degraded"] is True


def test_markup_in_a_model_answer_never_reaches_the_client(
    api_client: APIClient, openai_settings: OpenAIServer
) -> None:
    openai_settings.respond_with(
        lambda body: {
            **READY_SPIDERS,
            "text": "Done <img src=x onerror=alert(1)>",
            "options": ["<script>x</script>"],
            "filter_data": {
                **READY_SPIDERS["filter_data"],
                "filter_text": "spiders<svg/onload=1>",
            },
        }
    )

    body = chat(api_client, "spiders")

    assert "<" not in json.dumps(body) and ">" not in json.dumps(body)
    assert body["filter_data"]["filter_text"] == "spiderssvg/onload=1"
