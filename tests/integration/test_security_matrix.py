"""The security matrix over every endpoint and the socket, against live daphne processes
(the embedded default: SQLite, eager image jobs, in-memory layer):

- SSRF: image URLs at loopback, link-local, private, IPv6 loopback, `file:`, `gopher:` and
  redirects into those: the job fails and nothing is fetched from a private address.
- XSS: hostile post text and filter text through /get_feed, /filters, /chat and the socket never
  come back as live markup (CONTRACT section 4: marked text is escaped once more).
- Marker injection: a feed that spells markers (any spelling the page decodes, anywhere in the
  body) never comes back with one the server did not write, for users with or without
  filters, over HTTP and the socket (issue 12.1).
- Never a 5xx, never a dead socket: deep nesting, form floods, lone surrogates (issue 12.4).
- IDOR: user B never reads, changes, deletes, receives pushes for, or waits on images of user
  A's things, in client-id mode and, with B's own token, in token mode.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pytest
import websockets

from tests.feed.samples import reddit_feed, shreddit_post
from tests.integration.conftest import (
    ORIGIN,
    REDDIT_URL,
    embedded_server_start,
    feed_post,
    filter_add,
)
from tests.integration.test_scale_out import deferred_sources
from tests.support.image_server import ImageServer
from tests.support.live_server import LiveServer

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(120)]

X_URL = "https://x.com/i/api/graphql/abc123/HomeTimeline?variables=%7B%7D"
MARKERS = ("__BLUR_START__", "__OVERLAY_START__", "__REWRITE_START__")


@pytest.fixture(scope="module")
def internal() -> Iterator[ImageServer]:
    """Stands for an internal service: nothing may ever reach it."""
    with ImageServer() as running:
        yield running


@pytest.fixture(scope="module")
def public() -> Iterator[ImageServer]:
    """Stands for a media host: listed, and (loopback being all a test has) allowed private."""
    with ImageServer() as running:
        yield running


@pytest.fixture(scope="module")
def server(public: ImageServer) -> Iterator[LiveServer]:
    live = embedded_server_start(
        {
            "DIYMOD_ANALYZER": "embedded",
            "OPENAI_API_KEY": "",
            "DIYMOD_IMAGE_ALLOWED_HOSTS": public.host_port,
            "DIYMOD_IMAGE_ALLOW_PRIVATE": "1",
            "DIYMOD_IMAGE_FETCH_TIMEOUT_SECONDS": "2",
        }
    )
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def strict_server(internal: ImageServer) -> Iterator[LiveServer]:
    """Private addresses listed by name but private fetches NOT allowed (the production
    default): the address check alone must refuse them."""
    port = internal.host_port.rsplit(":", 1)[1]
    live = embedded_server_start(
        {
            "DIYMOD_ANALYZER": "embedded",
            "OPENAI_API_KEY": "",
            "DIYMOD_IMAGE_ALLOWED_HOSTS": ",".join(
                [
                    internal.host_port,
                    f"localhost:{port}",
                    f"[::1]:{port}",
                    "169.254.169.254",
                    "10.0.0.1",
                    "0x7f000001",
                    f"2130706433:{port}",
                ]
            ),  # fmt: skip
            "DIYMOD_IMAGE_FETCH_TIMEOUT_SECONDS": "2",
        }
    )
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def token_server() -> Iterator[LiveServer]:
    live = embedded_server_start(
        {"DIYMOD_ANALYZER": "embedded", "OPENAI_API_KEY": "", "DIYMOD_AUTH": "token"}
    )
    try:
        yield live
    finally:
        live.stop()


def spider_post(post_id: str, image: str, title: str = "A spider in my kitchen") -> str:
    return (
        f'<shreddit-post id="{post_id}" post-title="x" author="someone" post-type="image" '
        f'permalink="/r/t/comments/{post_id}/"><a slot="title" href="/r/t/{post_id}">{title}</a>'
        f'<div slot="post-media-container"><img class="i18n-post-media-img" src="{image}" '
        f'alt="a spider"></div></shreddit-post>'
    )


def image_result(server: LiveServer, image_url: str, filters: str = '["spiders"]') -> dict:
    answer = httpx.get(
        f"{server.base_url}/get_img_result",
        params={"img_url": image_url, "filters": filters},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def settled(server: LiveServer, image_url: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while (result := image_result(server, image_url))["status"] == "PENDING":
        assert time.monotonic() < deadline, f"{image_url} still pending"
        time.sleep(0.2)
    return result


# --- SSRF ----------------------------------------------------------------------------------------


def ssrf_targets(internal: ImageServer) -> list[str]:
    port = internal.host_port.rsplit(":", 1)[1]
    return [
        internal.url("/image.jpg?ssrf=loopback"),
        f"http://localhost:{port}/image.jpg?ssrf=name",
        f"http://[::1]:{port}/image.jpg?ssrf=v6",
        f"http://2130706433:{port}/image.jpg?ssrf=decimal",
        "http://0x7f000001/image.jpg?ssrf=hex",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://10.0.0.1/image.jpg",
        f"file:///etc/passwd?{port}",
        f"gopher://127.0.0.1:{port}/_GET%20/image.jpg",
        f"ftp://127.0.0.1:{port}/image.jpg",
    ]


@pytest.mark.parametrize("config", ["allow-listed public host", "private listed, not allowed"])
def test_image_urls_at_internal_addresses_fail_and_nothing_is_fetched(
    server: LiveServer, strict_server: LiveServer, internal: ImageServer, config: str
) -> None:
    live = server if config == "allow-listed public host" else strict_server
    user = f"ssrf-{uuid.uuid4().hex[:8]}"
    filter_add(live.base_url, user, "spiders")
    targets = ssrf_targets(internal)
    body = reddit_feed(*(spider_post(f"t3_s{n}", url) for n, url in enumerate(targets)))

    answer = feed_post(live.base_url, user, body)

    assert answer.status_code == 200, answer.text
    for url in deferred_sources(answer.json()["feed"]["response"]):
        assert settled(live, url)["status"] == "FAILED", url
    assert internal.paths_requested() == []


def test_redirects_into_internal_addresses_fail_and_nothing_is_fetched(
    server: LiveServer, public: ImageServer, internal: ImageServer
) -> None:
    user = f"redirect-{uuid.uuid4().hex[:8]}"
    filter_add(server.base_url, user, "spiders")
    internal_port = internal.host_port.rsplit(":", 1)[1]
    destinations = [
        internal.url("/image.jpg?ssrf=redirected"),
        f"http://[::1]:{internal_port}/image.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/image.jpg",
        "file:///etc/passwd",
        f"gopher://127.0.0.1:{internal_port}/_x",
    ]
    redirects = [
        public.url("/redirect?" + httpx.QueryParams({"to": target, "status": status}).__str__())
        for target in destinations
        for status in (302, 307)
    ]
    body = reddit_feed(*(spider_post(f"t3_r{n}", url) for n, url in enumerate(redirects)))

    answer = feed_post(server.base_url, user, body)

    sources = deferred_sources(answer.json()["feed"]["response"])
    assert len(sources) == len(redirects), (
        set(redirects) - set(sources),
        answer.json()["feed"]["response"],
    )
    for url in sources:
        assert settled(server, url)["status"] == "FAILED", url
    assert internal.paths_requested() == []
    # The control: the same route to an allowed destination works.
    control = public.url("/redirect?" + str(httpx.QueryParams({"to": public.url("/image.jpg")})))
    feed_post(server.base_url, user, reddit_feed(spider_post("t3_ok", control)))
    assert settled(server, control)["status"] == "COMPLETED"


def test_a_socket_waiting_on_an_internal_url_is_told_it_failed(
    server: LiveServer, internal: ImageServer
) -> None:
    user = f"ssrf-ws-{uuid.uuid4().hex[:8]}"
    filter_add(server.base_url, user, "spiders")
    target = internal.url("/image.jpg?ssrf=socket")
    feed_post(server.base_url, user, reddit_feed(spider_post("t3_w", target)))
    settled(server, target)

    async def wait() -> dict:
        async with websockets.connect(f"{server.ws_url}/ws/{user}", origin=ORIGIN) as socket:
            frame = {
                "type": "wait_for_image",
                "data": {"image_url": target, "filters": ["spiders"]},
            }
            await socket.send(json.dumps(frame))
            return json.loads(await asyncio.wait_for(socket.recv(), 10))

    answer = asyncio.run(wait())

    assert answer["type"] == "error" and answer["image_url"] == target
    assert internal.paths_requested() == []


# --- XSS -----------------------------------------------------------------------------------------

HOSTILE_TEXTS = [
    "<script>alert(1)</script> spider",
    '<img src=x onerror="alert(1)"> spider',
    "spider <svg/onload=alert(1)>",
    '"><iframe src=javascript:alert(1)> spider',
    "spider __REWRITE_END__<b onmouseover=alert(1)>x</b>__REWRITE_START__",
]


class TextNodes(HTMLParser):
    """Every text node of an HTML document, entity-decoded as the DOM holds it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def marked_texts_of_html(document: str) -> list[str]:
    parser = TextNodes()
    parser.feed(document)
    return [text for text in parser.texts if any(marker in text for marker in MARKERS)]


