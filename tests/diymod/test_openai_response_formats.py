"""diymod.openai_client's response formats against the local server's three behaviours:
OpenAI/vLLM-like (takes json_schema), llama.cpp-like (refuses json_schema, takes json_object)
and a server that ignores response_format and answers in a ```json code fence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import openai
import pytest

from diymod.openai_client import (
    ModelError,
    chat_json_reply,
    completion_content_parse,
    deadline_after,
    model_call,
)
from diymod.response_formats import SCHEMA_ADDENDUM, FormatChooser, response_format_remembered
from tests.support.openai_server import OpenAIServer, RecordedCall

SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "mood": {"type": "string", "enum": ["calm", "busy"]},
        "score": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
    },
    "required": ["answer", "mood", "score"],
    "additionalProperties": False,
}
GOOD = {"answer": "hi", "mood": "calm", "score": 3}
MESSAGES = [
    {"role": "system", "content": "You greet people."},
    {"role": "user", "content": "Say hi"},
]


@pytest.fixture
def server(openai_settings: OpenAIServer, settings: Any) -> OpenAIServer:
    settings.DIYMOD_OPENAI_MODEL = "local-model"
    settings.DIYMOD_OPENAI_RESPONSE_FORMAT = "auto"
    openai_settings.respond_with(lambda body: GOOD)
    return openai_settings


def formats(server: OpenAIServer) -> list[str]:
    return [call.body["response_format"]["type"] for call in server.calls]


def ask(**options: Any) -> Any:
    return chat_json_reply(messages=MESSAGES, schema=SCHEMA, schema_name="greeting", **options)


def schema_in_prompt(call: RecordedCall) -> bool:
    first = call.body["messages"][0]
    return first["role"] == "system" and SCHEMA_ADDENDUM + json.dumps(
        SCHEMA, separators=(",", ":")
    ) in str(first["content"])


def test_an_openai_like_server_gets_json_schema_once_and_it_is_remembered(server, settings):
    reply = ask()
    assert reply.data == GOOD and reply.attempts == 1
    assert formats(server) == ["json_schema"]
    assert not schema_in_prompt(server.calls[0])
    assert response_format_remembered(settings.OPENAI_BASE_URL) == "json_schema"


def test_a_llama_cpp_like_server_gets_the_same_request_again_as_json_object(server, settings):
    server.mimic = "llama_cpp"
    reply = ask(max_retries=0)
    assert reply.data == GOOD and reply.attempts == 2
    assert formats(server) == ["json_schema", "json_object"]
    assert [call.fault for call in server.calls] == ["response_format", ""]
    retry = server.calls[1].body
    assert retry["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert schema_in_prompt(server.calls[1])
    # The addendum extends the first system message; the conversation itself is unchanged.
    assert retry["messages"][0]["content"].startswith("You greet people.")
    assert retry["messages"][1:] == MESSAGES[1:]
    assert response_format_remembered(settings.OPENAI_BASE_URL) == "json_object"


def test_the_remembered_format_makes_later_calls_go_straight_to_json_object(server):
    server.mimic = "llama_cpp"
    ask()
    second = ask()
    assert second.attempts == 1
    assert formats(server) == ["json_schema", "json_object", "json_object"]


@pytest.mark.parametrize("status", [422, 500])
def test_other_statuses_naming_response_format_are_refusals_too(server, status):
    server.mimic = "llama_cpp"
    server.format_refusal_status = status
    assert ask(max_retries=0).data == GOOD
    assert formats(server) == ["json_schema", "json_object"]


def test_messages_without_a_system_prompt_get_one_with_the_schema(server):
    server.mimic = "llama_cpp"
    chat_json_reply(messages=[{"role": "user", "content": "hi"}], schema=SCHEMA)
    sent = server.calls[1].body["messages"]
    assert sent[0]["role"] == "system" and SCHEMA_ADDENDUM in sent[0]["content"]
    assert sent[1] == {"role": "user", "content": "hi"}


def test_a_code_fenced_answer_is_parsed_validated_and_the_schema_goes_in_the_prompt_next(
    server, settings
):
    server.mimic = "code_fence"
    first = ask()
    second = ask()
    assert first.data == GOOD and first.attempts == 1
    assert second.data == GOOD and second.attempts == 1
    assert formats(server) == ["json_schema", "json_object"]
    assert schema_in_prompt(server.calls[1])
    assert response_format_remembered(settings.OPENAI_BASE_URL) == "json_object"


@pytest.mark.parametrize(
    "bad",
    [
        {"answer": "hi", "mood": "grumpy", "score": 3},  # outside the enum
        {"answer": "hi", "mood": "calm"},  # a required field missing
        {"answer": "hi", "mood": "calm", "score": "3"},  # wrong type
        {**GOOD, "extra": 1},  # additionalProperties: false
    ],
)
def test_a_json_object_answer_that_does_not_match_the_schema_is_invalid_json(server, bad):
    server.mimic = "llama_cpp"
    server.respond_with(lambda body: bad)
    with pytest.raises(ModelError) as caught:
        ask(max_retries=1)
    assert caught.value.reason == "invalid_json"
    assert "does not match the schema" in str(caught.value)
    # The refused json_schema request, the json_object retry, and the one ordinary retry.
    assert formats(server) == ["json_schema", "json_object", "json_object"]


def test_a_fenced_answer_that_does_not_match_is_retried_once_with_the_schema_in_the_prompt(
    server,
):
    server.mimic = "code_fence"
    answers = iter([{"greeting": "hello"}, GOOD])
    server.respond_with(lambda body: next(answers))
    reply = ask(max_retries=0)
    assert reply.data == GOOD and reply.attempts == 2
    assert formats(server) == ["json_schema", "json_object"]


def test_a_server_known_to_take_json_schema_is_not_switched_by_one_bad_answer(server):
    ask()
    server.fail_with("invalid_json", times=1)
    reply = ask(max_retries=1)
    assert reply.attempts == 2  # an ordinary retry, same format
    assert formats(server) == ["json_schema", "json_schema", "json_schema"]


def test_json_schema_answers_are_trusted_to_the_server_as_before(server):
    # A strict json_schema server enforces the schema itself; callers check what they use.
    server.respond_with(lambda body: {"answer": "hi", "mood": "grumpy", "score": 3})
    assert ask().data["mood"] == "grumpy"


def test_the_forced_json_schema_mode_never_falls_back(server, settings):
    settings.DIYMOD_OPENAI_RESPONSE_FORMAT = "json_schema"
    server.mimic = "llama_cpp"
    with pytest.raises(ModelError) as caught:
        ask(max_retries=2)
    assert caught.value.reason == "http_400"
    assert formats(server) == ["json_schema"]
    assert response_format_remembered(settings.OPENAI_BASE_URL) is None


def test_the_forced_json_object_mode_starts_there_and_validates(server, settings):
    settings.DIYMOD_OPENAI_RESPONSE_FORMAT = "json_object"
    assert ask().data == GOOD
    assert formats(server) == ["json_object"]
    assert schema_in_prompt(server.calls[0])
    server.respond_with(lambda body: {"answer": 1})
    with pytest.raises(ModelError) as caught:
        ask(max_retries=0)
    assert caught.value.reason == "invalid_json"


def test_server_errors_that_do_not_name_response_format_do_not_switch(server):
    server.mimic = "llama_cpp"
    server.fail_with(503, times=None)
    with pytest.raises(ModelError) as caught:
        ask(max_retries=1)
    assert caught.value.reason == "http_503"
    assert formats(server) == ["json_schema", "json_schema"]  # 1 + max_retries, as before


def test_concurrent_first_calls_spend_one_refused_request_between_them(server):
    server.mimic = "llama_cpp"
    server.delay = 0.05  # keep the first call open while the others start
    replies: list[Any] = []
    threads = [threading.Thread(target=lambda: replies.append(ask())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(replies) == 4 and all(reply.data == GOOD for reply in replies)
    assert formats(server).count("json_schema") == 1
    assert len(server.calls) == 5


def test_the_format_retry_is_not_made_when_the_deadline_has_passed() -> None:
    calls: list[float] = []
    deadline = deadline_after(0.2)

    def refused(timeout: float) -> None:
        calls.append(timeout)
        while time.monotonic() < deadline:
            time.sleep(0.01)
        error = ModelError("refused", reason="http_400")
        error.retry_now = True
        raise error

    with pytest.raises(ModelError) as caught:
        model_call(refused, deadline=deadline, max_retries=3)
    assert caught.value.reason == "http_400"
    assert caught.value.attempts == 1
    assert len(calls) == 1


def test_the_format_retry_happens_once_outside_the_retry_budget() -> None:
    calls: list[float] = []

    def refused_twice(timeout: float) -> str:
        calls.append(timeout)
        if len(calls) <= 2:
            error = ModelError("refused", reason="http_400")
            error.retry_now = True
            raise error
        return "ok"

    with pytest.raises(ModelError):
        model_call(refused_twice, max_retries=0)
    assert len(calls) == 2  # the one immediate retry; a second request to switch is refused


@pytest.mark.parametrize("base_url", ["", "https://api.openai.com/v1"])
def test_openais_own_api_is_known_to_take_json_schema(base_url: str) -> None:
    chooser = FormatChooser(base_url, "auto")
    assert chooser.known and chooser.mode == "json_schema"
    assert not FormatChooser("http://127.0.0.1:8080/v1", "auto").known


def completion_with(content: str) -> SimpleNamespace:
    message = SimpleNamespace(content=content, refusal=None)
    return SimpleNamespace(choices=[SimpleNamespace(message=message, finish_reason="stop")])


@pytest.mark.parametrize(
    ("content", "fenced"),
    [
        ('{"a": 1}', False),
        ('  {"a": 1}\n', False),
        ('Sure!\n```json\n{"a": 1}\n```\nAnything else?', True),
        ('```JSON\n{"a": 1}\n```', True),
        ('```\n{"a": 1}\n```', True),
        ('```json {"a": 1} ```', True),
    ],
)
def test_json_is_found_bare_or_in_a_code_fence(content: str, fenced: bool) -> None:
    assert completion_content_parse(completion_with(content)) == ({"a": 1}, fenced)


@pytest.mark.parametrize("content", ["Sure, a = 1", '```json\n{"a": \n```', "```json\n[1]\n```"])
def test_no_json_object_anywhere_is_invalid_json(content: str) -> None:
    with pytest.raises(ModelError) as caught:
        completion_content_parse(completion_with(content))
    assert caught.value.reason == "invalid_json"


# --- the test server's mimics themselves ------------------------------------------------------


def raw_create(server: OpenAIServer, response_format: dict[str, Any]) -> Any:
    client = openai.OpenAI(api_key="k", base_url=server.base_url, max_retries=0, timeout=5)
    return client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "hi"}],
        response_format=response_format,  # type: ignore[arg-type]
    )


def test_the_llama_cpp_mimic_refuses_json_schema_like_llama_cpp_python(
    openai_server: OpenAIServer,
) -> None:
    openai_server.mimic = "llama_cpp"
    with pytest.raises(openai.BadRequestError) as caught:
        raw_create(openai_server, {"type": "json_schema", "json_schema": {"name": "a"}})
    assert caught.value.body["param"] == "response_format"
    assert "Input should be 'text' or 'json_object'" in caught.value.body["message"]
    assert raw_create(openai_server, {"type": "json_object", "schema": SCHEMA}).choices


def test_the_code_fence_mimic_answers_json_in_a_fence_whatever_is_asked(
    openai_server: OpenAIServer,
) -> None:
    openai_server.mimic = "code_fence"
    openai_server.respond_with(lambda body: GOOD)
    content = raw_create(openai_server, {"type": "json_object"}).choices[0].message.content
    assert content.startswith("Here is the JSON") and "```json\n" in content
    with pytest.raises(ValueError):
        openai_server.mimic = "anthropic"


# --- the setting ----------------------------------------------------------------------------


def settings_load(value: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DIYMOD_OPENAI_RESPONSE_FORMAT": value,
        "DJANGO_SETTINGS_MODULE": "diymod.settings",
    }
    code = "import django; django.setup(); from django.conf import settings as s; "
    code += "print(s.DIYMOD_OPENAI_RESPONSE_FORMAT)"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_bad_response_format_setting_stops_start_up_naming_the_variable() -> None:
    result = settings_load("xml")
    assert result.returncode != 0
    assert "DIYMOD_OPENAI_RESPONSE_FORMAT" in result.stderr


def test_the_response_format_setting_takes_its_documented_values() -> None:
    result = settings_load("JSON_OBJECT")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "json_object"
