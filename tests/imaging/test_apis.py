"""GET /get_img_result (CONTRACT section 2), result files under /media/images/, the admin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client
from django.utils.html import escape
from django.utils.http import urlencode

from filters.models import User
from filters.services import token_issue
from imaging.jobs import image_job_run
from imaging.models import ImageJob
from imaging.requests import image_job_request
from imaging.storage import image_result_path
from tests.imaging.conftest import PUBLIC_URL
from tests.support.image_server import ImageServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("imaging_settings")]

IMAGE_URL = "https://i.redd.it/spider.jpg"


def job_for(user: User, url: str = IMAGE_URL, filters: tuple[str, ...] = ("spiders",)) -> ImageJob:
    return image_job_request(user=user, image_url=url, filter_texts=list(filters), intensity=4)


def poll(api_client, image_url: str = IMAGE_URL, filters: object = ("spiders",), slash: str = ""):
    query = {"img_url": image_url}
    if filters is not None:
        query["filters"] = filters if isinstance(filters, str) else json.dumps(list(filters))
    return api_client.get(f"/get_img_result{slash}?{urlencode(query)}")


def done_job(user: User, image_server: ImageServer) -> ImageJob:
    job = job_for(user, image_server.url("/image.jpg?w=80&h=60"))
    image_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


# --- /get_img_result ---


def test_an_image_nobody_queued_is_not_found(api_client) -> None:
    response = poll(api_client)

    assert response.status_code == 200
    assert response.json() == {"status": "NOT FOUND"}


@pytest.mark.parametrize("status", ["queued", "running"])
def test_a_queued_or_running_job_is_pending(api_client, alice: User, status: str) -> None:
    job = job_for(alice)
    ImageJob.objects.filter(pk=job.pk).update(status=status)

    response = poll(api_client)

    assert response.status_code == 200 and response.json() == {"status": "PENDING"}


@pytest.mark.parametrize("slash", ["", "/"])
def test_a_done_job_is_completed_with_its_absolute_url(
    api_client,
    alice: User,
    image_server: ImageServer,
    slash: str,
) -> None:
    job = done_job(alice, image_server)

    response = poll(api_client, job.image_url, slash=slash)

    assert response.status_code == 200
    assert response.json() == {
        "status": "COMPLETED",
        "processed_value": f"{PUBLIC_URL}/media/{job.result}",
    }


def test_without_a_public_url_the_result_url_uses_the_requests_host(
    api_client,
    alice: User,
    image_server: ImageServer,
    settings,
) -> None:
    job = done_job(alice, image_server)
    settings.DIYMOD_PUBLIC_URL = ""

    response = poll(api_client, job.image_url)

    assert response.json()["processed_value"] == f"http://testserver/media/{job.result}"


def test_a_failed_job_is_failed_with_a_message_that_leaks_no_internals(
    api_client,
    alice: User,
) -> None:
    job = job_for(alice)
    ImageJob.objects.filter(pk=job.pk).update(
        status="failed", error="host resolves to non-public address 10.0.0.3"
    )

    body = poll(api_client).json()

    assert body["status"] == "FAILED"
    assert body["message"] and "10.0.0.3" not in body["message"]


def test_filters_must_match_the_jobs_filter_set(api_client, alice: User) -> None:
    job_for(alice, filters=("spiders",))

    assert poll(api_client, filters=["Spiders "]).json()["status"] == "PENDING"
    assert poll(api_client, filters=["snakes"]).json()["status"] == "NOT FOUND"
    assert poll(api_client, filters=None).json()["status"] == "PENDING"


def test_another_users_job_answers_the_same_for_everyone(
    api_client,
    alice: User,
    bob: User,
) -> None:
    # Jobs are shared per (image, filter set), not per user: the contract's poll carries no
    # user, and one job serves everyone who filters that image the same way.
    job_for(alice)

    assert poll(api_client).json() == {"status": "PENDING"}


@pytest.mark.parametrize("filters", ["not json", '{"a": 1}', "[1, 2]", '"spiders"'])
def test_bad_filters_are_a_400_in_the_contract_error_shape(
    api_client,
    filters: str,
) -> None:
    response = poll(api_client, filters=filters)

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "error" and body["message"] == body["detail"]
    assert "filters" in body["message"]


def test_a_missing_img_url_is_a_400(api_client) -> None:
    response = api_client.get("/get_img_result")

    assert response.status_code == 400 and response.json()["status"] == "error"


def test_token_mode_requires_a_token_to_poll(api_client, alice: User, settings) -> None:
    settings.DIYMOD_AUTH = "token"
    job_for(alice)

    refused = poll(api_client)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=alice)}")
    allowed = poll(api_client)

    assert refused.status_code == 401 and refused.json()["status"] == "error"
    assert allowed.status_code == 200 and allowed.json() == {"status": "PENDING"}


# --- result files ---


def test_a_result_file_is_served_with_image_headers(
    alice: User,
    image_server: ImageServer,
    settings,
) -> None:
    settings.DEBUG = False
    job = done_job(alice, image_server)

    response = Client().get(f"/media/{job.result}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == image_result_path(job.result).read_bytes()
    assert "max-age" in response["Cache-Control"]
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"


@pytest.mark.parametrize(
    "path",
    [
        "/media/images/../secret.txt",
        "/media/images/%2e%2e/secret.txt",
        "/media/images//etc/passwd",
        "/media/secret.txt",
        "/media/images/nope.jpg",
    ],
)
def test_nothing_outside_the_results_directory_is_served(
    imaging_settings,
    path: str,
) -> None:
    media = Path(imaging_settings.MEDIA_ROOT)
    (media / "images").mkdir(parents=True)
    (media / "secret.txt").write_text("private")

    response = Client().get(path)

    # 400 for a path Django flags as suspicious (traversal), 404 for the rest.
    assert response.status_code in (400, 404)
    assert b"private" not in response.content


def test_result_files_refuse_writes(alice: User, image_server: ImageServer) -> None:
    job = done_job(alice, image_server)

    assert Client().post(f"/media/{job.result}").status_code == 405


# --- admin ---


@pytest.fixture
def admin_client_logged_in() -> Client:
    admin = User.objects.create_superuser("admin", "secret-password")
    client = Client()
    client.force_login(admin)
    return client


def test_the_admin_lists_jobs_with_thumbnails(
    admin_client_logged_in: Client, alice: User, image_server: ImageServer
) -> None:
    job = done_job(alice, image_server)

    page = admin_client_logged_in.get("/admin/imaging/imagejob/?status__exact=done")

    assert page.status_code == 200
    html = page.content.decode()
    assert escape(job.image_url) in html and f"{PUBLIC_URL}/media/{job.result}" in html


def test_the_admin_retry_action_requeues_failed_jobs(
    admin_client_logged_in: Client, alice: User, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from imaging import dispatch

    dispatched: list[int] = []
    monkeypatch.setattr(
        dispatch, "image_job_dispatch", lambda *, job_id: dispatched.append(job_id)
    )
    job = job_for(alice)
    ImageJob.objects.filter(pk=job.pk).update(status="failed", error="boom", attempts=3)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_logged_in.post(
            "/admin/imaging/imagejob/",
            {"action": "retry_jobs", "_selected_action": [job.pk]},
        )

    job.refresh_from_db()
    assert response.status_code == 302
    assert job.status == "queued" and job.attempts == 0
    assert dispatched == [job.pk]