def assert_no_live_markup(marked: str) -> None:
    """The client inserts a marked text node with `innerHTML`: it must hold no tag."""
    assert "<" not in marked and ">" not in marked, marked
    warning = re.search(r"__OVERLAY_START__([^|]*)\|", marked)
    if warning:
        assert not set(warning.group(1)) & set('"<>\n'), warning.group(1)


def hostile_reddit_post(post_id: str, text: str) -> str:
    # Reddit escapes the visible text in its HTML; the DOM text is the hostile string itself.
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = escaped.replace('"', "&quot;")
    return (
        f'<shreddit-post id="{post_id}" post-title="x" author="a" post-type="text" '
        f'permalink="/r/t/comments/{post_id}/"><a slot="title" href="/r/t/{post_id}">{escaped}</a>'
        f'<a slot="text-body" href="/r/t/{post_id}"><div class="md"><p>{escaped}</p></div></a>'
        "</shreddit-post>"
    )


def hostile_x_timeline(texts: list[str]) -> str:
    entries = [
        {
            "entryId": f"tweet-{n}",
            "sortIndex": str(n),
            "content": {
                "entryType": "TimelineTimelineItem",
                "itemContent": {
                    "itemType": "TimelineTweet",
                    "tweet_results": {
                        "result": {
                            "__typename": "Tweet",
                            "rest_id": str(n),
                            # X sends &, <, > encoded in full_text; the page decodes them.
                            "legacy": {
                                "full_text": text.replace("&", "&amp;")
                                .replace("<", "&lt;")
                                .replace(">", "&gt;")
                            },
                        }
                    },
                },
            },
        }
        for n, text in enumerate(texts)
    ]
    instructions = [{"type": "TimelineAddEntries", "entries": entries}]
    return json.dumps({"data": {"home": {"home_timeline_urt": {"instructions": instructions}}}})


