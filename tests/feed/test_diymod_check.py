"""`manage.py diymod_check`: the operator's end-to-end check.

The check speaks only HTTP and WebSocket, so it is tested the way operators use it: as a real
command against real servers — a live daphne (embedded default), a port nobody listens on, a
plain HTTP server without WebSocket, an unhealthy one, a token-mode one, and (with Redis) a
scaled-out one whose Celery worker is missing.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from PIL import Image

from diymod.check.basic_steps import local_network_access_find
from diymod.check.cli import UsageError, options_from
from diymod.check.client import message_fields, socket_url_make
from diymod.check.feeds import (
    SPIDER_BODY,
    SPIDER_TITLE,
    image_attributes_find,
    image_config_parse,
    shreddit_feed_build,
    text_marked,
)
from diymod.check.image_server import CheckImageServer
from diymod.check.render import report_json, verdict_line
from diymod.check.report import CheckOptions, CheckReport, StepResult
from diymod.check.runner import check_run, check_run_async
from tests.conftest import redis_available
from tests.support.fake_diymod import RESULT_URL, FakeDiymod
from tests.support.image_server import image_bytes_make
from tests.support.live_server import LiveServer, free_port, live_server_start

REPO = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT_SECONDS = 120
BASIC_STEP_NAMES = [
    "ping",
    "healthz",
    "socket_open",
    "socket_connection",
    "socket_ping",
    "socket_process_feed",
]
FULL_STEP_NAMES = [
    *BASIC_STEP_NAMES,
    "image_serve",
    "filter_create",
    "get_feed",
    "image_processed",
    "get_img_result",
    "result_image",
    "gallery",
    "filter_delete",
]
# Redis database for the "no worker" server: its queued task must not reach other tests' workers.
NO_WORKER_REDIS_URL = "redis://127.0.0.1:6379/12"


def check_command(*args: str) -> subprocess.CompletedProcess[str]:
    """`manage.py diymod_check <args>` as an operator runs it, bounded in time."""
    return subprocess.run(
        [sys.executable, "manage.py", "diymod_check", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
    )


def json_report(completed: subprocess.CompletedProcess[str]) -> dict:
    return json.loads(completed.stdout)


def step_names(report: dict) -> list[str]:
    return [step["name"] for step in report["steps"]]


def failed_step(report: dict) -> dict:
    return next(step for step in report["steps"] if not step["ok"])


def embedded_env(allowed_image_port: int, media_root: Path, **extra: str) -> dict[str, str]:
    return {
        "REDIS_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "DIYMOD_AUTH": "client-id",
        "DIYMOD_ANALYZER": "embedded",
        "OPENAI_API_KEY": "",
        "DIYMOD_IMAGE_ALLOW_PRIVATE": "1",
        "DIYMOD_IMAGE_ALLOWED_HOSTS": f"127.0.0.1:{allowed_image_port}",
        "DIYMOD_MEDIA_ROOT": str(media_root),
        **extra,
    }


@pytest.fixture(scope="module")
def image_port() -> int:
    """The port the check serves its image on: the server allows exactly 127.0.0.1:<it>."""
    return free_port()


@pytest.fixture(scope="module")
def embedded_server(
    tmp_path_factory: pytest.TempPathFactory, image_port: int
) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("check-embedded")
    server = live_server_start(
        embedded_env(image_port, folder / "media"),
        database_url=f"sqlite:///{folder}/db.sqlite3",
    )
    with server:
        yield server


# --- pieces that need no server ------------------------------------------------------------------


def test_built_in_feed_shows_its_image_and_reads_back_a_marked_one() -> None:
    image_url = "http://127.0.0.1:9/diymod-check/a.jpg?x=1&y=2"
    feed = shreddit_feed_build(
        post_id="t3_check1", title=SPIDER_TITLE, body=SPIDER_BODY, image_url=image_url
    )
    assert image_config_parse(image_attributes_find(feed, image_url)) is None
    assert not text_marked(feed)
    config = {"type": "cartoonish", "status": "DEFERRED", "filters": ["spiders"]}
    attribute = json.dumps(config).replace('"', "&quot;")
    marked = feed.replace(
        'class="i18n-post-media-img"', f'class="i18n-post-media-img" diy-mod-image="{attribute}"'
    )
    assert image_config_parse(image_attributes_find(marked, image_url)) == config
    assert image_attributes_find(marked, "http://127.0.0.1:9/other.jpg") is None


def test_server_messages_are_read_from_the_top_level_and_from_data() -> None:
    assert message_fields({"type": "pong", "data": {"timestamp": "t"}})["timestamp"] == "t"
    assert message_fields({"type": "pong", "timestamp": "t"})["timestamp"] == "t"
    assert message_fields({"type": "x", "data": "not an object"})["type"] == "x"


def test_socket_url_keeps_the_path_prefix_and_quotes_user_and_token() -> None:
    url = socket_url_make("https://example.org/diymod/", "a/b c", "t&k")
    assert url == "wss://example.org/diymod/ws/a%2Fb%20c?token=t%26k"
    assert socket_url_make("http://h:8000", "u", None) == "ws://h:8000/ws/u"


@pytest.mark.parametrize(
    "changes",
    [
        {"url": "ftp://host"},
        {"url": "http://host:8000/?x=1"},
        {"token": "secret"},  # without --user
        {"image_url": "http://img.example/a.jpg"},  # without --full
        {"full": True, "image_url": "not a url"},
        {"serve_host": "0.0.0.0"},
        {"timeout": 0},
        {"serve_port": 70000},
    ],
)
def test_unusable_arguments_are_usage_errors(changes: dict) -> None:
    arguments = {
        "url": "http://127.0.0.1:8000",
        "user": None,
        "token": None,
        "full": False,
        "image_url": None,
        "serve_host": "127.0.0.1",
        "serve_port": 0,
        "timeout": 30.0,
        "step_timeout": 30.0,
        **changes,
    }
    with pytest.raises(UsageError):
        options_from(arguments)


def test_a_usage_error_exits_2_with_the_reason() -> None:
    completed = check_command("--url", "http://127.0.0.1:8000", "--token", "abc")
    assert completed.returncode == 2
    assert "--token needs --user" in completed.stderr


def test_a_fresh_user_is_made_up_when_none_is_given() -> None:
    base = {"url": "http://h", "token": None, "full": False, "image_url": None}
    base |= {"serve_host": "127.0.0.1", "serve_port": 0, "timeout": 1.0, "step_timeout": 1.0}
    first, second = options_from({**base, "user": None}), options_from({**base, "user": None})
    assert first.user_id.startswith("diymod-check-") and first.user_id != second.user_id
    assert options_from({**base, "user": "alice"}).user_id == "alice"


def test_check_image_server_serves_a_jpeg_only_at_its_path_and_counts_fetches() -> None:
    with CheckImageServer("127.0.0.1", 0) as server:
        response = httpx.get(server.image_url, timeout=5)
        missing = httpx.get(server.image_url.rsplit("/", 1)[0] + "/other.jpg", timeout=5)
        assert server.fetch_count == 1
    assert response.headers["content-type"] == "image/jpeg"
    assert Image.open(BytesIO(response.content)).size == (640, 480)
    assert missing.status_code == 404


def test_json_report_holds_every_step_and_the_verdict_names_the_failure() -> None:
    report = CheckReport(url="http://h", user_id="u", full=False, total_ms=12.0)
    report.steps += [
        StepResult("ping", True, 3.0, "pong"),
        StepResult("healthz", False, 4.0, "expected HTTP 200; got HTTP 503"),
    ]
    decoded = json.loads(report_json(report))
    assert decoded["ok"] is False and decoded["total_ms"] == 12.0
    assert decoded["steps"][1] == {
        "name": "healthz",
        "ok": False,
        "ms": 4.0,
        "detail": "expected HTTP 200; got HTTP 503",
    }
    assert verdict_line(report) == "FAILED at healthz: expected HTTP 200; got HTTP 503"


# --- the steps against a scripted server (no network) -------------------------------------------


def fake_options(**changes: object) -> CheckOptions:
    base = {"url": "http://fake.test", "user_id": "u1", "full": True, "image_timeout": 0.5}
    return CheckOptions(**{**base, "image_url": "http://img.fake/a.jpg", **changes})


async def fake_run(fake: FakeDiymod, **changes: object) -> CheckReport:
    options = fake_options(**changes)
    return await check_run_async(options, client=fake.client(options))


def names_and_verdicts(report: CheckReport) -> list[tuple[str, bool]]:
    return [(step.name, step.ok) for step in report.steps]


async def test_full_run_passes_against_a_well_behaved_server_and_deletes_its_filter() -> None:
    fake = FakeDiymod()
    report = await fake_run(fake)
    assert names_and_verdicts(report) == [(name, True) for name in FULL_STEP_NAMES]
    assert report.end_to_end_ms is not None
    assert fake.deleted_filters == ["7"]
    wait = next(message for message in fake.received if message["type"] == "wait_for_image")
    assert wait["data"] == {"image_url": "http://img.fake/a.jpg", "filters": ["spiders"]}


async def test_a_gallery_whose_lazy_slide_gets_no_src_fails_at_the_gallery_step() -> None:
    """Issue 13: slide 2 must be marked with a `src` equal to its key."""
    fake = FakeDiymod(gallery_src=False)

    report = await fake_run(fake)

    failure = report.first_failure
    assert failure is not None and failure.name == "gallery"
    assert "src" in failure.detail
    assert fake.deleted_filters == ["7"]


async def test_the_gallery_step_waits_for_slide_2_by_its_own_src() -> None:
    fake = FakeDiymod()

    report = await fake_run(fake)

    assert report.ok, report.as_dict()
    waits = [m["data"]["image_url"] for m in fake.received if m["type"] == "wait_for_image"]
    assert waits == ["http://img.fake/a.jpg", "http://img.fake/a.jpg#diymod-check-slide-2"]


async def test_image_processed_pushed_before_the_wait_still_counts() -> None:
    report = await fake_run(FakeDiymod(push_on_feed=True, wait_reply="nothing"))
    assert report.ok, report.as_dict()


async def test_a_server_ping_on_the_socket_is_answered_with_pong() -> None:
    fake = FakeDiymod(server_ping=True)
    report = await fake_run(fake, full=False)
    assert report.ok
    assert {"type": "pong", "data": {}} in fake.received


async def test_unmarked_image_fails_at_get_feed_and_still_deletes_the_filter() -> None:
    fake = FakeDiymod(image_marked=False)
    report = await fake_run(fake)
    assert names_and_verdicts(report)[-2:] == [("get_feed", False), ("filter_delete", True)]
    assert "did not match the post" in report.steps[-2].detail
    assert fake.deleted_filters == ["7"]


async def test_get_img_result_disagreeing_with_the_socket_fails_naming_both_urls() -> None:
    report = await fake_run(FakeDiymod(img_result_url="http://elsewhere/media/result.jpg"))
    failure = report.first_failure
    assert failure is not None and failure.name == "get_img_result"
    assert RESULT_URL in failure.detail and "http://elsewhere/media/result.jpg" in failure.detail


async def test_relative_result_url_fails_at_result_image() -> None:
    report = await fake_run(FakeDiymod(result_url="/media/images/result.jpg"))
    failure = report.first_failure
    assert failure is not None and failure.name == "result_image"
    assert "absolute http(s) result URL" in failure.detail


async def test_result_that_is_not_an_image_fails_at_result_image() -> None:
    report = await fake_run(FakeDiymod(result_body=b"<html>oops</html>"))
    failure = report.first_failure
    assert failure is not None and failure.name == "result_image"
    assert "Pillow cannot read" in failure.detail


async def test_data_url_result_is_decoded_and_checked() -> None:
    data_url = "data:image/jpeg;base64," + base64.b64encode(image_bytes_make(8, 6)).decode()
    report = await fake_run(FakeDiymod(result_url=data_url))
    assert report.ok, report.as_dict()
    result_image = next(step for step in report.steps if step.name == "result_image")
    assert result_image.detail.startswith("JPEG 8x6")


async def test_failed_image_job_names_the_allow_list() -> None:
    fake = FakeDiymod(wait_reply="error", img_result_status="FAILED")
    report = await fake_run(fake, image_url=None)
    failure = report.first_failure
    assert failure is not None and failure.name == "image_processed"
    assert failure.detail.startswith(
        "expected image_processed; got error: image processing failed"
    )
    assert "DIYMOD_IMAGE_ALLOWED_HOSTS including 127.0.0.1:" in failure.detail


async def test_silent_pending_job_times_out_asking_for_a_worker() -> None:
    fake = FakeDiymod(wait_reply="nothing", img_result_status="PENDING")
    report = await fake_run(fake)
    failure = report.first_failure
    assert failure is not None and failure.name == "image_processed"
    assert failure.detail == (
        "no image_processed within 0.5 s: is a Celery worker running? "
        "(/get_img_result says PENDING)"
    )


async def test_process_feed_error_fails_with_the_servers_words() -> None:
    report = await fake_run(FakeDiymod(feed_error="Too many feeds in progress"), full=False)
    failure = report.first_failure
    assert failure is not None and failure.name == "socket_process_feed"
    assert failure.detail == "expected processing_response; got error: Too many feeds in progress"


# --- servers that are down or misconfigured ------------------------------------------------------


class HalfServerHandler(BaseHTTPRequestHandler):
    """Answers /ping and /healthz like DIY-MOD; everything else (the socket too) is a 404."""

    server: HalfServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/ping":
            self.json_send(200, {"status": "success", "message": "pong", "timestamp": "now"})
        elif path == "/healthz":
            self.json_send(self.server.health_status, self.server.health_body())
        else:
            self.json_send(404, {"status": "error", "message": "Not found"})

    def json_send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class HalfServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, health_status: int) -> None:
        super().__init__(("127.0.0.1", 0), HalfServerHandler)
        self.health_status = health_status

    def health_body(self) -> dict:
        if self.health_status == 200:
            return {"status": "success", "checks": {"database": "ok"}}
        checks = {"database": "ok", "broker": "error: OperationalError: connection refused"}
        return {"status": "error", "message": "Unhealthy: broker", "checks": checks}


@pytest.fixture
def half_server(request: pytest.FixtureRequest) -> Iterator[str]:
    server = HalfServer(getattr(request, "param", 200))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_wrong_port_fails_at_ping_with_exit_1_and_says_nobody_answered() -> None:
    completed = check_command("--url", f"http://127.0.0.1:{free_port()}", "--json")
    assert completed.returncode == 1
    report = json_report(completed)
    assert report["ok"] is False
    assert step_names(report) == ["ping"]
    assert "connection refused" in report["steps"][0]["detail"]


def without_notes(output: str) -> list[str]:
    """The output's lines without the `note` lines (a loopback server gets one)."""
    return [line for line in output.splitlines() if not line.startswith("  note  ")]


