"""POST /chat/image: upload validation and the embedded (no vision) answer."""

from __future__ import annotations

import json
import struct
import zlib
from io import BytesIO
from typing import Any

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile, TemporaryUploadedFile
from django.core.files.uploadhandler import load_handler
from django.http.multipartparser import MultiPartParser
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from PIL import Image
from rest_framework.test import APIClient

from chat.uploads import CHAT_IMAGE_MAX_BYTES, MemoryOnlyUploadHandler
from filters.models import User

pytestmark = pytest.mark.django_db


def picture(size: tuple[int, int] = (64, 48), image_format: str = "PNG") -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=image_format)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas (a decompression bomb's opening)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def upload(client: APIClient, content: bytes, name: str = "example.png", **fields: Any) -> Any:
    data = {
        "image": InMemoryUploadedFile(
            BytesIO(content), "image", name, "image/png", len(content), None
        ),
        **fields,
    }
    return client.post("/chat/image", data, format="multipart")


def test_an_image_without_a_vision_model_gets_an_honest_clarify_with_its_facts(
    api_client: APIClient,
) -> None:
    response = upload(api_client, picture((640, 480), "JPEG"), name="x.jpg")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "clarify"
    assert "can't look inside images" in body["text"]
    assert "640\u00d7480 JPEG" in body["text"]
    assert body["filter_data"] is None
    assert User.objects.filter(user_id="default_user").exists()


def test_naming_the_topic_after_the_image_gives_an_image_filter(api_client: APIClient) -> None:
    upload(api_client, picture(), user_id="alice")
    named = api_client.post("/chat", {"user_id": "alice", "message": "spiders"}, format="json")
    ready = api_client.post(
        "/chat", {"user_id": "alice", "message": "Remove completely"}, format="json"
    )

    assert named.json()["type"] == "clarify"
    assert ready.json()["filter_data"] == {
        "filter_text": "spiders",
        "content_type": "image",
        "intensity": 5,
        "duration": "permanent",
    }


def test_a_message_with_the_image_can_go_straight_to_ready(api_client: APIClient) -> None:
    history = json.dumps([{"role": "assistant", "content": "Hi!"}])
    response = upload(
        api_client, picture(), message="block clowns", history=history, user_id="alice"
    )

    body = response.json()
    assert body["type"] == "ready_for_config"
    assert body["filter_data"]["filter_text"] == "clowns"
    assert body["filter_data"]["content_type"] == "image"


def test_unreadable_history_text_is_ignored(api_client: APIClient) -> None:
    response = upload(api_client, picture(), history="{not json", user_id="alice")

    assert response.status_code == 200


def assert_contract_400(response: Any, fragment: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == "error"
    assert fragment in body["message"]
    assert body["detail"] == body["message"]


def test_a_file_that_is_not_an_image_is_a_400(api_client: APIClient) -> None:
    assert_contract_400(upload(api_client, b"%PDF-1.4 hello", name="doc.png"), "not an")


def test_a_truncated_image_is_a_400(api_client: APIClient) -> None:
    assert_contract_400(upload(api_client, picture((300, 300))[:200]), "not an")


def test_a_file_over_5_mb_is_a_400(api_client: APIClient) -> None:
    too_big = picture() + b"\x00" * CHAT_IMAGE_MAX_BYTES

    assert_contract_400(upload(api_client, too_big, user_id="alice"), "larger than 5 MB")


def test_a_decompression_bomb_is_refused_before_decoding(api_client: APIClient) -> None:
    bomb = png_claiming(50_000, 50_000)
    assert len(bomb) < 2048

    assert_contract_400(upload(api_client, bomb), "not an acceptable image")


def test_an_image_over_the_pixel_cap_is_refused(api_client: APIClient, settings: Any) -> None:
    settings.DIYMOD_IMAGE_MAX_PIXELS = 1_000_000

    assert_contract_400(upload(api_client, png_claiming(2000, 1000)), "pixel cap")


def test_a_missing_image_is_a_400(api_client: APIClient) -> None:
    response = api_client.post("/chat/image", {"message": "hi"}, format="multipart")

    assert_contract_400(response, "image")


def test_the_image_endpoint_is_rate_limited_too(api_client: APIClient, settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "chat": "2/min",
        },
    }
    statuses = [upload(api_client, picture(), user_id="alice").status_code for _ in range(3)]
    other = upload(api_client, picture(), user_id="bob")

    assert statuses == [200, 200, 429]
    assert other.status_code == 200


def multipart_parse(handlers: list[Any], content: bytes) -> Any:
    body = encode_multipart(
        BOUNDARY,
        {
            "image": InMemoryUploadedFile(
                BytesIO(content), "image", "a.png", "image/png", len(content), None
            )
        },
    )
    meta = {"CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": str(len(body))}
    _, files = MultiPartParser(meta, BytesIO(body), handlers).parse()
    return files


def test_the_upload_handler_keeps_images_in_memory_where_django_would_use_disk(
    settings: Any, tmp_path: Any
) -> None:
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # Django's own handlers now spill to disk
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    content = picture((200, 200))
    default_handlers = [load_handler(path) for path in settings.FILE_UPLOAD_HANDLERS]

    ours = multipart_parse([MemoryOnlyUploadHandler()], content)["image"]
    django_default = multipart_parse(default_handlers, content)["image"]

    assert isinstance(ours, InMemoryUploadedFile)
    assert ours.read() == content
    assert isinstance(django_default, TemporaryUploadedFile)  # the control: disk by default
    django_default.close()


def test_the_upload_handler_drops_an_oversized_file_and_says_so() -> None:
    handler = MemoryOnlyUploadHandler(max_bytes=1000)

    files = multipart_parse([handler], b"x" * 5000)

    assert "image" not in files
    assert handler.oversized_fields == {"image"}


def test_another_users_image_conversation_does_not_leak(api_client: APIClient) -> None:
    upload(api_client, picture(), user_id="alice")
    for message in ("spiders", "Remove completely"):
        bob = api_client.post("/chat", {"user_id": "bob", "message": message}, format="json")
        alice = api_client.post("/chat", {"user_id": "alice", "message": message}, format="json")

    assert bob.json()["filter_data"]["content_type"] == "all"
    assert alice.json()["filter_data"]["content_type"] == "image"


@pytest.mark.parametrize("path", ["/chat/image", "/chat"])
def test_a_form_with_1100_fields_is_a_400_not_a_500(api_client: APIClient, path: str) -> None:
    """Issue 12.4: Django's TooManyFieldsSent was raised by the rate limit's body read."""
    fields = {f"field{number}": "x" for number in range(1100)}
    body = encode_multipart(BOUNDARY, {**fields, "message": "spiders"})

    response = api_client.generic("POST", path, body, content_type=MULTIPART_CONTENT)

    assert_contract_400(response, "Request body refused")
