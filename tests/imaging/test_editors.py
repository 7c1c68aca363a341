"""The OpenAI image editor, over real HTTP against the local OpenAI-compatible server."""

from __future__ import annotations

import base64
from io import BytesIO

import numpy as np
import pytest
from PIL import Image

from filters.models import User
from imaging.editors import image_edit
from imaging.jobs import image_job_run
from imaging.models import ImageJob
from imaging.requests import image_job_request
from imaging.storage import image_result_path
from tests.support.image_server import ImageServer, image_bytes_make
from tests.support.openai_server import IMAGE_EDIT_PATH, OpenAIServer

pytestmark = pytest.mark.usefixtures("imaging_settings")


def png_base64(size: tuple[int, int], colour: tuple[int, int, int]) -> str:
    buffer = BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def openai_editor(openai_settings: OpenAIServer, settings) -> OpenAIServer:
    settings.DIYMOD_IMAGE_EDITOR = "openai"
    settings.DIYMOD_OPENAI_IMAGE_MODEL = "gpt-image-test"
    # The model answers a red square, whatever it is sent.
    openai_settings.respond_with(
        lambda body: {"data": [{"b64_json": png_base64((64, 64), (220, 10, 10))}]},
        path=IMAGE_EDIT_PATH,
    )
    return openai_settings


def photo(width: int = 300, height: int = 200, **options: object) -> Image.Image:
    image = Image.open(BytesIO(image_bytes_make(width, height, "JPEG", **options)))
    image.load()
    return image


def test_the_openai_editor_redraws_a_cartoon_at_the_inputs_size(
    openai_editor: OpenAIServer,
) -> None:
    edited = image_edit(image=photo(), intervention="cartoon", filter_texts=["Spiders", "snakes"])

    (call,) = openai_editor.calls_to(IMAGE_EDIT_PATH)
    uploaded = Image.open(BytesIO(call.body["image"].data))
    result = Image.open(BytesIO(edited.image.data))
    pixels = np.asarray(result.convert("RGB"), dtype=np.int16)
    assert call.body["model"] == "gpt-image-test"
    assert '"Spiders"' in call.body["prompt"] and '"snakes"' in call.body["prompt"]
    assert uploaded.format == "PNG" and uploaded.size == (300, 200)
    assert result.size == (300, 200) and edited.note == ""
    assert pixels[:, :, 0].mean() > 180 and pixels[:, :, 1].mean() < 60
    assert dict(result.getexif()) == {}


def test_the_uploaded_picture_is_upright_and_carries_no_metadata(
    openai_editor: OpenAIServer,
) -> None:
    image_edit(image=photo(orientation=6), intervention="cartoon", filter_texts=["spiders"])

    (call,) = openai_editor.calls_to(IMAGE_EDIT_PATH)
    uploaded = Image.open(BytesIO(call.body["image"].data))
    assert uploaded.size == (200, 300)
    assert dict(uploaded.getexif()) == {}


def test_large_pictures_are_uploaded_smaller_and_scaled_back(
    openai_editor: OpenAIServer,
) -> None:
    edited = image_edit(image=photo(2048, 1536), intervention="cartoon", filter_texts=["x"])

    (call,) = openai_editor.calls_to(IMAGE_EDIT_PATH)
    assert Image.open(BytesIO(call.body["image"].data)).size == (1024, 768)
    assert (edited.image.width, edited.image.height) == (2048, 1536)


@pytest.mark.parametrize("intervention", ["blur", "pixelate", "warning", "grayscale"])
def test_other_interventions_stay_local(openai_editor: OpenAIServer, intervention: str) -> None:
    edited = image_edit(image=photo(), intervention=intervention, filter_texts=["spiders"])

    assert openai_editor.calls_to(IMAGE_EDIT_PATH) == []
    assert edited.note == "" and edited.image.width == 300


def test_the_local_editor_never_calls_the_model(openai_editor: OpenAIServer, settings) -> None:
    settings.DIYMOD_IMAGE_EDITOR = "local"

    image_edit(image=photo(), intervention="cartoon", filter_texts=["spiders"])

    assert openai_editor.calls == []


@pytest.mark.parametrize("fault", [500, 429, "drop", "invalid_json"])
def test_a_model_failure_falls_back_to_the_local_cartoon_and_says_so(
    openai_editor: OpenAIServer, fault: int | str
) -> None:
    openai_editor.fail_with(fault, path=IMAGE_EDIT_PATH)

    edited = image_edit(image=photo(), intervention="cartoon", filter_texts=["spiders"])

    result = np.asarray(Image.open(BytesIO(edited.image.data)).convert("RGB"), dtype=np.int16)
    assert "local cartoon used" in edited.note
    assert result.shape == (200, 300, 3)
    assert not (result[:, :, 0].mean() > 180 and result[:, :, 1].mean() < 60)  # not the model's


def test_an_answer_without_base64_falls_back(openai_editor: OpenAIServer) -> None:
    openai_editor.respond_with(
        lambda body: {"data": [{"url": "http://169.254.169.254/x.png"}]}, path=IMAGE_EDIT_PATH
    )

    edited = image_edit(image=photo(), intervention="cartoon", filter_texts=["spiders"])

    assert "no_image" in edited.note


@pytest.mark.django_db
def test_a_job_with_the_openai_editor_stores_the_models_picture(
    openai_editor: OpenAIServer, image_server: ImageServer
) -> None:
    user = User.objects.create_user("alice")
    job = image_job_request(
        user=user,
        image_url=image_server.url("/image.jpg?w=120&h=80"),
        filter_texts=["spiders"],
        intensity=5,
    )

    image_job_run(job_id=job.pk)

    job.refresh_from_db()
    stored = Image.open(image_result_path(job.result)).convert("RGB")
    assert job.status == ImageJob.Status.DONE and job.error == ""
    assert stored.size == (120, 80) and stored.getpixel((60, 40))[0] > 180


@pytest.mark.django_db
def test_a_job_whose_model_call_failed_is_done_locally_with_the_reason_kept(
    openai_editor: OpenAIServer, image_server: ImageServer
) -> None:
    openai_editor.fail_with(503, path=IMAGE_EDIT_PATH)
    user = User.objects.create_user("alice")
    job = image_job_request(
        user=user, image_url=image_server.url("/image.jpg"), filter_texts=["x"], intensity=5
    )

    image_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImageJob.Status.DONE
    assert "http_503" in job.error and "local cartoon" in job.error
