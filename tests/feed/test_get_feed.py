from __future__ import annotations

import json
import logging

import pytest

from filters.models import User
from filters.services import filter_create, user_get_or_create
from tests.feed.samples import REDDIT_URL, X_URL, reddit_feed, shreddit_post, tweet, x_timeline

pytestmark = pytest.mark.django_db

SPIDER_POST = shreddit_post(
    "t3_spider",
    "Found a huge spider in my bathtub",
    "It was a hairy spider with long legs. I screamed.",
)
CAT_POST = shreddit_post("t3_cat", "My cat learned to open doors", "She is very clever.")
FEED = reddit_feed(SPIDER_POST, CAT_POST)


def feed_post(
    api_client,
    body: str = FEED,
    url: str = REDDIT_URL,
    user_id: str = "alice",
    as_string: bool = False,
):
    data = {"feed_info": {"response": body}}
    payload = {"user_id": user_id, "url": url, "data": json.dumps(data) if as_string else data}
    return api_client.post("/get_feed", payload, format="json")


def alice_filter(text: str = "spiders", **fields):
    return filter_create(owner=user_get_or_create(user_id="alice"), filter_text=text, **fields)


@pytest.mark.parametrize("as_string", [False, True])
def test_both_body_shapes_give_the_same_answer(api_client, as_string):
    alice_filter(intensity=3)
    response = feed_post(api_client, as_string=as_string)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success"
    assert "__OVERLAY_START__" in body["feed"]["response"]


def test_feed_without_filters_comes_back_byte_identical(api_client):
    body = feed_post(api_client).json()
    assert body["feed"]["response"] == FEED
    assert body["degraded"] is False


def test_unmatched_posts_come_back_byte_identical(api_client):
    alice_filter(intensity=3)
    returned = feed_post(api_client).json()["feed"]["response"]
    assert CAT_POST in returned
    assert returned.endswith(FEED[FEED.index(CAT_POST) :])


def test_stats_count_posts_matches_cache_hits_and_time(api_client):
    alice_filter(intensity=1)
    first = feed_post(api_client).json()["stats"]
    assert first["posts"] == 2 and first["matched"] == 1 and first["cache_hits"] == 0
    assert first["milliseconds"] >= 0
    second = feed_post(api_client).json()["stats"]
    assert second["cache_hits"] == 2 and second["model_calls"] == 0


def test_cached_decision_gives_the_same_output(api_client):
    alice_filter(intensity=2)
    first = feed_post(api_client).json()["feed"]["response"]
    second = feed_post(api_client).json()["feed"]["response"]
    assert first == second and "__BLUR_START__" in first


@pytest.mark.parametrize(
    ("intensity", "marker"),
    [
        (1, "__BLUR_START__"),
        (2, "__BLUR_START__"),
        (3, "__OVERLAY_START__"),
        (4, "__REWRITE_START__"),
        (5, "__REWRITE_START__"),
    ],
)
def test_intensity_picks_the_marker(api_client, intensity, marker):
    alice_filter(intensity=intensity)
    returned = feed_post(api_client).json()["feed"]["response"]
    assert marker in returned
    others = {"__BLUR_START__", "__OVERLAY_START__", "__REWRITE_START__"} - {marker}
    assert not any(other in returned for other in others)


def test_highest_intensity_among_matching_filters_wins(api_client):
    alice_filter("spiders", intensity=1)
    alice_filter("bathtub spiders", intensity=3)
    returned = feed_post(api_client).json()["feed"]["response"]
    assert "__OVERLAY_START__" in returned and "__BLUR_START__" not in returned


def test_overlay_warning_does_not_name_the_topic(api_client):
    alice_filter(intensity=3)
    returned = feed_post(api_client).json()["feed"]["response"]
    start = returned.index("__OVERLAY_START__") + len("__OVERLAY_START__")
    warning = returned[start : returned.index("|", start)]
    assert "spider" not in warning.lower()
    assert not set('"<>\n') & set(warning)


def test_another_users_filters_do_not_apply(api_client):
    alice_filter(intensity=3)
    returned = feed_post(api_client, user_id="bob").json()["feed"]["response"]
    assert returned == FEED


def test_hostile_post_text_cannot_inject_markup(api_client):
    hostile = shreddit_post(
        "t3_evil", "spiders &lt;img src=x onerror=alert(1)&gt; Tom &amp; Jerry &lt;3"
    )
    alice_filter(intensity=3)
    returned = feed_post(api_client, body=reddit_feed(hostile)).json()["feed"]["response"]
    title = returned[returned.index('slot="title"') : returned.index("</a>")]
    # Escaped once for the innerHTML insert and once for the document (CONTRACT section 4).
    assert "&amp;lt;img src=x onerror=alert(1)&amp;gt;" in title
    assert "Tom &amp;amp; Jerry &amp;lt;3" in title
    assert "<img" not in title


