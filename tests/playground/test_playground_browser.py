"""The playground in a real headless Chromium (Debian's, /usr/bin/chromium) against a real daphne.

Two server setups, each started once per module on a free port, with that port's origin allowed
for the WebSocket and its playground pictures fetchable (PORT):
- embedded: the default (SQLite in a temporary folder, in-memory channel layer, image jobs on the
  server's background threads);
- scaled out (integration): a fresh PostgreSQL database next to DATABASE_URL, Redis for the
  channel layer and broker, and a real Celery worker running the image jobs.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.support.captures import real_capture
from tests.support.live_server import (
    BIN,
    Process,
    celery_worker_start,
    free_port,
    migrate,
    process_start,
    server_env,
    wait_until_serving,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "playground.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SPIDER_POST = "t3_pg1001"
SPOILER_POST = "t3_pg1002"
HOSTILE_POST = "t3_pg1004"
TARANTULA_TWEET = "1870000000000000001"
WAIT_MS = 30_000
# A Redis database of its own: stale broker messages or groups of other tests' servers (whose
# user primary keys also start at 1) must not meet this one's.
SCALED_OUT_REDIS_DB = 12

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


class Server:
    def __init__(self, setup: str, port: int, processes: list[Process]) -> None:
        self.setup = setup
        self.port = port
        self.processes = processes
        self.base_url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def playground_env(port: int, folder: str, database_url: str, extra: dict[str, str]) -> dict:
    env = server_env(
        {
            "PORT": str(port),
            "DIYMOD_CORS_ORIGINS": f"http://127.0.0.1:{port}",
            "DIYMOD_MEDIA_ROOT": f"{folder}/media",
            "DIYMOD_LOG_LEVEL": "warning",
            **extra,
        },
        database_url=database_url,
    )
    # Whatever the calling shell says: no OpenAI, no fixed public URL, the default image policy.
    for name in ("CELERY_BROKER_URL", "OPENAI_API_KEY", "DIYMOD_PUBLIC_URL"):
        env.pop(name, None)
    for name in [key for key in env if key.startswith("DIYMOD_IMAGE_")]:
        env.pop(name)
    if "REDIS_URL" not in extra:
        env.pop("REDIS_URL", None)
    return env


def daphne_start(env: dict[str, str], port: int) -> Process:
    migrate(env)
    args = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "diymod.asgi:application"]
    process = process_start(args, env, "playground-daphne")
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/ping", process)
    except Exception:
        process.stop()
        raise
    return process


@pytest.fixture(scope="module")
def embedded_server() -> Iterator[Server]:
    port = free_port()
    folder = tempfile.mkdtemp(prefix="diymod-playground-")
    env = playground_env(port, folder, f"sqlite:///{folder}/db.sqlite3", {})
    server = Server("embedded", port, [daphne_start(env, port)])
    yield server
    server.stop()


@contextmanager
def fresh_postgres_database(database_url: str) -> Iterator[str]:
    """A new, empty database on the server of `database_url`, dropped afterwards."""
    import psycopg

    name = f"diymod_playground_{uuid.uuid4().hex[:10]}"
    base = database_url.split("?")[0].rpartition("/")[0]
    maintenance = f"{base}/postgres"  # the named database itself may not exist yet
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(maintenance, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_database_url(redis_url: str, number: int) -> str:
    import redis

    base = redis_url.split("?")[0].rstrip("/")
    if re.search(r"/\d+$", base):
        base = base.rsplit("/", 1)[0]
    url = f"{base}/{number}"
    redis.Redis.from_url(url, socket_connect_timeout=1).flushdb()
    return url


@pytest.fixture(scope="module")
def scaled_out_server() -> Iterator[Server]:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url:
        pytest.skip("needs DATABASE_URL (PostgreSQL) and REDIS_URL, as .ci/run sets them")
    with fresh_postgres_database(database_url) as fresh_url:
        port = free_port()
        folder = tempfile.mkdtemp(prefix="diymod-playground-")
        redis_db_url = redis_database_url(redis_url, SCALED_OUT_REDIS_DB)
        env = playground_env(port, folder, fresh_url, {"REDIS_URL": redis_db_url})
        web = daphne_start(env, port)
        server = Server("scaled-out", port, [web])
        try:
            # The worker fetches the pictures from the web process: same PORT, same media folder.
            server.processes.append(celery_worker_start(env, concurrency=1, name="playground"))
            yield server
        finally:
            server.stop()


@pytest.fixture
def server(request) -> Server:
    return request.getfixturevalue(getattr(request, "param", "embedded_server"))


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, server: Server) -> Iterator:
    """A fresh browser profile (so a fresh user id) on the playground, socket connected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(CSP_VIOLATIONS_RECORD)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.base_url + "/")
    page.wait_for_selector("#socket-status[data-state='open']", timeout=WAIT_MS)
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