def test_human_output_prints_each_step_and_a_failed_verdict() -> None:
    completed = check_command("--url", f"http://127.0.0.1:{free_port()}")
    assert completed.returncode == 1
    lines = without_notes(completed.stdout)
    assert lines[0].startswith("DIY-MOD basic check of http://127.0.0.1:")
    assert lines[1].split()[:2] == ["FAIL", "ping"]
    assert lines[-1].startswith("FAILED at ping: GET /ping: no connection to")


def test_a_loopback_server_gets_a_local_network_access_note_and_field() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    human = check_command("--url", url).stdout.splitlines()
    report = json_report(check_command("--url", url, "--json"))
    assert human[1].startswith("  note  127.0.0.1 is a loopback address: browsers ask the user")
    assert "Local Network Access" in human[1]
    assert report["local_network_access"]["address_space"] == "loopback"
    assert report["local_network_access"]["address"] == "127.0.0.1"
    assert "Local Network Access" in report["local_network_access"]["note"]


@pytest.mark.parametrize(
    ("url", "space"),
    [
        ("http://127.0.0.1:8000", "loopback"),
        ("http://localhost:8000", "loopback"),
        ("http://[::1]:8000", "loopback"),
        ("http://[::ffff:127.0.0.1]:8000", "loopback"),
        ("http://10.1.2.3:8000", "private"),
        ("http://172.20.0.4", "private"),
        ("https://192.168.1.20", "private"),
        ("http://[fd00::5]:8000", "private"),
        ("http://169.254.1.1", "private"),
        ("https://93.184.216.34", None),
        ("https://[2606:4700::1111]", None),
    ],
)
def test_loopback_and_private_addresses_need_local_network_access(url: str, space) -> None:
    # IP literals and localhost only: nothing here asks a name server.
    access = local_network_access_find(url)
    assert (access and access.address_space) == space


