"""/get_img_result after issue 12 (items 3, 4) and 13 (item 2): answers only about the caller's
own requests when the caller is known, never a 5xx, and NOT FOUND (not 400) for empty keys."""

from __future__ import annotations

import json

import pytest
from django.utils.http import urlencode

from filters.models import User
from filters.services import token_issue
from imaging.models import ImageJob
from imaging.requests import image_job_request

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("imaging_settings")]

IMAGE_URL = "https://i.redd.it/scoped.jpg"


def requested(user: User, *, intervention: str | None = None, filters: list[str] | None = None):
    return image_job_request(
        user=user,
        image_url=IMAGE_URL,
        filter_texts=filters or ["spiders"],
        intensity=4,
        intervention=intervention,
    )


def poll(api_client, **query: str):
    query.setdefault("img_url", IMAGE_URL)
    query.setdefault("filters", json.dumps(["spiders"]))
    return api_client.get(f"/get_img_result?{urlencode(query)}")


# --- 12.3: scoped to the caller's own requests --------------------------------------------------


def test_a_user_who_never_requested_the_job_gets_not_found(api_client, alice, bob) -> None:
    requested(alice)

    assert poll(api_client, user_id="bob").json() == {"status": "NOT FOUND"}
    assert poll(api_client, user_id="nobody-ever").json() == {"status": "NOT FOUND"}
    assert poll(api_client, user_id="alice").json() == {"status": "PENDING"}
    assert not User.objects.filter(user_id="nobody-ever").exists()  # a poll creates nobody


def test_token_mode_answers_only_about_the_token_users_requests(
    api_client,
    alice,
    bob,
    settings,
) -> None:
    settings.DIYMOD_AUTH = "token"
    requested(alice)

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=bob)}")
    theirs = poll(api_client)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=alice)}")
    mine = poll(api_client)

    assert theirs.status_code == 200 and theirs.json() == {"status": "NOT FOUND"}
    assert mine.json() == {"status": "PENDING"}


def test_each_user_is_answered_with_the_job_of_their_own_treatment(
    api_client,
    alice,
    bob,
) -> None:
    grayscale = requested(alice, intervention="grayscale")
    blur = requested(bob, intervention="blur")
    ImageJob.objects.filter(pk=grayscale.pk).update(status="done", result="images/g.jpg")
    ImageJob.objects.filter(pk=blur.pk).update(status="failed")

    assert poll(api_client, user_id="alice").json()["processed_value"].endswith("/images/g.jpg")
    assert poll(api_client, user_id="bob").json()["status"] == "FAILED"


# --- 12.4 and 13.2: no 5xx, NOT FOUND for empty or unknown keys ------------------------------


@pytest.mark.parametrize("img_url", ["", "   ", "https://i.redd.it/never-queued.jpg"])
def test_an_empty_or_unknown_img_url_is_a_200_not_found(api_client, img_url: str) -> None:
    response = poll(api_client, img_url=img_url)

    assert response.status_code == 200 and response.json() == {"status": "NOT FOUND"}


@pytest.mark.parametrize("raw", ['["\\ud800"]', '["a\\udfffb", "spiders"]', '["\\ud83d"]'])
def test_a_lone_surrogate_in_filters_is_a_400_never_a_500(api_client, raw: str) -> None:
    response = poll(api_client, filters=raw)

    assert response.status_code == 400
    assert "filters" in response.json()["message"]


def test_a_lone_surrogate_in_filters_on_the_socket_path_finds_nothing(alice) -> None:
    from imaging.requests import image_job_wait

    requested(alice)

    assert image_job_wait(user=alice, image_url=IMAGE_URL, filter_texts=["\ud800"]) is None
    assert image_job_wait(user=alice, image_url="\udfff", filter_texts=["spiders"]) is None
