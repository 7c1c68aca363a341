from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from freezegun import freeze_time

from filters.models import Filter, User
from filters.services import filter_create, token_issue, user_get_or_create

pytestmark = pytest.mark.django_db


def filter_post(api_client, **fields):
    body = {"user_id": "alice", "filter_text": "spiders", **fields}
    return api_client.post("/filters", body, format="json")


def test_ping_answers_success_with_a_timestamp(api_client):
    body = api_client.get("/ping").json()
    assert body["status"] == "success"
    assert body["message"] and body["timestamp"]


@pytest.mark.parametrize("path", ["/filters", "/filters/"])
def test_filter_is_created_and_listed_with_or_without_trailing_slash(api_client, path):
    created = api_client.post(
        path, {"user_id": "alice", "filter_text": "  spiders  "}, format="json"
    ).json()
    assert created["status"] == "success"
    listed = api_client.get(path, {"user_id": "alice"}).json()
    assert listed["status"] == "success"
    (item,) = listed["filters"]
    assert item == {
        "id": created["filter_id"],
        "filter_text": "spiders",
        "content_type": "all",
        "intensity": 3,
        "duration": "permanent",
        "is_temporary": False,
        "expires_at": None,
        "created_at": item["created_at"],
    }


def test_first_request_creates_the_user_even_when_named_unknown(api_client):
    filter_post(api_client, user_id="unknown")
    assert User.objects.filter(user_id="unknown").exists()


@pytest.mark.parametrize("intensity", [None, "missing"])
def test_null_or_missing_intensity_is_stored_as_3(api_client, intensity):
    fields = {} if intensity == "missing" else {"intensity": intensity}
    filter_id = filter_post(api_client, **fields).json()["filter_id"]
    assert Filter.objects.get(id=filter_id).intensity == 3


@pytest.mark.parametrize(
    ("duration", "days"),
    [
        ("day", 1),
        ("1 day", 1),
        ("24 hours", 1),
        ("week", 7),
        ("1 week", 7),
        ("month", 30),
        ("1 month", 30),
    ],
)
def test_temporary_durations_set_expiry(api_client, duration, days):
    with freeze_time("2026-01-01T12:00:00Z"):
        filter_id = filter_post(api_client, duration=duration).json()["filter_id"]
    stored = Filter.objects.get(id=filter_id)
    assert stored.is_temporary
    with freeze_time("2026-01-01T12:00:01Z"):  # still running
        (listed,) = api_client.get("/filters", {"user_id": "alice"}).json()["filters"]
    assert listed["is_temporary"] is True
    assert datetime.fromisoformat(listed["expires_at"]) == stored.expires_at  # ISO 8601
    assert (
        stored.expires_at.isoformat()
        == (datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(days=days)).isoformat()
    )


@pytest.mark.parametrize(
    ("fields", "field_name"),
    [
        ({"filter_text": ""}, "filter_text"),
        ({"filter_text": "   "}, "filter_text"),
        ({"filter_text": "x" * 501}, "filter_text"),
        ({"filter_text": 42}, "filter_text"),
        ({"content_type": "video"}, "content_type"),
        ({"intensity": 9}, "intensity"),
        ({"intensity": 0}, "intensity"),
        ({"intensity": "high"}, "intensity"),
        ({"duration": "forever and ever"}, "duration"),
        ({"duration": 7}, "duration"),
        ({"user_id": ["a"]}, "user_id"),
        ({"user_id": "u" * 256}, "user_id"),
        ({"user_id": "a\x00b"}, "user_id"),
        ({"filter_text": "spi\x00ders"}, "filter_text"),
    ],
)
def test_bad_fields_are_400_naming_the_field(api_client, fields, field_name):
    response = filter_post(api_client, **fields)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "error"
    assert field_name in body["message"]
    assert body["detail"] == body["message"]
    assert not Filter.objects.exists()