def test_a_public_server_has_no_local_network_access_field() -> None:
    report = CheckReport(url="https://diymod.example", user_id="u", full=False)
    assert report.as_dict()["local_network_access"] is None


def test_server_without_websocket_fails_at_the_socket_step(half_server: str) -> None:
    report = check_run(CheckOptions(url=half_server, user_id="u1", step_timeout=5.0))
    assert [step.name for step in report.steps] == ["ping", "healthz", "socket_open"]
    assert report.steps[1].ok
    failure = report.steps[-1]
    assert not failure.ok
    assert "expected the WebSocket handshake accepted (HTTP 101); got HTTP 404" in failure.detail


@pytest.mark.parametrize("half_server", [503], indirect=True)
def test_unhealthy_server_fails_at_healthz_naming_what_failed(half_server: str) -> None:
    report = check_run(CheckOptions(url=half_server, user_id="u1", step_timeout=5.0))
    assert [step.ok for step in report.steps] == [True, False]
    assert "got HTTP 503" in report.steps[1].detail
    assert "broker error: OperationalError" in report.steps[1].detail


# --- a live server: the embedded default ---------------------------------------------------------


def test_basic_check_passes_against_a_live_server(embedded_server: LiveServer) -> None:
    completed = check_command("--url", embedded_server.base_url)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = without_notes(completed.stdout)
    assert [line.split()[1] for line in lines[1:-1]] == BASIC_STEP_NAMES
    assert all(line.split()[0] == "OK" for line in lines[1:-1])
    assert lines[-1].startswith("PASSED: 6 steps in ")