def test_a_post_spelling_out_markers_is_defanged_even_when_unmatched(api_client):
    sneaky = shreddit_post("t3_sneaky", "__BLUR_START__&lt;b&gt;hi&lt;/b&gt;__BLUR_END__")
    alice_filter(intensity=1)
    returned = feed_post(api_client, body=reddit_feed(sneaky)).json()["feed"]["response"]
    assert "__BLUR_START__" not in returned


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://example.com/feed", "Unsupported platform in URL"),
        ("https://evil.com/?next=reddit.com", "Unsupported platform in URL"),
    ],
)
def test_unsupported_platform_is_400(api_client, url, message):
    response = feed_post(api_client, url=url)
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert response.json()["detail"] == message


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"user_id": "alice", "url": REDDIT_URL, "data": {}}, "feed_info"),
        ({"user_id": "alice", "url": REDDIT_URL, "data": "{not json"}, "data"),
        ({"user_id": "alice", "url": REDDIT_URL}, "feed_info"),
        ({"user_id": "alice", "data": {"feed_info": {"response": "x"}}}, "url"),
        (
            {"user_id": "alice", "url": REDDIT_URL, "data": {"feed_info": {"response": 5}}},
            "response",
        ),
        ({"url": REDDIT_URL, "data": {"feed_info": {"response": "<p>x</p>"}}}, "user_id"),
    ],
)
def test_malformed_requests_are_400_naming_the_problem(api_client, payload, field):
    response = api_client.post("/get_feed/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["message"]


def test_non_json_body_is_400(api_client):
    response = api_client.post("/get_feed", "<html>", content_type="application/json")
    assert response.status_code == 400


def test_feed_over_the_size_limit_is_413(api_client, settings):
    settings.DIYMOD_FEED_MAX_BYTES = 2048
    response = feed_post(api_client, body=FEED + " " * 4096)
    assert response.status_code == 413
    assert "limit" in response.json()["message"]


def test_eight_megabytes_are_accepted(api_client):
    alice_filter(intensity=3)
    padding = "<div>" + "x" * (7 * 1024 * 1024) + "</div>"
    response = feed_post(api_client, body=FEED + padding)
    assert response.status_code == 200
    assert response.json()["feed"]["response"].endswith(padding)


def test_html_that_is_not_a_feed_comes_back_unchanged(api_client):
    alice_filter()
    body = "<html><body><p>spiders everywhere</p></body></html>"
    assert feed_post(api_client, body=body).json()["feed"]["response"] == body


def test_invalid_x_json_comes_back_unchanged(api_client):
    alice_filter()
    body = '{"data": {"home": truncated spiders'
    response = feed_post(api_client, body=body, url=X_URL)
    assert response.status_code == 200
    assert response.json()["feed"]["response"] == body


def test_x_timeline_is_marked_in_full_text_and_keeps_every_key(api_client):
    alice_filter(intensity=1)
    body = x_timeline(tweet("1", "spiders & snakes <3"), tweet("2", "lunch was great"))
    returned = feed_post(api_client, body=body, url=X_URL).json()["feed"]["response"]
    data = json.loads(returned)
    entries = data["data"]["home"]["home_timeline_urt"]["instructions"][0]["entries"]
    first = entries[0]["content"]["itemContent"]["tweet_results"]["result"]["legacy"]
    # The whole sentence carries the topic, so the whole sentence is blurred (issue 14).
    assert first["full_text"].startswith("__BLUR_START__spiders")
    assert first["full_text"].endswith("__BLUR_END__")
    assert set(first) == {"full_text", "display_text_range", "lang"}
    second = entries[1]["content"]["itemContent"]["tweet_results"]["result"]["legacy"]
    assert second["full_text"] == "lunch was great"


def test_database_failure_still_returns_the_feed(api_client, monkeypatch, caplog):
    import feed.services

    def broken(**kwargs):
        raise RuntimeError("database is gone")

    alice_filter()
    monkeypatch.setattr(feed.services, "filter_list_active", broken)
    with caplog.at_level(logging.ERROR):
        body = feed_post(api_client).json()
    assert body["feed"]["response"] == FEED
    assert body["degraded"] is True and body["degraded_reason"]
    assert "database is gone" in caplog.text


def test_token_mode_requires_a_token_for_feeds(api_client, settings):
    settings.DIYMOD_AUTH = "token"
    response = feed_post(api_client)
    assert response.status_code == 401
    assert not User.objects.filter(user_id="alice").exists()


def test_posts_report_says_which_filter_matched(api_client):
    alice_filter(intensity=3)
    (report,) = feed_post(api_client).json()["posts"]
    assert report["id"] == "t3_spider"
    assert report["filters"] == ["spiders"]
    assert report["intervention"] == "overlay"
    assert 0 < report["confidence"] <= 1