def test_unknown_duration_never_becomes_a_filter_that_never_expires(api_client):
    assert filter_post(api_client, duration="fortnight").status_code == 400
    assert Filter.objects.count() == 0


def test_non_json_body_is_400_with_a_message(api_client):
    response = api_client.post("/filters", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["message"]


def test_json_array_body_is_400(api_client):
    response = api_client.post("/filters", [1, 2], format="json")
    assert response.status_code == 400
    assert response.json()["status"] == "error"


@pytest.mark.parametrize(("method", "path"), [("POST", "/filters"), ("PUT", "/filters/1")])
def test_a_form_with_1100_fields_is_a_400_not_a_500(api_client, method, path):
    """Django's TooManyFieldsSent escaped the body read as a 500 (the shared `body_dict`)."""
    fields = {f"field{number}": "x" for number in range(1100)}
    body = encode_multipart(BOUNDARY, {**fields, "user_id": "alice", "filter_text": "spiders"})
    response = api_client.generic(method, path, body, content_type=MULTIPART_CONTENT)
    assert response.status_code == 400, response.content
    assert response.json()["message"].startswith("Request body refused")
    assert Filter.objects.count() == 0


def test_missing_user_id_is_400_in_client_id_mode(api_client):
    response = api_client.post("/filters", {"filter_text": "spiders"}, format="json")
    assert response.status_code == 400
    assert "user_id" in response.json()["message"]


def test_update_changes_only_given_fields(api_client):
    filter_id = filter_post(api_client, intensity=2).json()["filter_id"]
    response = api_client.put(
        f"/filters/{filter_id}", {"user_id": "alice", "intensity": 5}, format="json"
    )
    assert response.json() == {"status": "success", "message": "Filter updated"}
    stored = Filter.objects.get(id=filter_id)
    assert (stored.intensity, stored.filter_text) == (5, "spiders")


def test_update_to_a_duration_sets_expiry_and_back_to_permanent_clears_it(api_client):
    filter_id = filter_post(api_client).json()["filter_id"]
    api_client.put(
        f"/filters/{filter_id}/", {"user_id": "alice", "duration": "week"}, format="json"
    )
    assert Filter.objects.get(id=filter_id).expires_at is not None
    api_client.put(
        f"/filters/{filter_id}", {"user_id": "alice", "duration": "permanent"}, format="json"
    )
    stored = Filter.objects.get(id=filter_id)
    assert (stored.is_temporary, stored.expires_at) == (False, None)


def test_update_with_bad_value_is_400_and_changes_nothing(api_client):
    filter_id = filter_post(api_client).json()["filter_id"]
    response = api_client.put(
        f"/filters/{filter_id}", {"user_id": "alice", "intensity": 7}, format="json"
    )
    assert response.status_code == 400
    assert Filter.objects.get(id=filter_id).intensity == 3


@pytest.mark.parametrize("suffix", ["", "/"])
def test_delete_removes_the_filter(api_client, suffix):
    filter_id = filter_post(api_client).json()["filter_id"]
    response = api_client.delete(f"/filters/{filter_id}{suffix}?user_id=alice")
    assert response.json() == {"status": "success", "message": "Filter deleted"}
    assert not Filter.objects.filter(id=filter_id).exists()


def test_another_users_filter_is_404_like_a_missing_one(api_client):
    filter_id = filter_post(api_client).json()["filter_id"]
    put = api_client.put(
        f"/filters/{filter_id}", {"user_id": "bob", "intensity": 1}, format="json"
    )
    delete = api_client.delete(f"/filters/{filter_id}?user_id=bob")
    missing = api_client.delete("/filters/999999?user_id=bob")
    assert put.status_code == delete.status_code == missing.status_code == 404
    assert put.json()["message"].replace(str(filter_id), "N") == missing.json()["message"].replace(
        "999999", "N"
    )
    assert Filter.objects.get(id=filter_id).intensity == 3


def test_another_users_filters_are_not_listed(api_client):
    filter_post(api_client)
    assert api_client.get("/filters", {"user_id": "bob"}).json()["filters"] == []


def test_expired_filters_are_never_listed(api_client):
    with freeze_time("2026-01-01T00:00:00Z"):
        filter_post(api_client, filter_text="today only", duration="day")
        filter_post(api_client, filter_text="for good")
    with freeze_time("2026-01-02T00:00:01Z"):
        listed = api_client.get("/filters", {"user_id": "alice"}).json()["filters"]
    assert [item["filter_text"] for item in listed] == ["for good"]


def test_unknown_route_is_json_404(api_client):
    response = api_client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.json()["status"] == "error"


# --- tokens and auth modes ------------------------------------------------------------------


def test_register_returns_a_fresh_user_and_a_working_token(api_client):
    body = api_client.post("/auth/register").json()
    assert body["status"] == "success"
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    created = api_client.post("/filters", {"filter_text": "spiders"}, format="json")
    assert created.status_code == 200
    assert Filter.objects.get().owner.user_id == body["user_id"]


def test_tokens_are_stored_hashed():
    user = user_get_or_create(user_id="alice")
    raw = token_issue(user=user)
    stored = user.tokens.get()
    assert raw not in (stored.key_hash, stored.prefix)
    assert len(stored.key_hash) == 64


def test_empty_authorization_header_means_client_id_mode(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="")
    assert filter_post(api_client).status_code == 200


def test_a_valid_token_wins_over_a_missing_user_id(api_client):
    raw = token_issue(user=user_get_or_create(user_id="alice"))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    filter_create(owner=User.objects.get(user_id="alice"), filter_text="spiders")
    listed = api_client.get("/filters").json()["filters"]
    assert [item["filter_text"] for item in listed] == ["spiders"]


def test_token_for_one_user_with_another_users_id_is_403(api_client):
    raw = token_issue(user=user_get_or_create(user_id="alice"))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = filter_post(api_client, user_id="bob")
    assert response.status_code == 403
    assert response.json()["status"] == "error"
    assert not Filter.objects.exists()


def test_an_invalid_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer dm_not-a-token")
    response = filter_post(api_client)
    assert response.status_code == 401
    assert response.json()["status"] == "error"


def test_token_mode_refuses_calls_without_a_token(api_client, settings):
    settings.DIYMOD_AUTH = "token"
    response = filter_post(api_client)
    assert response.status_code == 401
    assert "token" in response.json()["message"].lower()
    assert not User.objects.filter(user_id="alice").exists()


def test_token_mode_accepts_the_tokens_user_and_refuses_another_id(api_client, settings):
    settings.DIYMOD_AUTH = "token"
    raw = token_issue(user=user_get_or_create(user_id="alice"))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert filter_post(api_client).status_code == 200
    assert filter_post(api_client, user_id="bob").status_code == 403
    filter_id = Filter.objects.get().id
    other = filter_create(owner=user_get_or_create(user_id="bob"), filter_text="snakes")
    assert api_client.delete(f"/filters/{other.id}").status_code == 404
    assert api_client.delete(f"/filters/{filter_id}").status_code == 200


# --- CORS and Private Network Access (CONTRACT section 1) -------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        "https://www.reddit.com",
        "https://reddit.com",
        "https://old.reddit.com",
        "https://x.com",
        "https://twitter.com",
        "chrome-extension://abcdefghijklmnop",
        "http://localhost:3000",
    ],
)
def test_preflight_from_allowed_origins_is_answered(api_client, origin):
    response = api_client.options(
        "/get_feed",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type",
        HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK="true",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == origin
    allowed = response["Access-Control-Allow-Headers"]
    assert "authorization" in allowed and "content-type" in allowed
    assert response["Access-Control-Allow-Private-Network"] == "true"


@pytest.mark.parametrize("origin", ["https://evil.com", "https://reddit.com.evil.com"])
def test_preflight_from_other_origins_gets_no_cors_grant(api_client, origin):
    response = api_client.options(
        "/filters", HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in response