def test_full_check_passes_and_removes_its_filter(
    embedded_server: LiveServer, image_port: int
) -> None:
    user = "diymod-check-full-test"
    completed = check_command(
        "--url",
        embedded_server.base_url,
        "--full",
        "--json",
        "--user",
        user,
        "--serve-port",
        str(image_port),
        "--timeout",
        "30",
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json_report(completed)
    assert report["ok"] is True, report
    assert step_names(report) == FULL_STEP_NAMES
    assert report["end_to_end_ms"] > 0
    assert "JPEG" in report["steps"][FULL_STEP_NAMES.index("result_image")]["detail"]
    filters = httpx.get(
        f"{embedded_server.base_url}/filters", params={"user_id": user}, timeout=10
    ).json()
    assert filters["filters"] == []


def test_full_check_passes_with_a_configured_public_url(tmp_path: Path, image_port: int) -> None:
    # The deployment's own address configured (DIYMOD_PUBLIC_URL), as behind a proxy.
    port = free_port()
    env = embedded_env(
        image_port, tmp_path / "media", DIYMOD_PUBLIC_URL=f"http://127.0.0.1:{port}"
    )
    with live_server_start(
        env, database_url=f"sqlite:///{tmp_path}/db.sqlite3", port=port
    ) as server:
        completed = check_command(
            "--url", server.base_url, "--full", "--serve-port", str(image_port), "--timeout", "30"
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    # Step lines only: a loopback server also gets the Local Network Access note (issue 19).
    steps = [line for line in lines[1:-1] if line.split()[:1] in (["OK"], ["FAIL"])]
    assert [line.split()[1] for line in steps] == FULL_STEP_NAMES
    result_line = steps[FULL_STEP_NAMES.index("result_image")]
    assert result_line.split()[0] == "OK" and "JPEG" in result_line
    assert lines[-1].startswith("PASSED: 14 steps in ") and "image end to end" in lines[-1]


def test_full_check_says_to_allow_the_image_host_when_the_job_fails(
    embedded_server: LiveServer,
) -> None:
    # A port the server does not allow: its SSRF guard must refuse to fetch from it.
    completed = check_command(
        "--url", embedded_server.base_url, "--full", "--json", "--timeout", "10"
    )
    assert completed.returncode == 1
    report = json_report(completed)
    failure = failed_step(report)
    assert failure["name"] == "image_processed"
    assert "DIYMOD_IMAGE_ALLOWED_HOSTS including 127.0.0.1:" in failure["detail"]
    assert "fetched 0 time(s)" in failure["detail"]
    assert report["steps"][-1]["name"] == "filter_delete" and report["steps"][-1]["ok"]


def test_token_mode_server_passes_with_a_token_and_refuses_the_socket_without(
    tmp_path: Path, image_port: int
) -> None:
    server = live_server_start(
        embedded_env(image_port, tmp_path / "media", DIYMOD_AUTH="token"),
        database_url=f"sqlite:///{tmp_path}/db.sqlite3",
    )
    with server:
        registered = httpx.post(f"{server.base_url}/auth/register", json={}, timeout=10).json()
        user, token = registered["user_id"], registered["token"]
        with_token = check_command("--url", server.base_url, "--user", user, "--token", token)
        without = check_run(CheckOptions(url=server.base_url, user_id=user, step_timeout=10.0))
    assert with_token.returncode == 0, with_token.stdout + with_token.stderr
    assert not without.ok
    failure = without.first_failure
    assert failure is not None and failure.name == "socket_open"
    assert "HTTP 403" in failure.detail


# --- scaled out, but nobody runs the jobs --------------------------------------------------------


@pytest.mark.integration
def test_image_step_times_out_naming_the_missing_worker(tmp_path: Path, image_port: int) -> None:
    if not redis_available(NO_WORKER_REDIS_URL):
        pytest.skip(f"Redis not reachable at {NO_WORKER_REDIS_URL}")
    import redis

    env = embedded_env(
        image_port,
        tmp_path / "media",
        REDIS_URL=NO_WORKER_REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="0",
    )
    try:
        with live_server_start(env, database_url=f"sqlite:///{tmp_path}/db.sqlite3") as server:
            completed = check_command(
                "--url",
                server.base_url,
                "--full",
                "--json",
                "--serve-port",
                str(image_port),
                "--timeout",
                "3",
            )
    finally:
        # The job stays queued with no worker: drop it so no later worker picks it up.
        redis.Redis.from_url(NO_WORKER_REDIS_URL).delete("celery")
    assert completed.returncode == 1
    report = json_report(completed)
    failure = failed_step(report)
    assert failure["name"] == "image_processed"
    assert failure["detail"].startswith(
        "no image_processed within 3 s: is a Celery worker running?"
    )
    assert "(/get_img_result says PENDING)" in failure["detail"]
    assert report["steps"][-1]["name"] == "filter_delete" and report["steps"][-1]["ok"]
