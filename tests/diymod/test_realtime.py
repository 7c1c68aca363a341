"""The sending half of the realtime pipe: what `send_to_user` puts on the channel layer."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from diymod.realtime import (
    EVENT_MESSAGE_TYPE,
    ImageProcessed,
    Notice,
    asend_to_user,
    event_frame,
    send_to_user,
    sending_loop,
    user_group_name,
    user_socket_join,
    wire_message,
)
from tests.support.realtime_fixtures import in_memory_layer_use

IMAGE = ImageProcessed(
    image_url="https://i.redd.it/abc.jpeg",
    processed_value="https://diymod.example/media/results/abc.jpg",
    filters=["spiders"],
)


@pytest.fixture(autouse=True)
def fresh_layer(settings: Any) -> None:
    in_memory_layer_use(settings)


async def group_member_add(user_pk: int) -> str:
    """A bare channel in the user's group, standing in for one socket."""
    channel = await get_channel_layer().new_channel()
    await user_socket_join(user_pk=user_pk, channel_name=channel)
    return channel


def test_group_name_comes_from_the_primary_key_and_is_a_valid_group_name() -> None:
    layer = get_channel_layer()
    assert user_group_name(42) == "diymod.user.42"
    assert user_group_name(42) != user_group_name(43)
    assert layer.require_valid_group_name(user_group_name(10**12))


def test_image_processed_frame_has_every_contract_field_at_top_level_and_under_data() -> None:
    frame = event_frame(IMAGE, timestamp="2026-01-01T00:00:00+00:00")
    expected = {
        "image_url": IMAGE.image_url,
        "processed_value": IMAGE.processed_value,
        "result": IMAGE.processed_value,
        "filters": ["spiders"],
        "timestamp": "2026-01-01T00:00:00+00:00",
    }
    assert frame == {"type": "image_processed", **expected, "data": expected}


def test_result_is_the_url_string_and_base64_url_is_omitted_when_absent() -> None:
    frame = event_frame(IMAGE)
    assert isinstance(frame["result"], str)
    assert "base64_url" not in frame and "base64_url" not in frame["data"]


def test_base64_url_is_sent_when_given() -> None:
    small = ImageProcessed(
        IMAGE.image_url, IMAGE.processed_value, ["a"], "data:image/png;base64,AA"
    )
    frame = event_frame(small)
    assert frame["base64_url"] == frame["data"]["base64_url"] == "data:image/png;base64,AA"


def test_a_timestamp_is_added_when_the_frame_is_built() -> None:
    frame = event_frame(Notice(message="hello"))
    assert frame["type"] == "notice"
    assert frame["message"] == frame["data"]["message"] == "hello"
    assert frame["timestamp"].startswith("20")


def test_wire_message_keeps_the_type_and_copies_the_payload_under_data() -> None:
    assert wire_message("pong", {"timestamp": "t"}) == {
        "type": "pong",
        "timestamp": "t",
        "data": {"timestamp": "t"},
    }


async def test_send_to_user_from_a_worker_thread_puts_the_frame_on_the_users_group() -> None:
    channel = await group_member_add(7)
    delivered = await sync_to_async(send_to_user, thread_sensitive=False)(7, IMAGE)
    assert delivered is True
    message = await asyncio.wait_for(get_channel_layer().receive(channel), 2)
    assert message["type"] == EVENT_MESSAGE_TYPE
    frame = message["frame"]
    assert frame["type"] == "image_processed"
    assert frame["image_url"] == IMAGE.image_url
    assert frame["data"]["result"] == IMAGE.processed_value


async def test_asend_to_user_reaches_every_member_of_the_group_and_no_other_group() -> None:
    first, second = await group_member_add(7), await group_member_add(7)
    stranger = await group_member_add(8)
    assert await asend_to_user(7, Notice(message="for seven"))
    layer = get_channel_layer()
    for channel in (first, second):
        message = await asyncio.wait_for(layer.receive(channel), 2)
        assert message["frame"]["message"] == "for seven"
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive(stranger), 0.2)


async def test_send_to_user_called_on_the_event_loop_thread_schedules_the_push() -> None:
    channel = await group_member_add(9)
    # Sync code called straight from async code cannot block the loop: the push is scheduled.
    assert send_to_user(9, Notice(message="scheduled")) is True
    message = await asyncio.wait_for(get_channel_layer().receive(channel), 2)
    assert message["frame"]["message"] == "scheduled"


def test_send_to_user_works_from_plain_sync_code_without_an_event_loop() -> None:
    channel = async_to_sync(group_member_add)(11)
    results: list[bool] = []
    # A plain thread, like a Celery worker's: no event loop anywhere in it.
    thread = threading.Thread(target=lambda: results.append(send_to_user(11, IMAGE)))
    thread.start()
    thread.join(5)
    assert results == [True]
    message = async_to_sync(get_channel_layer().receive)(channel)
    assert message["frame"]["image_url"] == IMAGE.image_url


def test_sync_pushes_outside_a_server_reuse_one_long_lived_loop() -> None:
    # One loop per process keeps Redis connections warm across a worker's pushes.
    first = sending_loop()
    assert first.is_running()
    assert sending_loop() is first


def test_a_failing_channel_layer_returns_false_and_logs_instead_of_raising(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Port 1 on loopback refuses connections: Redis "down".
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    with caplog.at_level(logging.WARNING, logger="diymod.realtime"):
        assert send_to_user(5, IMAGE) is False
    assert "image_processed push to diymod.user.5 failed" in caplog.text


async def test_a_failing_channel_layer_in_async_code_returns_false(settings: Any) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    assert await asend_to_user(5, Notice(message="lost")) is False
