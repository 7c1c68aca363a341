"""POST /chat end to end with the embedded assistant (CONTRACT.md section 2)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from filters.models import Filter, User
from filters.services import filter_create, token_issue, user_get_or_create

pytestmark = pytest.mark.django_db

CONTRACT_FIELDS = {"status", "text", "type", "options", "filter_data"}


def chat(
    client: APIClient,
    message: str,
    user_id: str | None = "alice",
    history: list[dict[str, Any]] | None = None,
    path: str = "/chat",
) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "history": history or []}
    if user_id is not None:
        body["user_id"] = user_id
    response = client.post(path, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_never_want_to_see_spiders_is_ready_for_config_in_one_call(api_client: APIClient) -> None:
    body = chat(api_client, "I never want to see anything about spiders")

    assert CONTRACT_FIELDS <= set(body)
    assert body["status"] == "success"
    assert body["type"] == "ready_for_config"
    assert body["filter_data"] == {
        "filter_text": "spiders",
        "content_type": "all",
        "intensity": 5,
        "duration": "permanent",
    }
    assert body["assistant"] == "embedded"


def test_a_multi_turn_conversation_works_when_history_holds_only_the_last_message(
    api_client: APIClient,
) -> None:
    first = chat(api_client, "clowns")
    # The client bug: history carries only the previous assistant message, no topic in it.
    last_only = [{"role": "assistant", "content": first["text"], "type": first["type"]}]
    second = chat(api_client, "Warn me first", history=last_only)
    third = chat(api_client, "for a week", history=[])

    assert first["type"] == "clarify"
    assert first["options"] == ["Just blur it", "Warn me first", "Remove completely"]
    assert first["filter_data"] is None
    assert second["type"] == "ready_for_config"
    assert third["filter_data"] == {
        "filter_text": "clowns",
        "content_type": "all",
        "intensity": 3,
        "duration": "week",
    }


def test_a_trailing_slash_does_not_matter(api_client: APIClient) -> None:
    body = chat(api_client, "no spoilers for Severance please", path="/chat/")

    assert body["filter_data"]["filter_text"] == "Severance spoilers"
    assert "Severance" in body["filter_data"]["context"]


def test_an_omitted_user_id_is_default_user(api_client: APIClient) -> None:
    chat(api_client, "clowns", user_id=None)
    body = chat(api_client, "just blur", user_id=None)

    assert User.objects.filter(user_id="default_user").exists()
    assert body["filter_data"]["filter_text"] == "clowns"


def test_another_users_conversation_state_never_leaks(api_client: APIClient) -> None:
    chat(api_client, "clowns", user_id="alice")
    bob = chat(api_client, "Just blur it", user_id="bob")
    alice = chat(api_client, "Just blur it", user_id="alice")

    assert bob["type"] == "clarify"
    assert bob["filter_data"] is None
    assert "clowns" not in bob["text"]
    assert alice["filter_data"]["filter_text"] == "clowns"


def test_show_my_filters_lists_only_the_users_own_filters(api_client: APIClient) -> None:
    filter_create(owner=user_get_or_create(user_id="alice"), filter_text="spiders")
    filter_create(owner=user_get_or_create(user_id="bob"), filter_text="bobs secret topic")

    body = chat(api_client, "Yes, show my filters", user_id="alice")

    assert '"spiders"' in body["text"]
    assert "bobs secret topic" not in body["text"]


def test_removal_through_chat_happens_only_after_yes_and_only_for_the_user(
    api_client: APIClient,
) -> None:
    mine = filter_create(owner=user_get_or_create(user_id="alice"), filter_text="spiders")
    theirs = filter_create(owner=user_get_or_create(user_id="bob"), filter_text="spiders")

    question = chat(api_client, "remove my spiders filter", user_id="alice")
    assert Filter.objects.filter(id=mine.id).exists()
    done = chat(api_client, "Yes, remove it", user_id="alice")

    assert question["options"] == ["Yes, remove it", "No, keep it"]
    assert done["type"] == "complete"
    assert not Filter.objects.filter(id=mine.id).exists()
    assert Filter.objects.filter(id=theirs.id).exists()


def test_a_change_through_chat_updates_the_filter_after_yes(api_client: APIClient) -> None:
    target = filter_create(
        owner=user_get_or_create(user_id="alice"), filter_text="crypto", intensity=5
    )

    chat(api_client, "change my crypto filter to just blur for a week")
    chat(api_client, "yes")

    target.refresh_from_db()
    assert (target.intensity, target.duration, target.is_temporary) == (2, "week", True)


def test_a_confirmation_for_a_filter_deleted_meanwhile_changes_nothing(
    api_client: APIClient,
) -> None:
    target = filter_create(owner=user_get_or_create(user_id="alice"), filter_text="crypto")
    chat(api_client, "delete the crypto filter")
    target.delete()

    body = chat(api_client, "yes")

    assert "already gone" in body["text"]


def test_a_duplicate_of_an_existing_filter_is_pointed_out(api_client: APIClient) -> None:
    filter_create(owner=user_get_or_create(user_id="alice"), filter_text="Spiders", intensity=2)

    body = chat(api_client, "just blur spider", user_id="alice")

    assert body["type"] == "clarify"
    assert "already have" in body["text"]
    assert body["filter_data"] is None


def test_a_duplicate_of_another_users_filter_is_not_a_duplicate(api_client: APIClient) -> None:
    filter_create(owner=user_get_or_create(user_id="bob"), filter_text="spiders", intensity=2)

    body = chat(api_client, "just blur spiders", user_id="alice")

    assert body["type"] == "ready_for_config"


def test_the_conversation_expires_after_the_ttl(api_client: APIClient, settings: Any) -> None:
    settings.DIYMOD_CHAT_TTL_SECONDS = 60
    start = timezone.now()
    with freeze_time(start) as clock:
        chat(api_client, "clowns")
        clock.tick(timedelta(seconds=30))
        kept = chat(api_client, "Warn me first")
        chat(api_client, "hide wasps")
        clock.tick(timedelta(seconds=61))
        expired = chat(api_client, "for a week")

    assert kept["filter_data"]["filter_text"] == "clowns"
    assert expired["type"] == "clarify"
    assert expired["filter_data"] is None


def test_gibberish_gets_an_honest_clarify(api_client: APIClient) -> None:
    body = chat(api_client, "asdfgh qwerty")

    assert body["type"] == "clarify"
    assert "didn't understand" in body["text"]


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"user_id": "alice", "message": 5}, "message"),
        ({"user_id": "alice", "message": "x" * 2001}, "2000"),
        ({"user_id": {"a": 1}, "message": "hi"}, "user_id"),
    ],
)
def test_invalid_input_is_a_400_in_the_contract_shape(
    api_client: APIClient, payload: dict[str, Any], fragment: str
) -> None:
    response = api_client.post("/chat", payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "error"
    assert fragment in body["message"]
    assert body["detail"] == body["message"]


def test_a_body_that_is_not_json_is_a_400(api_client: APIClient) -> None:
    response = api_client.post("/chat", "not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["status"] == "error"


def test_over_the_rate_limit_is_429_in_the_contract_shape_per_user(
    api_client: APIClient, settings: Any
) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "chat": "3/min",
        },
    }
    statuses = [
        api_client.post("/chat", {"user_id": "alice", "message": "hi"}, format="json")
        for _ in range(4)
    ]
    other = api_client.post("/chat", {"user_id": "bob", "message": "hi"}, format="json")

    assert [response.status_code for response in statuses] == [200, 200, 200, 429]
    body = statuses[-1].json()
    assert body["status"] == "error"
    assert body["message"] == body["detail"]
    assert "throttled" in body["message"].lower()
    assert other.status_code == 200


def test_token_mode_needs_a_token_and_the_token_names_the_user(
    api_client: APIClient, settings: Any
) -> None:
    settings.DIYMOD_AUTH = "token"
    carol = user_get_or_create(user_id="carol")
    token = token_issue(user=carol)

    refused = api_client.post("/chat", {"message": "hi"}, format="json")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    chat(api_client, "clowns", user_id=None)
    accepted = chat(api_client, "just blur", user_id=None)
    mismatch = api_client.post("/chat", {"message": "hi", "user_id": "dave"}, format="json")

    assert refused.status_code == 401
    assert accepted["filter_data"]["filter_text"] == "clowns"
    assert not User.objects.filter(user_id="default_user").exists()
    assert mismatch.status_code == 403


def test_replies_never_carry_markup_from_the_users_words_or_stored_filters(
    api_client: APIClient,
) -> None:
    filter_create(owner=user_get_or_create(user_id="alice"), filter_text="<b>bold</b> topic")

    created = chat(api_client, "hide <img src=x onerror=alert(1)> clowns")
    listing = chat(api_client, "Yes, show my filters")

    assert "<" not in json.dumps(created) and ">" not in json.dumps(created)
    assert "<" not in listing["text"] and "bbold/b topic" in listing["text"]


def test_chat_still_answers_when_the_cache_is_unreachable(
    api_client: APIClient, settings: Any
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there: refused at once
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    body = chat(api_client, "I never want to see anything about spiders")

    assert body["type"] == "ready_for_config"
