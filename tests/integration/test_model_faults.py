"""The model server misbehaving (429, 500, slow, garbage, dropped connections) seen from outside:
a real daphne process whose OpenAI client talks to the local compatible server over loopback.
Every feed still comes back within the feed deadline (plus a margin), marked, with `degraded`.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.feed.samples import reddit_feed
from tests.integration.conftest import (
    ORIGIN,
    REDDIT_URL,
    embedded_server_start,
    feed_post,
    filter_add,
    shreddit_post,
)
from tests.support.live_server import LiveServer
from tests.support.openai_server import OpenAIServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEADLINE_SECONDS = 3.0
# Daphne, the embedded fallback analyzer and loopback HTTP on a busy 2-core machine.
MARGIN_SECONDS = 4.0


@pytest.fixture(scope="module")
def model() -> Iterator[OpenAIServer]:
    server = OpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server(model: OpenAIServer) -> Iterator[LiveServer]:
    live = embedded_server_start(
        {
            "OPENAI_API_KEY": "test-key",
            "OPENAI_BASE_URL": model.base_url,
            "DIYMOD_ANALYZER": "auto",
            "DIYMOD_FEED_DEADLINE_SECONDS": str(DEADLINE_SECONDS),
            "DIYMOD_OPENAI_TIMEOUT_SECONDS": "10",  # the feed deadline must win over it
            "DIYMOD_OPENAI_MAX_RETRIES": "2",
            "DIYMOD_RATE_FEED_MODEL": "10000/min",
        }
    )
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def faulty(model: OpenAIServer) -> Iterator[OpenAIServer]:
    model.reset()
    try:
        yield model
    finally:
        model.reset()


def spider_feed(tag: str) -> str:
    """Texts unique to `tag`: decisions are cached by content across users (and the healthy
    model's "no match" must not answer for a later faulty run)."""
    posts = [
        shreddit_post(
            f"t3_{tag}{n}",
            f"I saw a spider today ({tag})" if n % 3 == 0 else f"Lunch {n} ({tag})",
        )
        for n in range(9)
    ]
    return reddit_feed(*posts)


def feed_timed(server: LiveServer, user: str, body: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = feed_post(server.base_url, user, body, timeout=DEADLINE_SECONDS + 30)
    return answer, time.monotonic() - started


@pytest.mark.timeout(90)
@pytest.mark.parametrize("fault", [429, 500, 503, "invalid_json", "refusal", "drop", "slow"])
def test_a_misbehaving_model_still_gets_a_marked_feed_back_within_the_deadline(
    server: LiveServer, faulty: OpenAIServer, fault: int | str
) -> None:
    user = f"faults-{uuid.uuid4().hex[:8]}"
    filter_add(server.base_url, user, "spiders", intensity=3)
    if fault == "slow":
        faulty.delay = DEADLINE_SECONDS + 5
    else:
        faulty.fail_with(fault)
    body = spider_feed(uuid.uuid4().hex[:6])

    answer, elapsed = feed_timed(server, user, body)

    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["degraded"] is True and result["degraded_reason"]
    assert "__OVERLAY_START__" in result["feed"]["response"]  # the local analyzer still marks
    assert "faceplate-partial" in result["feed"]["response"]
    assert elapsed <= DEADLINE_SECONDS + MARGIN_SECONDS
    assert faulty.calls, "the model was never asked: the test proves nothing"


@pytest.mark.timeout(60)
def test_a_healthy_model_answers_without_degrading(
    server: LiveServer, faulty: OpenAIServer
) -> None:
    """The control: the same set-up with a working model is not degraded."""
    user = f"healthy-{uuid.uuid4().hex[:8]}"
    filter_add(server.base_url, user, "spiders", intensity=3)

    answer, _ = feed_timed(server, user, spider_feed(uuid.uuid4().hex[:6]))

    assert answer.status_code == 200, answer.text
    assert answer.json()["degraded"] is False
    assert faulty.calls


@pytest.mark.timeout(60)
def test_a_failing_model_still_answers_a_feed_sent_over_the_socket(
    server: LiveServer, faulty: OpenAIServer
) -> None:
    """Client A sends feeds over the socket and waits 90 s before falling back: the answer must
    come, degraded and marked, within the deadline."""
    user = f"faults-ws-{uuid.uuid4().hex[:8]}"
    filter_add(server.base_url, user, "spiders", intensity=3)
    faulty.fail_with(500)
    request = {
        "type": "process_feed",
        "requestId": "feed-1",
        "data": {
            "url": REDDIT_URL,
            "platform": "reddit",
            "response": spider_feed(uuid.uuid4().hex[:6]),
        },
    }

    async def exchange() -> tuple[dict, float]:
        async with websockets.connect(f"{server.ws_url}/ws/{user}", origin=ORIGIN) as socket:
            started = time.monotonic()
            await socket.send(json.dumps(request))
            frame = json.loads(await asyncio.wait_for(socket.recv(), DEADLINE_SECONDS + 30))
            return frame, time.monotonic() - started

    frame, elapsed = asyncio.run(exchange())

    assert frame["type"] == "processing_response" and frame["requestId"] == "feed-1"
    assert frame["degraded"] is True, {
        k: v for k, v in frame.items() if k != "feed" and k != "data"
    }
    assert "__OVERLAY_START__" in frame["data"]["feed"]["response"]
    assert elapsed <= DEADLINE_SECONDS + MARGIN_SECONDS
    assert faulty.calls
