"""The playground's page, sample feeds and pictures, and its image allowance (no browser)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

import pytest
from django.test import override_settings
from PIL import Image

from feed.platforms import feed_parse
from imaging.fetching import FetchRefused, fetch_policy_from_settings, image_fetch
from playground.images import PICTURES, picture_jpeg
from playground.samples import IMAGE_BASE_PLACEHOLDER, SAMPLES

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1:8123"


class ControlsAndLabels(HTMLParser):
    """Collects form controls, labels and asset URLs of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str]] = []
        self.label_targets: set[str] = set()
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag in {"input", "select", "textarea"} and attributes.get("type") != "hidden":
            self.controls.append(attributes)
        if tag == "label" and attributes.get("for"):
            self.label_targets.add(attributes["for"])
        if tag == "script" and "src" in attributes:
            self.assets.append(attributes["src"])
        if tag == "link" and "href" in attributes:
            self.assets.append(attributes["href"])


def page_parse(html: str) -> ControlsAndLabels:
    parser = ControlsAndLabels()
    parser.feed(html)
    return parser


def sample_get(client, name: str, host: str = HOST) -> dict:
    response = client.get(f"/playground/samples/{name}", HTTP_HOST=host)
    assert response.status_code == 200
    return response.json()


# --- the page -----------------------------------------------------------------------------------


