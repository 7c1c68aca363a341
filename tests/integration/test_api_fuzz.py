"""schemathesis against a live daphne's own `/api/schema`: whatever the generated request, no
endpoint answers 5xx (a 5xx makes the extension drop moderation, CONTRACT "Golden rule"). And
hypothesis against its socket: any frame gets an answer and the socket stays open.

Bounded: 30 examples per operation with a fixed seed (derandomised), so a run is repeatable.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from websockets.sync.client import connect

from tests.integration.conftest import embedded_server_start, postgres_available, psql
from tests.support.live_server import LiveServer, live_server_start
from tests.support.markers import injectable_texts, marker_spelled, visible_start_markers

pytestmark = [pytest.mark.integration, pytest.mark.slow]


FUZZED_ENV = {
    "DIYMOD_ANALYZER": "embedded",
    "OPENAI_API_KEY": "",
    # The generator sends many requests per user id: rate limits would hide the answers.
    "DIYMOD_RATE_CHAT": "100000/min",
    "DIYMOD_RATE_REGISTER": "100000/min",
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzzed_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """The embedded default, and the same on PostgreSQL (stricter about text: a NUL in a
    string is a database error there, a 500 unless the API refuses it first)."""
    if request.param == "sqlite":
        live = embedded_server_start(FUZZED_ENV)
        try:
            yield live
        finally:
            live.stop()
        return
    if not postgres_available():
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    name = f"diymod_fuzz_{uuid.uuid4().hex[:10]}"
    assert psql(f"CREATE DATABASE {name}").returncode == 0
    try:
        folder = tempfile.mkdtemp(prefix="diymod-fuzz-")
        live = live_server_start(
            {**FUZZED_ENV, "REDIS_URL": "", "DIYMOD_MEDIA_ROOT": f"{folder}/media"},
            database_url=f"postgres://postgres@127.0.0.1:5432/{name}",
        )
        try:
            yield live
        finally:
            live.stop()
    finally:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def live_schema(fuzzed_server: LiveServer) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.base_url}/api/schema")
    schema.config.base_url = fuzzed_server.base_url
    return schema


def operation_fuzz(operation: schemathesis.APIOperation, mode: GenerationMode) -> int:
    """Up to 30 generated requests for one operation; raises on the first 5xx. Returns how
    many requests were sent."""
    sent = [0]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=30,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: one failure is enough to fix
    )
    def fuzz(case: schemathesis.Case) -> None:
        sent[0] += 1
        case.call_and_validate(checks=[not_a_server_error], timeout=30)

    fuzz()
    return sent[0]


# schemathesis' own pytest plugin (`from_fixture`) does not run under pytest 9 yet, so the
# operations are walked here, each with a plain hypothesis test of its own.
@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_server_error(
    live_schema: schemathesis.BaseSchema, mode: GenerationMode
) -> None:
    failures: list[str] = []
    sent = 0
    operations = [result.ok() for result in live_schema.get_all_operations()]
    assert len(operations) >= 8, [operation.label for operation in operations]
    for operation in operations:
        try:
            sent += operation_fuzz(operation, mode)
        except Unsatisfiable:  # nothing to negate (no parameters, no body): nothing to send
            continue
        except Exception as error:
            failures.append(f"{operation.label}: {str(error)[:1500]}")
    assert not failures, "\n\n".join(failures)
    assert sent >= 5 * len(operations) // 2, f"only {sent} requests: the fuzzing hardly ran"
    print(f"{mode.value}: {sent} requests over {len(operations)} operations")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=15,
)
MESSAGE_TYPES = ["connection", "ping", "process_feed", "wait_for_image", "echo", "", None, 7]
REDDIT_FEED_URL = "https://www.reddit.com/svc/shreddit/feeds/home-feed"
X_FEED_URL = "https://x.com/i/api/graphql/abc/HomeTimeline"
DEEP = "[" * 100_000 + "]" * 100_000
# Issue 12: frames that closed the socket (RecursionError), and feeds that spell markers.
HOSTILE_FRAMES = [
    '{"type": "process_feed", "requestId": "deep", "data": ' + DEEP + "}",
    json.dumps({"type": "process_feed", "requestId": "deep", "data": DEEP}),
    DEEP,
]


@st.composite
def marker_feed_frames(draw: st.DrawFn) -> str:
    platform = draw(st.sampled_from(["reddit", "x"]))
    spelled = marker_spelled(
        platform,
        draw(st.lists(st.integers(0, 7), min_size=1, max_size=20)),
        draw(st.integers(0, 2)),
        draw(st.booleans()),
    )
    if platform == "x":
        text = json.dumps("a spider @@<img src=x>")[1:-1].replace("@@", spelled)
        body = '{"data": {"home": {"home_timeline_urt": {"instructions": [{"type": '
        body += '"TimelineAddEntries", "entries": [{"entryId": "tweet-1", "content": '
        body += '{"itemContent": {"tweet_results": {"result": {"rest_id": "1", "legacy": '
        body += '{"full_text": "' + text + '"}}}}}}]}]}}}}'
        url = X_FEED_URL
    else:
        body = f'<shreddit-post id="t3_a"><a slot="title">{spelled}&lt;b&gt;</a></shreddit-post>'
        url = REDDIT_FEED_URL
    data = {"url": url, "response": body}
    return json.dumps({"type": "process_feed", "requestId": f"mk-{platform}", "data": data})


socket_frames = st.one_of(
    st.sampled_from(HOSTILE_FRAMES),
    marker_feed_frames(),
    st.text(max_size=80),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {"type": st.sampled_from(MESSAGE_TYPES)},
        optional={
            "data": json_values | st.text(max_size=40).map(json.dumps),
            "requestId": json_values,
        },
    ).map(json.dumps),
)


@pytest.mark.timeout(120)
def test_any_socket_frame_is_answered_and_the_socket_stays_open(fuzzed_server: LiveServer) -> None:
    url = f"{fuzzed_server.ws_url}/ws/fuzz-user"
    with connect(url, origin="https://www.reddit.com", open_timeout=10) as socket:

        @given(frame=socket_frames)
        @settings(
            max_examples=80,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        def fuzz(frame: str) -> None:
            socket.send(frame)
            answer = json.loads(socket.recv(timeout=20))
            assert isinstance(answer, dict) and isinstance(answer.get("type"), str), answer
            if answer["type"] == "processing_response":  # fuzz-user has no filters
                platform = "x" if str(answer.get("requestId")).endswith("-x") else "reddit"
                returned = answer["data"]["feed"]["response"]
                assert injectable_texts(platform, returned) == []
                assert visible_start_markers(platform, returned) == 0
            assert answer["type"] in {
                "connection_ack",
                "pong",
                "echo",
                "error",
                "processing_response",
            }

        fuzz()
        socket.send('{"type": "ping"}')
        assert json.loads(socket.recv(timeout=10))["type"] == "pong"


NUL = "a\x00b"


def test_a_nul_in_any_text_field_is_never_a_server_error(fuzzed_server: LiveServer) -> None:
    """PostgreSQL refuses NUL in text; every field that reaches the database must be checked
    before it does (random generation finds NULs only by luck)."""
    feed = {"feed_info": {"response": f"<shreddit-feed><p>{NUL}</p></shreddit-feed>"}}
    reddit = "https://www.reddit.com/svc/shreddit/feeds/home-feed"
    calls = {
        "filter text": ("post", "/filters", {"json": {"user_id": "nul", "filter_text": NUL}}),
        "filter user": ("post", "/filters", {"json": {"user_id": NUL, "filter_text": "x"}}),
        "filter duration": (
            "post", "/filters", {"json": {"user_id": "nul", "filter_text": "x", "duration": NUL}}
        ),
        "filters list": ("get", "/filters", {"params": {"user_id": NUL}}),
        "chat message": ("post", "/chat", {"json": {"user_id": "nul", "message": NUL}}),
        "chat user": ("post", "/chat", {"json": {"user_id": NUL, "message": "hi"}}),
        "feed body": (
            "post", "/get_feed", {"json": {"user_id": "nul", "url": reddit, "data": feed}}
        ),
        "feed url": (
            "post", "/get_feed", {"json": {"user_id": "nul", "url": reddit + NUL, "data": feed}}
        ),
        "image url": ("get", "/get_img_result", {"params": {"img_url": NUL}}),
        "image filters": (
            "get", "/get_img_result", {"params": {"img_url": "x", "filters": json.dumps([NUL])}}
        ),
    }  # fmt: skip
    statuses = {}
    with httpx.Client(base_url=fuzzed_server.base_url, timeout=30) as client:
        for name, (method, path, arguments) in calls.items():
            statuses[name] = client.request(method.upper(), path, **arguments).status_code
    assert all(status < 500 for status in statuses.values()), statuses


# --- issue 12 (items 3, 4) and 13.2: the image poll and the socket wait ----------------------

# Any code point, lone surrogates included: `json.dumps` sends them as `\ud800` escapes, which
# decode back to lone surrogates on the server (valid JSON, no valid text).
any_text = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()),
    max_size=12,
)
percent_bytes = st.binary(max_size=12).map(lambda raw: "".join(f"%{b:02X}" for b in raw))


@pytest.mark.timeout(180)
def test_any_image_poll_is_answered_without_a_server_error(fuzzed_server: LiveServer) -> None:
    with httpx.Client(base_url=fuzzed_server.base_url, timeout=30) as client:

        @given(
            img_url=percent_bytes | st.sampled_from(["", " ", "https://i.redd.it/a.jpg"]),
            filters=st.lists(any_text, max_size=3).map(json.dumps) | any_text,
            user_id=st.none() | percent_bytes,
        )
        @example(img_url="", filters="[]", user_id=None)  # issue 13.2: was a 400
        @example(img_url="https://i.redd.it/a.jpg", filters='["\\ud800"]', user_id=None)
        @example(img_url="%ED%A0%80", filters="[]", user_id="%ED%A0%80")
        @settings(
            max_examples=60,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        def fuzz(img_url: str, filters: str, user_id: str | None) -> None:
            encoded = httpx.QueryParams({"filters": filters.encode("utf-8", "surrogatepass")})
            query = f"img_url={img_url}&{encoded}"
            if user_id is not None:
                query += f"&user_id={user_id}"
            answer = client.get(f"/get_img_result?{query}")
            assert answer.status_code < 500, (query, answer.text[:300])
            if answer.status_code == 200:
                assert answer.json()["status"] in {"NOT FOUND", "PENDING", "COMPLETED", "FAILED"}
            if img_url.strip() in ("", "%20") and answer.status_code == 200:
                assert answer.json() == {"status": "NOT FOUND"}

        fuzz()


@pytest.mark.timeout(120)
def test_any_wait_for_image_is_answered_and_the_socket_stays_open(
    fuzzed_server: LiveServer,
) -> None:
    url = f"{fuzzed_server.ws_url}/ws/fuzz-waiter"
    with connect(url, origin="https://www.reddit.com", open_timeout=10) as socket:

        @given(image_url=any_text, filters=st.lists(any_text, max_size=3) | any_text)
        @settings(
            max_examples=60,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        def fuzz(image_url: str, filters: list[str] | str) -> None:
            frame = {
                "type": "wait_for_image",
                "data": {"image_url": image_url, "filters": filters},
            }
            socket.send(json.dumps(frame))  # ensure_ascii: surrogates travel as escapes
            answer = json.loads(socket.recv(timeout=20))
            assert answer["type"] == "error", answer  # nobody asked for any of these

        fuzz()
        socket.send('{"type": "ping"}')
        assert json.loads(socket.recv(timeout=10))["type"] == "pong"


def test_the_issue_12_inputs_are_never_a_server_error(fuzzed_server: LiveServer) -> None:
    """Deep nesting, a form flood, a lone-surrogate tweet: each was a 500 (issue 12.4)."""
    surrogate_tweet = (
        '{"data": {"home": {"home_timeline_urt": {"instructions": [{"type": '
        '"TimelineAddEntries", "entries": [{"entryId": "tweet-1", "content": {"itemContent": '
        '{"tweet_results": {"result": {"rest_id": "1", "legacy": {"full_text": '
        '"a spider \\ud800"}}}}}}]}]}}}}'
    )
    with httpx.Client(base_url=fuzzed_server.base_url, timeout=30) as client:
        statuses = {
            "deep data": client.post(
                "/get_feed",
                content='{"user_id": "d", "url": "' + REDDIT_FEED_URL + '", "data": ' + DEEP + "}",
                headers={"content-type": "application/json"},
            ).status_code,
            "deep data text": client.post(
                "/get_feed",
                json={"user_id": "d", "url": REDDIT_FEED_URL, "data": DEEP},
            ).status_code,
            "form flood": client.post(
                "/chat/image", data={f"f{n}": "x" for n in range(1100)}
            ).status_code,
            "lone surrogate": client.post(
                "/get_feed",
                json={
                    "user_id": "d",
                    "url": X_FEED_URL,
                    "data": {"feed_info": {"response": surrogate_tweet}},
                },
            ).status_code,
        }
    assert statuses == {
        "deep data": 400,
        "deep data text": 400,
        "form flood": 400,
        "lone surrogate": 200,
    }
