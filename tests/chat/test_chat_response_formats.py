"""POST /chat and /chat/image with the OpenAI assistant against servers that differ in
structured output (tests/support/openai_server.py mimics): OpenAI/vLLM-like, llama.cpp-like,
code-fence."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.chat.test_chat_openai import READY_SPIDERS, chat, example_image, model_reply
from tests.support.openai_server import OpenAIServer

pytestmark = pytest.mark.django_db

# What each server is sent for a first structured call: the refused attempt is recorded too.
FIRST_FORMATS = {
    "openai": ["json_schema"],
    "llama_cpp": ["json_schema", "json_object"],
    "code_fence": ["json_schema"],
}
MIMICS = list(FIRST_FORMATS)


@pytest.fixture
def compat(openai_settings: OpenAIServer, settings: Any) -> OpenAIServer:
    settings.DIYMOD_OPENAI_RESPONSE_FORMAT = "auto"
    settings.DIYMOD_OPENAI_VISION_MODEL = "vision-test-model"
    return openai_settings


def formats(server: OpenAIServer) -> list[str]:
    return [call.body["response_format"]["type"] for call in server.calls]


def image_post(client: APIClient) -> dict[str, Any]:
    response = client.post(
        "/chat/image", {"image": example_image(), "user_id": "alice"}, format="multipart"
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("mimic", MIMICS)
def test_the_assistant_answers_from_the_model_on_each_kind_of_server(
    api_client: APIClient, compat: OpenAIServer, mimic: str
) -> None:
    compat.mimic = mimic
    compat.respond_with(lambda body: READY_SPIDERS)

    body = chat(api_client, "please keep spiders away from me for a while")

    assert body["assistant"] == "openai" and "degraded" not in body
    assert body["type"] == "ready_for_config"
    assert body["filter_data"]["filter_text"] == "spiders"
    assert formats(compat) == FIRST_FORMATS[mimic]


@pytest.mark.parametrize("mimic", MIMICS)
def test_vision_answers_from_the_model_on_each_kind_of_server(
    api_client: APIClient, compat: OpenAIServer, mimic: str
) -> None:
    compat.mimic = mimic
    compat.respond_with(
        lambda body: model_reply(text="I can see a spider.", options=["Spiders", "Insects"])
    )

    body = image_post(api_client)

    assert body["assistant"] == "openai" and "degraded" not in body
    assert body["options"] == ["Spiders", "Insects"]
    assert formats(compat) == FIRST_FORMATS[mimic]
    assert {call.body["model"] for call in compat.calls} == {"vision-test-model"}
    image_part = compat.calls[-1].body["messages"][-1]["content"][1]
    assert image_part["image_url"]["url"].startswith("data:image/png;base64,")


@pytest.mark.parametrize("mimic", ["llama_cpp", "code_fence"])
def test_later_turns_go_straight_to_json_object(
    api_client: APIClient, compat: OpenAIServer, mimic: str
) -> None:
    compat.mimic = mimic
    compat.respond_with(lambda body: model_reply(text="Which show?"))

    chat(api_client, "no spoilers please")
    calls_before = len(compat.calls)
    second = chat(api_client, "the one with the office floor")
    image_post(api_client)

    assert second["assistant"] == "openai"
    assert formats(compat)[calls_before:] == ["json_object", "json_object"]


@pytest.mark.parametrize("mimic", ["llama_cpp", "code_fence"])
def test_an_answer_outside_the_schema_falls_back_as_invalid_json(
    api_client: APIClient, compat: OpenAIServer, mimic: str
) -> None:
    compat.mimic = mimic
    compat.respond_with(lambda body: model_reply(type="celebrate"))

    body = chat(api_client, "clowns")
    picture = image_post(api_client)

    assert body["assistant"] == "embedded"
    assert body["degraded_reason"] == "invalid_json"
    assert picture["degraded"] is True
    assert picture["degraded_reason"] == "invalid_json"


def test_forced_json_object_sends_the_schema_in_the_prompt_from_the_first_turn(
    api_client: APIClient, compat: OpenAIServer, settings: Any
) -> None:
    settings.DIYMOD_OPENAI_RESPONSE_FORMAT = "json_object"
    compat.respond_with(lambda body: READY_SPIDERS)

    body = chat(api_client, "spiders please")

    assert body["assistant"] == "openai"
    [call] = compat.calls
    assert call.body["response_format"]["type"] == "json_object"
    assert '"filter_data"' in call.body["messages"][0]["content"]  # the schema, in the prompt


def test_forced_json_schema_against_a_llama_cpp_like_server_falls_back_after_one_call(
    api_client: APIClient, compat: OpenAIServer, settings: Any
) -> None:
    settings.DIYMOD_OPENAI_RESPONSE_FORMAT = "json_schema"
    compat.mimic = "llama_cpp"

    body = chat(api_client, "I never want to see anything about spiders")

    assert body["assistant"] == "embedded" and body["degraded_reason"] == "http_400"
    assert formats(compat) == ["json_schema"]