def test_the_page_is_served_at_the_root_with_its_template(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "playground/index.html" in [template.name for template in response.templates]
    assert b"DIY-MOD playground" in response.content


def test_every_control_on_the_page_has_a_label(client) -> None:
    page = page_parse(client.get("/").content.decode())
    assert len(page.controls) >= 8
    unlabelled = [c for c in page.controls if c.get("id") not in page.label_targets]
    assert unlabelled == []


def test_the_page_offers_every_sample_feed_and_a_paste_option(client) -> None:
    page = page_parse(client.get("/").content.decode())
    radios = {c["value"] for c in page.controls if c.get("name") == "sample"}
    assert radios == {*SAMPLES, "paste"}


def test_the_page_loads_its_assets_from_this_server_only(client) -> None:
    page = page_parse(client.get("/").content.decode())
    assert page.assets, "the page links its script and stylesheet"
    assert all(url.startswith("/static/playground/") for url in page.assets)


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [directive.split() for directive in header.split(";") if directive.strip()]
    return {name: values for name, *values in directives}


def test_the_page_sends_a_policy_that_loads_only_from_this_server(client) -> None:
    policy = policy_of(client.get("/", HTTP_HOST=HOST))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no inline script, no eval
    assert policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'", f"ws://{HOST}"]
    assert policy["img-src"] == ["'self'", "data:", "blob:", f"http://{HOST}"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


def test_the_policy_names_the_pictures_127_0_0_1_host_and_the_socket_of_this_host(client) -> None:
    policy = policy_of(client.get("/", HTTP_HOST="localhost:8123"))
    assert policy["connect-src"] == ["'self'", "ws://localhost:8123"]
    assert "http://127.0.0.1:8123" in policy["img-src"]


def test_over_https_the_socket_is_wss_and_results_may_come_from_the_public_url(
    client, settings
) -> None:
    settings.DIYMOD_PUBLIC_URL = "https://media.diymod.example:8443/base"
    policy = policy_of(client.get("/", HTTP_HOST=HOST, secure=True))
    assert policy["connect-src"] == ["'self'", f"wss://{HOST}"]
    assert "https://media.diymod.example:8443" in policy["img-src"]


class InlineCode(HTMLParser):
    """Script, style and event handlers written into the page itself (the policy refuses them)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _value in attrs}
        if (tag == "script" and "src" not in names) or tag == "style":
            self.found.append(f"<{tag}>")
        self.found += [f"{tag}[{name}]" for name in names if name == "style" or name[:2] == "on"]


def test_the_page_holds_no_inline_script_style_or_handlers_the_policy_would_block(client) -> None:
    for auth in ("client-id", "token"):
        with override_settings(DIYMOD_AUTH=auth):
            parser = InlineCode()
            parser.feed(client.get("/").content.decode())
        assert parser.found == []


def test_the_static_assets_are_served(client) -> None:
    for name in ("app.js", "app.css"):
        response = client.get(f"/static/playground/{name}")
        assert response.status_code == 200
        content = b"".join(response.streaming_content) if response.streaming else response.content
        assert len(content) > 1000


def test_the_token_field_appears_only_when_the_server_requires_tokens(client, settings) -> None:
    settings.DIYMOD_AUTH = "client-id"
    assert b'id="api-token"' not in client.get("/").content
    settings.DIYMOD_AUTH = "token"
    assert b'id="api-token"' in client.get("/").content


# --- sample feeds -------------------------------------------------------------------------------


def test_the_sample_index_lists_names_titles_and_platforms(client) -> None:
    response = client.get("/playground/samples/")
    assert response.status_code == 200
    samples = response.json()["samples"]
    assert {sample["name"] for sample in samples} == set(SAMPLES)
    assert {sample["platform"] for sample in samples} == {"reddit", "x"}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_sample_points_its_images_at_this_servers_own_absolute_url(client, name) -> None:
    sample = sample_get(client, name)
    assert IMAGE_BASE_PLACEHOLDER not in sample["body"]
    assert f"http://{HOST}/playground/images/" in sample["body"]
    assert sample["url"].startswith(("https://www.reddit.com/", "https://x.com/"))


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_sample_parses_as_its_platforms_feed_with_images(client, name) -> None:
    sample = sample_get(client, name)
    parsed = feed_parse(sample["platform"], sample["body"])
    assert len(parsed.posts) >= 3
    image_urls = [media.url for post in parsed.posts for media in post.media]
    assert image_urls
    assert all(url.startswith(f"http://{HOST}/playground/images/") for url in image_urls)


def test_a_localhost_page_gets_image_urls_on_127_0_0_1(client) -> None:
    sample = sample_get(client, "reddit-home", host="localhost:8123")
    assert "http://127.0.0.1:8123/playground/images/spider.jpg" in sample["body"]
    assert "localhost" not in sample["body"]


def test_the_samples_hold_the_hostile_post_escaped_for_their_document_type(client) -> None:
    reddit = sample_get(client, "reddit-home")["body"]
    assert "Tom &amp; Jerry &lt;3 &lt;script&gt;" in reddit
    assert "<script" not in reddit
    x_body = sample_get(client, "x-home")["body"]
    texts = [post.text for post in feed_parse("x", x_body).posts]
    assert any("Tom & Jerry <3 <script>" in text for text in texts)


def test_the_samples_cover_spiders_a_severance_spoiler_and_neutral_posts(client) -> None:
    texts = [
        post.text.lower()
        for name in SAMPLES
        for post in feed_parse(SAMPLES[name].platform, sample_get(client, name)["body"]).posts
    ]
    assert any("spider" in text or "tarantula" in text for text in texts)
    assert any("severance" in text and "spoiler" in text for text in texts)
    neutral = [t for t in texts if not any(w in t for w in ("spider", "tarantula", "severance"))]
    assert len(neutral) >= 3


def test_an_unknown_sample_is_a_json_404(client) -> None:
    response = client.get("/playground/samples/no-such-feed")
    assert response.status_code == 404
    assert response.json()["status"] == "error"


def test_a_host_header_outside_allowed_hosts_is_refused(client) -> None:
    response = client.get("/playground/samples/reddit-home", HTTP_HOST='evil.example"><b')
    assert response.status_code == 400


# --- pictures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PICTURES))
def test_a_sample_picture_is_a_small_jpeg(client, name) -> None:
    response = client.get(f"/playground/images/{name}.jpg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert len(response.content) < 60 * 1024
    image = Image.open(BytesIO(response.content))
    assert image.format == "JPEG"
    assert image.size == (480, 320)


def test_every_picture_a_sample_names_exists() -> None:
    named = set()
    for sample in SAMPLES.values():
        text = (ROOT / "playground" / "samples" / sample.file_name).read_text()
        for part in text.split(IMAGE_BASE_PLACEHOLDER)[1:]:
            named.add(part.split(".jpg")[0])
    assert named and named <= set(PICTURES)


def test_an_unknown_picture_is_a_json_404(client) -> None:
    response = client.get("/playground/images/not-a-picture.jpg")
    assert response.status_code == 404


def test_the_pictures_differ_from_each_other() -> None:
    assert len({picture_jpeg(name) for name in PICTURES}) == len(PICTURES)


# --- the image allowance ------------------------------------------------------------------------


def test_images_are_fetchable_only_from_this_servers_listed_own_port(client, settings) -> None:
    settings.DIYMOD_IMAGE_ALLOWED_HOSTS = ["i.redd.it", HOST]
    settings.DIYMOD_IMAGE_ALLOW_PRIVATE = True
    assert sample_get(client, "reddit-home")["images_fetchable"] is True
    assert sample_get(client, "reddit-home", host="127.0.0.1:9999")["images_fetchable"] is False


def test_images_are_not_fetchable_from_loopback_without_the_private_allowance(
    client, settings
) -> None:
    settings.DIYMOD_IMAGE_ALLOWED_HOSTS = ["i.redd.it", HOST]
    settings.DIYMOD_IMAGE_ALLOW_PRIVATE = False
    assert sample_get(client, "reddit-home")["images_fetchable"] is False


def settings_in_subprocess(env_changes: dict[str, str]) -> dict:
    """The image settings as a fresh process computes them from its environment."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DIYMOD_", "PYTEST_")) and key not in {"PORT", "REDIS_URL"}
    }
    env.update(env_changes)
    code = (
        "import json, diymod.settings as s; print(json.dumps({'hosts': "
        "s.DIYMOD_IMAGE_ALLOWED_HOSTS, 'private': s.DIYMOD_IMAGE_ALLOW_PRIVATE, "
        "'playground': s.DIYMOD_PLAYGROUND_IMAGES}))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert output.returncode == 0, output.stderr
    return json.loads(output.stdout.strip().splitlines()[-1])


def test_the_embedded_default_allows_exactly_its_own_playground_port() -> None:
    values = settings_in_subprocess({"PORT": "8123"})
    assert values["playground"] is True
    assert values["private"] is True
    local = [host for host in values["hosts"] if host.split(":")[0] in {"127.0.0.1", "localhost"}]
    assert local == ["127.0.0.1:8123"]


def test_production_and_custom_host_lists_get_no_playground_allowance() -> None:
    production = settings_in_subprocess(
        {"DIYMOD_PRODUCTION": "1", "DJANGO_SECRET_KEY": "x" * 50, "PORT": "8123"}
    )
    custom = settings_in_subprocess({"DIYMOD_IMAGE_ALLOWED_HOSTS": "cdn.example.org"})
    for values in (production, custom):
        assert values["playground"] is False
        assert values["private"] is False
        assert "127.0.0.1:8123" not in values["hosts"]
    assert custom["hosts"] == ["cdn.example.org"]


def test_the_playground_allowance_can_be_turned_off() -> None:
    values = settings_in_subprocess({"DIYMOD_PLAYGROUND_IMAGES": "0", "PORT": "8123"})
    assert values["private"] is False
    assert "127.0.0.1:8123" not in values["hosts"]


def test_with_the_allowance_other_loopback_ports_and_names_stay_refused(settings) -> None:
    settings.DIYMOD_IMAGE_ALLOWED_HOSTS = ["i.redd.it", "pbs.twimg.com", HOST]
    settings.DIYMOD_IMAGE_ALLOW_PRIVATE = True
    policy = fetch_policy_from_settings()
    for url in (
        "http://127.0.0.1:6379/x.jpg",
        "http://localhost:8123/playground/images/spider.jpg",
        "http://10.0.0.5/x.jpg",
        "http://[::1]:8123/x.jpg",
    ):
        with pytest.raises(FetchRefused):
            image_fetch(url=url, policy=policy)
