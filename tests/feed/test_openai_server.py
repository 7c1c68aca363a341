"""The local OpenAI-compatible server speaks enough of the API for the real openai client, and
the client helpers in diymod/openai_client.py retry, time out and fail the way callers expect."""

from __future__ import annotations

import base64
import time
from typing import Any

import openai
import pytest

from diymod.openai_client import ModelError, chat_json, chat_json_reply, deadline_after
from tests.support.openai_server import IMAGE_EDIT_PATH, TINY_PNG, OpenAIServer

SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}
MESSAGES = [{"role": "user", "content": "Say hi"}]


def raw_client(server: OpenAIServer, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(api_key="k", base_url=server.base_url, timeout=timeout, max_retries=0)


def test_chat_handler_output_comes_back_as_the_assistant_content(
    openai_server: OpenAIServer,
) -> None:
    openai_server.respond_with(lambda body: {"echo": body["messages"][0]["content"]})
    completion = raw_client(openai_server).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hello"}]
    )
    assert completion.choices[0].message.content == '{"echo": "hello"}'
    assert [call.path for call in openai_server.calls] == ["/v1/chat/completions"]
    assert openai_server.calls[0].body["model"] == "m"


def test_image_edit_multipart_is_recorded_with_its_fields_and_file(
    openai_server: OpenAIServer,
) -> None:
    result = raw_client(openai_server).images.edit(
        image=("cat.png", TINY_PNG, "image/png"), prompt="make it a cartoon", model="gpt-image-1"
    )
    call = openai_server.calls_to(IMAGE_EDIT_PATH)[0]
    assert call.body["prompt"] == "make it a cartoon"
    assert call.body["image"].data == TINY_PNG
    assert base64.b64decode(result.data[0].b64_json) == TINY_PNG


def test_image_generation_uses_the_programmed_handler(openai_server: OpenAIServer) -> None:
    openai_server.respond_with(
        lambda body: {"created": 1, "data": [{"b64_json": "QUJD"}]}, path="/images/generations"
    )
    result = raw_client(openai_server).images.generate(prompt="a calm lake", model="x")
    assert result.data[0].b64_json == "QUJD"
    assert openai_server.calls[0].body["prompt"] == "a calm lake"


def test_scripted_429_answers_with_an_openai_error_body_then_recovers(
    openai_server: OpenAIServer,
) -> None:
    openai_server.fail_with(429, times=1)
    client = raw_client(openai_server)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.code == "rate_limit_exceeded"
    client.chat.completions.create(model="m", messages=MESSAGES)
    assert [call.fault for call in openai_server.calls] == ["429", ""]


def test_dropped_connection_is_a_connection_error(openai_server: OpenAIServer) -> None:
    openai_server.fail_with("drop")
    with pytest.raises(openai.APIConnectionError):
        raw_client(openai_server).chat.completions.create(model="m", messages=MESSAGES)


def test_delay_makes_a_short_timeout_expire(openai_server: OpenAIServer) -> None:
    openai_server.delay = 1.0
    with pytest.raises(openai.APITimeoutError):
        raw_client(openai_server, timeout=0.2).chat.completions.create(
            model="m", messages=MESSAGES
        )


# --- diymod.openai_client against the server ------------------------------------------------


@pytest.fixture
def configured(openai_settings: OpenAIServer, settings: Any) -> OpenAIServer:
    settings.DIYMOD_OPENAI_MODEL = "local-model"
    return openai_settings


def test_chat_json_sends_a_strict_json_schema_and_returns_the_object(
    configured: OpenAIServer,
) -> None:
    configured.respond_with(lambda body: {"answer": "hi"})
    assert chat_json(messages=MESSAGES, schema=SCHEMA, schema_name="greeting") == {"answer": "hi"}
    sent = configured.calls[0].body
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["strict"] is True
    assert sent["response_format"]["json_schema"]["schema"] == SCHEMA
    assert sent["model"] == "local-model"


def test_chat_json_retries_a_500_once_then_succeeds(configured: OpenAIServer) -> None:
    configured.respond_with(lambda body: {"answer": "late"})
    configured.fail_with(500, times=1)
    reply = chat_json_reply(messages=MESSAGES, schema=SCHEMA, max_retries=1)
    assert reply.data == {"answer": "late"}
    assert reply.attempts == 2


def test_chat_json_gives_up_after_the_bounded_retries(configured: OpenAIServer) -> None:
    configured.fail_with(429)
    with pytest.raises(ModelError) as caught:
        chat_json(messages=MESSAGES, schema=SCHEMA, max_retries=2)
    assert caught.value.reason == "http_429"
    assert len(configured.calls) == 3


def test_client_errors_are_not_retried(configured: OpenAIServer) -> None:
    configured.fail_with(400)
    with pytest.raises(ModelError) as caught:
        chat_json(messages=MESSAGES, schema=SCHEMA, max_retries=3)
    assert caught.value.reason == "http_400"
    assert len(configured.calls) == 1


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("invalid_json", "invalid_json"), ("refusal", "refusal"), ("drop", "connection")],
)
def test_unusable_answers_raise_model_error(
    configured: OpenAIServer, fault: str, reason: str
) -> None:
    configured.fail_with(fault)
    with pytest.raises(ModelError) as caught:
        chat_json(messages=MESSAGES, schema=SCHEMA, max_retries=0)
    assert caught.value.reason == reason


def test_the_deadline_cuts_a_slow_call_short(configured: OpenAIServer) -> None:
    configured.delay = 3.0
    with pytest.raises(ModelError) as caught:
        chat_json(messages=MESSAGES, schema=SCHEMA, deadline=deadline_after(0.3), max_retries=3)
    assert caught.value.reason == "timeout"
    # Retries are allowed, but none fits in what is left of the deadline.
    assert len(configured.calls) == 1


def test_an_expired_deadline_makes_no_call(configured: OpenAIServer) -> None:
    with pytest.raises(ModelError) as caught:
        chat_json(messages=MESSAGES, schema=SCHEMA, deadline=time.monotonic() - 1)
    assert caught.value.reason == "deadline"
    assert configured.calls == []