def x_marked_texts(document: str) -> list[str]:
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "full_text" and isinstance(inner, str):
                    # What the page renders: &amp; &lt; &gt; decoded once, then innerHTML.
                    shown = inner.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
                    if any(marker in shown for marker in MARKERS):
                        found.append(shown)
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(json.loads(document))
    return found


@pytest.mark.parametrize("intensity", [1, 3, 5])
def test_hostile_post_and_filter_text_never_come_back_as_markup_over_http(
    server: LiveServer, intensity: int
) -> None:
    user = f"xss-{uuid.uuid4().hex[:8]}"
    filter_add(server.base_url, user, "spiders", intensity=intensity)
    filter_add(server.base_url, user, '<script>alert("f")</script> spider', intensity=intensity)
    reddit = reddit_feed(
        *(hostile_reddit_post(f"t3_x{n}", t) for n, t in enumerate(HOSTILE_TEXTS))
    )

    html = feed_post(server.base_url, user, reddit).json()["feed"]["response"]
    timeline = httpx.post(
        f"{server.base_url}/get_feed",
        json={
            "user_id": user,
            "url": X_URL,
            "data": {"feed_info": {"response": hostile_x_timeline(HOSTILE_TEXTS)}},
        },
        timeout=30,
    ).json()["feed"]["response"]

    marked = marked_texts_of_html(html)
    assert len(marked) >= len(HOSTILE_TEXTS), html[:3000]
    for text in marked:
        assert_no_live_markup(text)
    x_marked = x_marked_texts(timeline)
    assert len(x_marked) == len(HOSTILE_TEXTS), timeline[:3000]
    for text in x_marked:
        assert_no_live_markup(text)
    parser = TextNodes()
    parser.feed(html)
    assert not {"script", "svg", "iframe", "img", "b"} & set(parser.tags)