# What the page's Content-Security-Policy refused, as "directive blocked-URL" strings.
CSP_VIOLATIONS_RECORD = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.effectiveDirective + " " + event.blockedURI);
});
"""


def csp_violations(page) -> list[str]:
    return page.evaluate("window.cspViolations")


def filter_add_through_the_form(page, text: str, intensity: str) -> None:
    page.get_by_label("What you don't want to see").fill(text)
    page.get_by_label("Intensity").select_option(intensity)
    page.get_by_role("button", name="Add filter").click()
    page.locator("#filter-list li", has_text=text).wait_for(timeout=WAIT_MS)


def feed_moderate(page, sample_title_start: str) -> None:
    page.get_by_label(re.compile("^" + re.escape(sample_title_start))).check()
    page.get_by_role("button", name="Moderate this feed").click()
    page.locator("#moderated-feed .post").first.wait_for(timeout=WAIT_MS)


def post(page, column: str, post_id: str):
    return page.locator(f"#{column}-feed .post[data-post-id='{post_id}']")


@pytest.mark.parametrize(
    "server",
    ["embedded_server", pytest.param("scaled_out_server", marks=pytest.mark.integration)],
    indirect=True,
)
def test_a_filter_made_in_the_page_marks_the_moderated_column_and_swaps_the_image(
    page, server: Server
) -> None:
    filter_add_through_the_form(page, "spiders", "2")
    filter_add_through_the_form(page, "Severance spoilers", "3")
    feed_moderate(page, "Reddit home feed")

    # Blur spans and warning cards: in the moderated column, never in the original.
    assert page.locator("#original-feed .diymod-blur, #original-feed .diymod-card").count() == 0
    blur = post(page, "moderated", SPIDER_POST).locator(".diymod-blur")
    assert blur.count() >= 1
    # The analyzer blurs every on-topic passage (the title names no spider: "this little guy").
    assert any("spider" in text.lower() for text in blur.all_inner_texts())
    card = post(page, "moderated", SPOILER_POST).locator(".diymod-card").first
    assert card.is_visible()
    assert "Helly" not in card.inner_text()  # the spoiler stays under the card
    assert "Severance" not in card.locator(".diymod-card-warning").inner_text()
    assert post(page, "original", SPOILER_POST).inner_text().count("Helly") == 1

    # The hostile post reads as written in both columns and injects nothing.
    for column in ("original", "moderated"):
        assert "Tom & Jerry <3 <script>" in post(page, column, HOSTILE_POST).inner_text()
    assert post(page, "moderated", HOSTILE_POST).locator(".diymod-blur").count() >= 1
    assert page.locator("#original-feed script, #moderated-feed script").count() == 0

    # Per-post badges and the summary line come from the response's `posts` and `stats`.
    assert "Matched “spiders”" in post(page, "moderated", SPIDER_POST).inner_text()
    assert "No filter matched" in post(page, "moderated", "t3_pg1005").inner_text()
    assert re.search(r"5 posts · [1-9] matched", page.locator("#feed-summary").inner_text())

    # The spider picture: spinner first, then the pushed result, loaded.
    figure = post(page, "moderated", SPIDER_POST).locator("figure")
    original_src = figure.locator("img").get_attribute("data-original-src")
    page.wait_for_function(
        "f => ['done', 'failed'].includes(f.dataset.state)",
        arg=figure.element_handle(),
        timeout=WAIT_MS,
    )
    swapped = figure.locator("img")
    result_url = swapped.evaluate("img => img.src")
    assert figure.get_attribute("data-state") == "done", f"{result_url} did not load"
    assert result_url != original_src
    assert result_url.startswith(server.base_url + "/")
    assert swapped.evaluate("img => img.complete && img.naturalWidth > 0")
    assert figure.get_attribute("data-swapped-by") == "socket"
    assert post(page, "original", SPIDER_POST).locator("img").get_attribute("src") == original_src

    # The page showed what the server says: the result of that image's job, not the original.
    polled = httpx.get(
        server.base_url + "/get_img_result",
        params={"img_url": original_src, "filters": '["spiders"]'},
    ).json()
    assert (polled["status"], polled["processed_value"]) == ("COMPLETED", result_url)
    original_bytes = httpx.get(original_src).content
    result_bytes = httpx.get(result_url).content
    assert result_bytes != original_bytes
    assert Image.open(BytesIO(result_bytes)).size[0] > 0

    # The page's policy let through everything it needed: script, style, calls, socket, images.
    # Only the sample's own `style` attributes are refused, in the inert DOMParser document.
    refused = [v for v in csp_violations(page) if v != "style-src-attr inline"]
    assert refused == []

    if server.setup == "embedded":  # the README shows what `make run` gives
        screenshot_save(page)


def screenshot_save(page) -> None:
    """docs/playground.png for the README, in 256 colours to keep the repository small.

    Written when missing or with DIYMOD_UPDATE_SCREENSHOT=1, so that a test run does not
    leave a changed tracked file behind every time (the user id in it is random)."""
    page.set_viewport_size({"width": 1280, "height": 1700})
    shot = Image.open(BytesIO(page.screenshot(full_page=False))).convert("RGB")
    if SCREENSHOT.exists() and os.environ.get("DIYMOD_UPDATE_SCREENSHOT") != "1":
        return
    SCREENSHOT.parent.mkdir(exist_ok=True)
    shot.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(SCREENSHOT, optimize=True)


def test_the_page_works_with_the_keyboard_alone(page) -> None:
    def tab_to(predicate: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(
                f"(() => {{ const el = document.activeElement; return {predicate}; }})()"
            ):
                return
        raise AssertionError(f"Tab never reached an element where {predicate}")

    tab_to("el.id === 'filter-text'")
    page.keyboard.type("Severance spoilers")  # intensity 3, a warning card, is the default
    tab_to("el.tagName === 'BUTTON' && el.textContent === 'Add filter'")
    page.keyboard.press("Enter")
    page.locator("#filter-list li", has_text="Severance spoilers").wait_for(timeout=WAIT_MS)

    tab_to("el.id === 'moderate-button'")
    page.keyboard.press("Enter")
    page.locator("#moderated-feed .diymod-card").first.wait_for(timeout=WAIT_MS)

    tab_to("el.classList.contains('diymod-reveal')", limit=200)
    revealed_id = page.evaluate("document.activeElement.getAttribute('aria-controls')")
    hidden_text = page.locator(f"#{revealed_id}")
    assert not hidden_text.is_visible()
    page.keyboard.press("Enter")
    assert hidden_text.is_visible()
    assert page.evaluate("document.activeElement.getAttribute('aria-expanded')") == "true"


def test_blurred_words_are_readable_on_keyboard_focus(page, server: Server) -> None:
    httpx.post(
        server.base_url + "/filters",
        json={"user_id": page.input_value("#user-id"), "filter_text": "spiders", "intensity": 1},
    ).raise_for_status()
    feed_moderate(page, "X home timeline")
    blur = page.locator("#moderated-feed .diymod-blur").first
    assert blur.evaluate("el => getComputedStyle(el).filter").startswith("blur")
    blur.focus()
    page.wait_for_function(
        "el => getComputedStyle(el).filter === 'none'", arg=blur.element_handle(), timeout=5000
    )
    tweet = page.locator("#moderated-feed .post", has_text="Tom & Jerry <3 <script>")
    assert tweet.locator(".diymod-blur").count() >= 1

    # On X the deferred photo is announced in the media entry's `diy_mod_config`.
    figure = post(page, "moderated", TARANTULA_TWEET).locator("figure")
    page.wait_for_function(
        "f => ['done', 'failed'].includes(f.dataset.state)",
        arg=figure.element_handle(),
        timeout=WAIT_MS,
    )
    assert figure.get_attribute("data-state") == "done"
    assert "/tarantula.jpg" not in figure.locator("img").evaluate("img => img.src")


def test_every_control_and_button_has_an_accessible_name(page) -> None:
    filter_add_through_the_form(page, "Severance spoilers", "3")
    feed_moderate(page, "Reddit home feed")
    unnamed = page.evaluate(
        """() => Array.from(document.querySelectorAll('input, select, textarea, button'))
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !(el.tagName === 'BUTTON' && el.textContent.trim()))
            .map(el => el.outerHTML)"""
    )
    assert unnamed == []


def test_a_pasted_payload_is_moderated_and_a_foreign_url_is_refused(page, server: Server) -> None:
    sample = httpx.get(server.base_url + "/playground/samples/reddit-pics").json()
    page.get_by_label("Paste a payload of your own").check()
    page.get_by_label("Request URL").fill("https://example.org/feed")
    page.get_by_label("Response body").fill(sample["body"])
    page.get_by_role("button", name="Moderate this feed").click()
    assert "reddit.com or x.com" in page.locator("#feed-message").inner_text()
    assert page.locator("#moderated-feed .post").count() == 0

    page.get_by_label("Request URL").fill(sample["url"])
    page.get_by_role("button", name="Moderate this feed").click()
    page.locator("#moderated-feed .post").first.wait_for(timeout=WAIT_MS)
    assert page.locator("#moderated-feed .post").count() == 3
    gallery = page.locator("#original-feed .post[data-post-id='t3_pg2001'] img")
    assert gallery.count() == 2  # the later slide's URL sits in data-lazy-src
    assert "No filter matched" in page.locator("#moderated-feed").inner_text()


REAL_FEEDS = [
    (
        "reddit/shreddit_subreddit-feed_r-MachineLearning_rendered-dom_50posts_5ads.html",
        "https://www.reddit.com/svc/shreddit/community-more-posts/hot/?name=MachineLearning",
    ),
    (
        "reddit/shreddit_post-detail_r-artificial_text-post_16comments_rendered-dom.html",
        "https://www.reddit.com/svc/shreddit/comments/r/artificial/t3_x",
    ),
    (
        "twitter/HomeTimeline_for-you_33tweets_7promoted_mass-block-twitter-1.json",
        "https://x.com/i/api/graphql/abc/HomeTimeline?variables=%7B%7D",
    ),
]


@pytest.mark.parametrize(("relative", "url"), REAL_FEEDS, ids=lambda value: value[:24])
def test_a_pasted_real_capture_shows_every_post_the_server_counted(
    page, server: Server, relative: str, url: str
) -> None:
    folder, name = relative.split("/", 1)
    body = real_capture(folder, name)
    # Nothing needs the internet: the capture's own images and scripts stay unloaded.
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(server.base_url) else route.abort()
        ),
    )
    for text, intensity in (("machine learning", 4), ("Elon Musk", 3), ("politics", 1)):
        httpx.post(
            server.base_url + "/filters",
            json={
                "user_id": page.input_value("#user-id"),
                "filter_text": text,
                "intensity": intensity,
            },
        ).raise_for_status()
    page.get_by_label("Paste a payload of your own").check()
    page.get_by_label("Request URL").fill(url)
    page.eval_on_selector("#paste-body", "(el, text) => { el.value = text; }", body)
    with page.expect_response("**/get_feed") as answer:
        page.get_by_role("button", name="Moderate this feed").click()
    stats = answer.value.json()["stats"]
    page.wait_for_function("!document.getElementById('moderate-button').disabled")
    assert stats["posts"] > 10
    assert page.locator("#original-feed .post").count() == stats["posts"]
    assert page.locator("#moderated-feed .post").count() == stats["posts"]
    matched = page.locator("#moderated-feed .post-report .chip.match")
    assert (matched.count() > 0) == (stats["matched"] > 0)
    assert page.locator("#original-feed script, #moderated-feed script").count() == 0
    # The policy may refuse the capture's own pictures from other hosts and its own `style`
    # style attributes and elements (in the inert DOMParser document), and nothing else.
    for violation in csp_violations(page):
        directive, blocked = violation.split(" ", 1)
        if not directive.startswith("style-src-"):
            assert directive == "img-src" and not blocked.startswith(server.base_url), violation