def test_hostile_text_through_the_socket_never_comes_back_as_markup(server: LiveServer) -> None:
    user = f"xss-ws-{uuid.uuid4().hex[:8]}"
    filter_add(server.base_url, user, "spiders", intensity=3)
    reddit = reddit_feed(
        *(hostile_reddit_post(f"t3_x{n}", t) for n, t in enumerate(HOSTILE_TEXTS))
    )

    async def exchange() -> list[dict]:
        async with websockets.connect(f"{server.ws_url}/ws/{user}", origin=ORIGIN) as socket:
            await socket.send(
                json.dumps(
                    {"type": "process_feed", "requestId": "r1",
                     "data": {"url": REDDIT_URL, "platform": "reddit", "response": reddit}}
                )
            )  # fmt: skip
            await socket.send('{"type": "<script>alert(1)</script>"}')
            await socket.send("<img src=x onerror=alert(1)>")
            return [json.loads(await asyncio.wait_for(socket.recv(), 20)) for _ in range(3)]

    frames = asyncio.run(exchange())

    by_type = {frame["type"]: frame for frame in frames}
    html = by_type["processing_response"]["data"]["feed"]["response"]  # CONTRACT section 6
    marked = marked_texts_of_html(html)
    assert len(marked) >= len(HOSTILE_TEXTS)
    for text in marked:
        assert_no_live_markup(text)
    # Echoes and errors are JSON data the client never renders as HTML; they stay strings.
    assert isinstance(by_type["echo"]["message"], str) and isinstance(
        by_type["error"]["error"], str
    )


def test_hostile_filter_and_chat_text_come_back_only_as_json_data(server: LiveServer) -> None:
    user = f"xss-api-{uuid.uuid4().hex[:8]}"
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    filter_add(server.base_url, user, hostile)

    listed = httpx.get(f"{server.base_url}/filters", params={"user_id": user}, timeout=10)
    chat = httpx.post(
        f"{server.base_url}/chat",
        json={"user_id": user, "message": f"hide {hostile} please", "history": []},
        timeout=30,
    )
    shown = httpx.post(
        f"{server.base_url}/chat",
        json={"user_id": user, "message": "Yes, show my filters", "history": []},
        timeout=30,
    )

    for answer in (listed, chat, shown):
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/json")
    assert listed.json()["filters"][0]["filter_text"] == hostile  # stored as data, verbatim
    # The chat's text is shown by the extension's popup; it must not carry live markup.
    for answer in (chat, shown):
        assert "<script" not in answer.json()["text"] and "<img" not in answer.json()["text"]


# --- IDOR ----------------------------------------------------------------------------------------


def filters_of(server: LiveServer, user: str, headers: dict | None = None) -> list[dict]:
    answer = httpx.get(
        f"{server.base_url}/filters", params={"user_id": user}, headers=headers, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["filters"]


def test_another_user_can_never_read_change_or_delete_a_users_filters(server: LiveServer) -> None:
    alice, bob = (f"{name}-{uuid.uuid4().hex[:8]}" for name in ("alice", "bob"))
    secret = filter_add(server.base_url, alice, "alice secret topic", intensity=2)
    filter_add(server.base_url, bob, "bob topic")
    before = filters_of(server, alice)

    changed = httpx.put(
        f"{server.base_url}/filters/{secret}",
        json={"user_id": bob, "filter_text": "hijacked", "intensity": 5},
        timeout=10,
    )
    deleted = httpx.delete(
        f"{server.base_url}/filters/{secret}", params={"user_id": bob}, timeout=10
    )
    missing = httpx.delete(f"{server.base_url}/filters/999999999", params={"user_id": bob})

    assert changed.status_code == deleted.status_code == 404
    # Indistinguishable from a filter that does not exist.
    assert deleted.json()["message"] == missing.json()["message"].replace("999999999", str(secret))
    assert all("alice" not in item["filter_text"] for item in filters_of(server, bob))
    assert filters_of(server, alice) == before


def test_another_users_chat_never_sees_or_removes_a_users_filters(server: LiveServer) -> None:
    alice, bob = (f"{name}-{uuid.uuid4().hex[:8]}" for name in ("alice", "bob"))
    filter_add(server.base_url, alice, "zebras of alice")

    def chat(user: str, message: str) -> dict:
        answer = httpx.post(
            f"{server.base_url}/chat",
            json={"user_id": user, "message": message, "history": []},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    shown = chat(bob, "Yes, show my filters")
    chat(bob, "remove all my filters")
    chat(bob, "yes")

    assert "zebras" not in json.dumps(shown)
    assert [item["filter_text"] for item in filters_of(server, alice)] == ["zebras of alice"]


def test_a_users_image_pushes_never_reach_another_users_socket(
    server: LiveServer, public: ImageServer
) -> None:
    alice, bob = (f"{name}-{uuid.uuid4().hex[:8]}" for name in ("alice", "bob"))
    filter_add(server.base_url, alice, "spiders")
    image = public.url(f"/image.jpg?w=64&h=48&seed={uuid.uuid4().int % 1000}&delay=0.5")

    async def listen() -> tuple[list[dict], list[dict]]:
        async with (
            websockets.connect(f"{server.ws_url}/ws/{alice}", origin=ORIGIN) as on_alice,
            websockets.connect(f"{server.ws_url}/ws/{bob}", origin=ORIGIN) as on_bob,
        ):
            await asyncio.to_thread(
                feed_post, server.base_url, alice, reddit_feed(spider_post("t3_p", image))
            )
            alice_frames = [json.loads(await asyncio.wait_for(on_alice.recv(), 20))]
            await asyncio.sleep(1.0)
            bob_frames = []
            while True:
                try:
                    bob_frames.append(json.loads(await asyncio.wait_for(on_bob.recv(), 0.2)))
                except TimeoutError:
                    return alice_frames, bob_frames

    alice_frames, bob_frames = asyncio.run(listen())

    assert alice_frames[0]["type"] == "image_processed" and alice_frames[0]["image_url"] == image
    assert bob_frames == []


def test_a_socket_cannot_wait_on_an_image_nobody_it_knows_queued(server: LiveServer) -> None:
    bob = f"bob-{uuid.uuid4().hex[:8]}"
    never = "https://i.redd.it/never-queued-by-anyone.jpg"

    async def wait() -> dict:
        async with websockets.connect(f"{server.ws_url}/ws/{bob}", origin=ORIGIN) as socket:
            frame = {"type": "wait_for_image", "data": {"image_url": never, "filters": ["x"]}}
            await socket.send(json.dumps(frame))
            return json.loads(await asyncio.wait_for(socket.recv(), 10))

    assert asyncio.run(wait())["type"] == "error"


def register(server: LiveServer) -> tuple[str, dict[str, str]]:
    answer = httpx.post(f"{server.base_url}/auth/register", timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return body["user_id"], {"Authorization": f"Bearer {body['token']}"}


def test_in_token_mode_bs_token_reaches_none_of_as_things(token_server: LiveServer) -> None:
    base = token_server.base_url
    alice, alice_auth = register(token_server)
    bob, bob_auth = register(token_server)
    created = httpx.post(
        f"{base}/filters", json={"filter_text": "alice only"}, headers=alice_auth, timeout=10
    )
    assert created.status_code == 200, created.text
    secret = created.json()["filter_id"]

    attempts = {
        "list as alice": httpx.get(f"{base}/filters", params={"user_id": alice}, headers=bob_auth),
        "list without token": httpx.get(f"{base}/filters", params={"user_id": alice}),
        "change": httpx.put(
            f"{base}/filters/{secret}", json={"filter_text": "x"}, headers=bob_auth
        ),
        "change naming alice": httpx.put(
            f"{base}/filters/{secret}",
            json={"user_id": alice, "filter_text": "x"},
            headers=bob_auth,
        ),
        "delete": httpx.delete(f"{base}/filters/{secret}", headers=bob_auth),
        "delete without token": httpx.delete(
            f"{base}/filters/{secret}", params={"user_id": alice}
        ),
        "feed as alice": httpx.post(
            f"{base}/get_feed",
            json={
                "user_id": alice,
                "url": REDDIT_URL,
                "data": {"feed_info": {"response": "<p>x</p>"}},
            },
            headers=bob_auth,
        ),
        "chat as alice": httpx.post(
            f"{base}/chat", json={"user_id": alice, "message": "show my filters"}, headers=bob_auth
        ),
        "image without token": httpx.get(f"{base}/get_img_result", params={"img_url": "x"}),
    }

    statuses = {name: answer.status_code for name, answer in attempts.items()}
    assert all(status in (401, 403, 404) for status in statuses.values()), statuses
    mine = httpx.get(f"{base}/filters", headers=bob_auth).json()["filters"]
    assert mine == []
    theirs = httpx.get(f"{base}/filters", headers=alice_auth).json()["filters"]
    assert [item["filter_text"] for item in theirs] == ["alice only"]

    async def handshake(path: str) -> bool:
        try:
            async with websockets.connect(f"{token_server.ws_url}{path}", origin=ORIGIN):
                return True
        except websockets.InvalidStatus:
            return False

    bob_token = bob_auth["Authorization"].split()[1]
    alice_token = alice_auth["Authorization"].split()[1]
    assert asyncio.run(handshake(f"/ws/{alice}?token={bob_token}")) is False
    assert asyncio.run(handshake(f"/ws/{alice}")) is False
    assert asyncio.run(handshake(f"/ws/{alice}?token=not-a-token")) is False
    assert asyncio.run(handshake(f"/ws/{alice}?token={alice_token}")) is True  # the control


# --- files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/media/images/../../db.sqlite3",
        "/media/images/%2e%2e/%2e%2e/db.sqlite3",
        "/media/images/..%2f..%2fdb.sqlite3",
        "/media/images//etc/passwd",
        "/media/images/%2fetc%2fpasswd",
        "/media/images/....//....//etc/passwd",
    ],
)
def test_result_files_never_leave_the_results_folder(server: LiveServer, path: str) -> None:
    answer = httpx.get(f"{server.base_url}{path}", timeout=10)

    assert answer.status_code in (400, 404), answer.text[:200]
    assert b"SQLite format" not in answer.content and b"root:" not in answer.content


# --- issue 12: host poisoning, shared jobs, limits, forwarded headers ------------------------


async def socket_with_host(
    server: LiveServer, path: str, host: str
) -> websockets.ClientConnection:
    """A socket whose handshake names `host` while it really connects to the live server."""
    port = int(server.base_url.rsplit(":", 1)[1])
    return await websockets.connect(
        f"ws://{host}{path}", origin=ORIGIN, host="127.0.0.1", port=port, open_timeout=10
    )


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example"])
def test_a_socket_with_a_host_outside_allowed_hosts_is_refused(
    server: LiveServer, host: str
) -> None:
    async def attempt() -> bool:
        try:
            socket = await socket_with_host(server, f"/ws/mallory-{uuid.uuid4().hex[:6]}", host)
        except websockets.InvalidStatus:
            return False
        await socket.close()
        return True

    assert asyncio.run(attempt()) is False


def test_a_victims_push_never_carries_an_attackers_host(
    server: LiveServer, public: ImageServer
) -> None:
    """The attacker asks first (over HTTP, through another allowed name of the server) for the
    very image the victim will see; the victim's socket still gets its own host's URL."""
    port = server.base_url.rsplit(":", 1)[1]
    attacker, victim = (f"{name}-{uuid.uuid4().hex[:8]}" for name in ("mallory", "victim"))
    for user in (attacker, victim):
        filter_add(server.base_url, user, "spiders")
    image = public.url(f"/image.jpg?w=64&h=48&seed={uuid.uuid4().int % 1000}&delay=1.0")
    body = reddit_feed(spider_post("t3_h", image))

    async def scenario() -> list[dict]:
        async with websockets.connect(f"{server.ws_url}/ws/{victim}", origin=ORIGIN) as socket:
            httpx.post(
                f"http://127.0.0.1:{port}/get_feed",
                json={
                    "user_id": attacker,
                    "url": REDDIT_URL,
                    "data": {"feed_info": {"response": body}},
                },
                headers={"Host": f"localhost:{port}"},
                timeout=30,
            ).raise_for_status()
            await asyncio.to_thread(feed_post, server.base_url, victim, body)
            frames = [json.loads(await asyncio.wait_for(socket.recv(), 20))]
            while True:
                try:
                    frames.append(json.loads(await asyncio.wait_for(socket.recv(), 0.5)))
                except TimeoutError:
                    return frames

    frames = asyncio.run(scenario())

    pushes = [frame for frame in frames if frame["type"] == "image_processed"]
    assert len(pushes) == 1, frames
    assert pushes[0]["processed_value"].startswith(f"{server.base_url}/media/")
    assert "localhost" not in json.dumps(frames) and "evil" not in json.dumps(frames)


def test_polling_another_users_image_by_their_url_and_filters_is_not_found(
    server: LiveServer, public: ImageServer
) -> None:
    alice, bob = (f"{name}-{uuid.uuid4().hex[:8]}" for name in ("alice", "bob"))
    filter_add(server.base_url, alice, "spiders")
    image = public.url(f"/image.jpg?w=32&h=24&seed={uuid.uuid4().int % 1000}")
    feed_post(server.base_url, alice, reddit_feed(spider_post("t3_s", image)))

    def poll(user: str) -> dict:
        answer = httpx.get(
            f"{server.base_url}/get_img_result",
            params={"img_url": image, "filters": '["spiders"]', "user_id": user},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert poll(bob) == {"status": "NOT FOUND"}
    assert poll(alice)["status"] in ("PENDING", "COMPLETED")


@pytest.mark.parametrize(
    "params",
    [
        {"img_url": ""},
        {"img_url": "   "},
        {"img_url": "", "filters": '["spiders"]'},
        {"img_url": "https://i.redd.it/never.jpg", "filters": "[]"},
    ],
)
def test_empty_or_unknown_image_keys_are_not_found_so_clients_back_off(
    server: LiveServer, params: dict[str, str]
) -> None:
    answer = httpx.get(f"{server.base_url}/get_img_result", params=params, timeout=10)

    assert answer.status_code == 200 and answer.json() == {"status": "NOT FOUND"}


def test_a_lone_surrogate_in_the_polled_filters_is_a_4xx(server: LiveServer) -> None:
    answer = httpx.get(
        f"{server.base_url}/get_img_result",
        params={"img_url": "https://i.redd.it/x.jpg", "filters": '["\\ud800"]'},
        timeout=10,
    )

    assert answer.status_code == 400 and answer.json()["status"] == "error"


def test_one_post_with_thousands_of_images_queues_only_the_per_post_cap(
    server: LiveServer, public: ImageServer
) -> None:
    user = f"gallery-{uuid.uuid4().hex[:8]}"
    filter_add(server.base_url, user, "spiders")
    seed = uuid.uuid4().hex[:8]
    images = "".join(
        f'<img class="i18n-post-media-img" src="{public.url(f"/image.jpg?w=8&h=8&s={seed}{n}")}" '
        f'alt="a spider">'
        for n in range(3000)
    )
    post = (
        '<shreddit-post id="t3_many" post-title="x" author="someone" post-type="gallery" '
        'permalink="/r/t/comments/t3_many/"><a slot="title" href="/r/t/many">A spider gallery</a>'
        f'<div slot="post-media-container">{images}</div></shreddit-post>'
    )

    answer = feed_post(server.base_url, user, reddit_feed(post), timeout=60)

    assert answer.status_code == 200
    html = answer.json()["feed"]["response"]
    assert 0 < html.count("diy-mod-image=") <= 20


def test_a_users_sockets_past_the_limit_are_refused_and_other_users_are_not(
    server: LiveServer,
) -> None:
    user, other = (f"{name}-{uuid.uuid4().hex[:8]}" for name in ("many", "other"))

    async def scenario() -> tuple[int, bool]:
        opened: list[websockets.ClientConnection] = []
        refused_at = -1
        try:
            for n in range(40):
                try:
                    opened.append(
                        await websockets.connect(f"{server.ws_url}/ws/{user}", origin=ORIGIN)
                    )
                except websockets.InvalidStatus:
                    refused_at = n
                    break
            async with websockets.connect(f"{server.ws_url}/ws/{other}", origin=ORIGIN):
                other_opened = True
        finally:
            for socket in opened:
                await socket.close()
        return refused_at, other_opened

    refused_at, other_opened = asyncio.run(scenario())

    assert refused_at == 32  # DIYMOD_MAX_SOCKETS_PER_USER's default
    assert other_opened


def test_register_limits_ignore_forged_forwarded_headers(server: LiveServer) -> None:
    statuses = [
        httpx.post(
            f"{server.base_url}/auth/register",
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
            timeout=10,
        ).status_code
        for n in range(25)
    ]

    assert 429 in statuses and statuses.count(200) <= 20


def test_chat_limits_count_the_resolved_user_whatever_the_spacing(server: LiveServer) -> None:
    user = f"spaced-{uuid.uuid4().hex[:8]}"
    statuses = [
        httpx.post(
            f"{server.base_url}/chat",
            json={"user_id": spaced, "message": "show my filters"},
            timeout=20,
        ).status_code
        for spaced in [user, f" {user}", f"{user} ", f"\t{user}"] * 9  # 36 > 30/min
    ]

    assert 429 in statuses


# --- marker injection (issue 12.1) and hostile shapes (issue 12.4) -------------------------------


def injection_feeds() -> list[tuple[str, str, str]]:
    """(platform, url, body): every place and spelling of tests/feed/test_marker_injection.py,
    a few feeds each holding many of them."""
    from tests.feed.test_marker_injection import (
        HTML_SPELLINGS,
        JSON_SPELLINGS,
        reddit_places,
        x_places,
    )

    feeds = [
        ("reddit", REDDIT_URL, "".join(reddit_places(marker).values()))
        for marker in HTML_SPELLINGS
    ]
    for marker in JSON_SPELLINGS:
        for body in x_places("@@MARKER@@").values():
            feeds.append(("x", X_URL, body.replace("@@MARKER@@", marker)))
    return feeds


def test_no_response_carries_a_marker_the_server_did_not_write(server: LiveServer) -> None:
    from tests.support.markers import injectable_texts, visible_start_markers

    marked_user = f"mk-{uuid.uuid4().hex[:8]}"
    filter_add(server.base_url, marked_user, "spiders", intensity=5)
    plain_user = f"mk-none-{uuid.uuid4().hex[:8]}"
    feeds = injection_feeds()

    async def over_socket(user: str) -> list[str]:
        async with websockets.connect(
            f"{server.ws_url}/ws/{user}", origin=ORIGIN, max_size=2**24
        ) as socket:
            answers = []
            for number, (_platform, url, body) in enumerate(feeds):
                data = {"url": url, "response": body}
                await socket.send(
                    json.dumps({"type": "process_feed", "requestId": str(number), "data": data})
                )
                frame = json.loads(await asyncio.wait_for(socket.recv(), 30))
                assert frame["type"] == "processing_response", frame
                answers.append(frame["data"]["feed"]["response"])
            return answers

    for user in (plain_user, marked_user):
        over_http = [
            httpx.post(
                f"{server.base_url}/get_feed",
                json={"user_id": user, "url": url, "data": {"feed_info": {"response": body}}},
                timeout=30,
            ).json()
            for _platform, url, body in feeds
        ]
        socket_bodies = asyncio.run(over_socket(user))
        for (platform, _url, body), answer, socket_body in zip(
            feeds, over_http, socket_bodies, strict=True
        ):
            assert visible_start_markers(platform, body) >= 1
            for returned in (answer["feed"]["response"], socket_body):
                assert injectable_texts(platform, returned) == []
                if user == plain_user:
                    assert visible_start_markers(platform, returned) == 0


def test_hostile_shapes_get_a_clear_4xx_and_the_socket_stays_open(server: LiveServer) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    for data in (nested, json.dumps(nested)):
        raw = '{"user_id": "deep", "url": "' + REDDIT_URL + '", "data": ' + data + "}"
        deep = httpx.post(
            f"{server.base_url}/get_feed",
            content=raw,
            headers={"content-type": "application/json"},
            timeout=30,
        )
        assert deep.status_code == 400, deep.text[:300]
    fields = {f"field{number}": "x" for number in range(1100)}
    flood = httpx.post(f"{server.base_url}/chat/image", data=fields, timeout=30)
    assert flood.status_code == 400 and flood.json()["status"] == "error"

    async def deep_frames() -> list[str]:
        async with websockets.connect(f"{server.ws_url}/ws/deep", origin=ORIGIN) as socket:
            types = []
            for frame in (
                '{"type": "process_feed", "requestId": "d", "data": ' + nested + "}",
                json.dumps({"type": "process_feed", "requestId": "d", "data": nested}),
                '{"type": "ping"}',
            ):
                await socket.send(frame)
                types.append(json.loads(await asyncio.wait_for(socket.recv(), 20))["type"])
            return types

    assert asyncio.run(deep_frames()) == ["error", "error", "pong"]


def test_one_lone_surrogate_tweet_costs_only_that_post(server: LiveServer) -> None:
    user = f"sur-{uuid.uuid4().hex[:8]}"
    filter_add(server.base_url, user, "spiders", intensity=5)
    timeline = hostile_x_timeline(["a spider \ud800 here", "a spider in my bath"])
    assert "\\ud800" in timeline

    answer = httpx.post(
        f"{server.base_url}/get_feed",
        json={"user_id": user, "url": X_URL, "data": {"feed_info": {"response": timeline}}},
        timeout=30,
    )

    assert answer.status_code == 200
    assert answer.json()["degraded"] is False, answer.json()["degraded_reason"]
    assert len(x_marked_texts(answer.json()["feed"]["response"])) == 2


def test_a_feed_of_several_mebibytes_comes_back_whole_and_moderated(server: LiveServer) -> None:
    """daphne hands the body over in 1 MiB pieces (diymod/web.py): a 3 MB feed spans several,
    and none of it is lost or reordered, for a user with filters or without."""
    filler = "Notes from the garden 🌱 " * 700
    posts = [shreddit_post(f"t3_big{n}", f"Post {n}", f"{filler} number {n}") for n in range(180)]
    posts[170] = shreddit_post("t3_spider", "A huge spider in the shed", "It was enormous.")
    body = reddit_feed(*posts)
    assert len(body.encode()) > 3 * 1024 * 1024

    untouched = feed_post(server.base_url, f"bare-{uuid.uuid4().hex[:8]}", body, timeout=120)
    assert untouched.status_code == 200
    assert untouched.json()["feed"]["response"] == body

    user = f"big-{uuid.uuid4().hex[:8]}"
    filter_add(server.base_url, user, "spiders", intensity=1)
    answer = feed_post(server.base_url, user, body, timeout=120).json()
    assert [post["id"] for post in answer["posts"]] == ["t3_spider"], answer["degraded_reason"]
    document = answer["feed"]["response"]
    assert "__BLUR_START__" in document
    assert document.endswith(body[-2000:])  # the last post and what follows, as sent
    assert document.count(filler) == body.count(filler)
