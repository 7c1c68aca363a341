"""Hostile, arbitrary and truncated input through the whole `POST /get_feed` pipeline (view,
platform adapters, analyzer, interventions), in-process with the Django test client.

Whatever arrives, the answer is never a 5xx (a 5xx turns moderation off, CONTRACT "Golden
rule"); a feed the server accepts comes back as a non-empty string, and a user with no filters
gets it back exactly as sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filters.services import filter_create, user_get_or_create
from tests.feed.samples import REDDIT_URL, X_URL, reddit_feed, shreddit_post, tweet, x_timeline
from tests.support.markers import injectable_texts, marker_spelled, visible_start_markers

pytestmark = pytest.mark.django_db

HOSTILE_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

REDDIT_SAMPLE = reddit_feed(
    shreddit_post(
        "t3_a",
        "A spider <b>in</b> my bath &amp; more",
        "Hairy spider legs",
        "https://i.redd.it/a.jpg",
    ),
    shreddit_post("t3_b", "My cat", "She is clever"),
)
X_SAMPLE = x_timeline(
    tweet("1", "a spider on my wall", "https://pbs.twimg.com/media/a.jpg"),
    tweet("2", "lunch was good"),
)
# Fragments attackers (or broken pages) put where the adapters look.
HOSTILE_FRAGMENTS = [
    "<script>alert(1)</script>",
    "__BLUR_START__",
    "__OVERLAY_END__",
    "__REWRITE_START__<img src=x onerror=alert(1)>__REWRITE_END__",
    '"><svg onload=alert(1)>',
    "<shreddit-post id='t3_x'>",
    "</shreddit-post>",
    '{"entries": [',
    '"full_text": null',
    '"tweet_results": {"result": {"__typename": "TweetWithVisibilityResults"}}',
    "\x00",
    "\ud7ff\U0010ffff",
    "&#x3C;",
    # Marker spellings the page decodes (issue 12.1): character references, escapes, NULs.
    "&#95;&#95;BLUR_START&#95;&#95;&lt;img src=x onerror=alert(1)&gt;",
    "&lowbar;&UnderBar;&#x4f;VERLAY&#95START__",
    "__RE\x00WRITE_START__",
    "\\u005f\\u005fBLUR_START\\u005f_",
    "__\\u0052EWRITE_START__<b>",
    "<" * 50,
    "[" * 200,
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def mangled_feed(draw: st.DrawFn, sample: str) -> str:
    """The sample truncated, with hostile fragments and random text spliced in at random places."""
    text = sample[: draw(st.integers(min_value=1, max_value=len(sample)))]
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        piece = draw(st.sampled_from(HOSTILE_FRAGMENTS) | st.text(min_size=1, max_size=30))
        at = draw(st.integers(min_value=0, max_value=len(text)))
        text = text[:at] + piece + text[at:]
    return text


@pytest.fixture
def embedded(settings: Any) -> None:
    settings.DIYMOD_ANALYZER = "embedded"
    settings.OPENAI_API_KEY = ""
    filter_create(owner=user_get_or_create(user_id="alice"), filter_text="spiders", intensity=3)
    filter_create(
        owner=user_get_or_create(user_id="alice"),
        filter_text="<script>alert(1)</script> spiders",
        intensity=5,
    )


def post(api_client, payload: Any) -> Any:
    return api_client.post("/get_feed", payload, format="json")


def feed_payload(user_id: str, url: str, body: str) -> dict[str, Any]:
    return {"user_id": user_id, "url": url, "data": {"feed_info": {"response": body}}}


@pytest.mark.usefixtures("embedded")
@HOSTILE_SETTINGS
@given(payload=json_values)
def test_any_json_body_is_answered_without_a_server_error(api_client, payload: Any) -> None:
    assert post(api_client, payload).status_code < 500


@pytest.mark.usefixtures("embedded")
@HOSTILE_SETTINGS
@given(
    user_id=json_values,
    url=st.sampled_from([REDDIT_URL, X_URL, "https://reddit.com.evil.test/", "", "x.com"])
    | st.text(max_size=40),
    data=json_values | st.text(max_size=60),
)
def test_any_field_values_are_answered_without_a_server_error(
    api_client,
    user_id: Any,
    url: Any,
    data: Any,
) -> None:
    assert post(api_client, {"user_id": user_id, "url": url, "data": data}).status_code < 500


@pytest.mark.usefixtures("embedded")
@HOSTILE_SETTINGS
@given(
    case=st.one_of(
        st.tuples(st.just(REDDIT_URL), mangled_feed(REDDIT_SAMPLE)),
        st.tuples(st.just(X_URL), mangled_feed(X_SAMPLE)),
    ),
    as_string=st.booleans(),
)
def test_mangled_feeds_come_back_as_a_feed(
    api_client, case: tuple[str, str], as_string: bool
) -> None:
    url, body = case
    payload = feed_payload("alice", url, body)
    if as_string:  # client A
        payload["data"] = json.dumps(payload["data"])

    answer = post(api_client, payload)

    assert answer.status_code == 200, answer.content[:500]
    returned = answer.json()["feed"]["response"]
    assert isinstance(returned, str) and returned


@pytest.mark.usefixtures("embedded")
@HOSTILE_SETTINGS
@given(
    case=st.one_of(
        st.tuples(st.just(REDDIT_URL), mangled_feed(REDDIT_SAMPLE)),
        st.tuples(st.just(X_URL), mangled_feed(X_SAMPLE)),
    )
)
def test_a_user_without_filters_gets_any_feed_back_unchanged(
    api_client, case: tuple[str, str]
) -> None:
    """Unchanged unless it spells a marker itself (issue 12.1): that one is defanged."""
    url, body = case

    answer = post(api_client, feed_payload("nobody-filters-nothing", url, body))

    assert answer.status_code == 200, answer.content[:500]
    returned = answer.json()["feed"]["response"]
    platform = "x" if url == X_URL else "reddit"
    if visible_start_markers(platform, body) == 0 and not any(
        word in body for word in ("BLUR", "OVERLAY", "REWRITE")
    ):
        assert returned == body
    assert visible_start_markers(platform, returned) == 0


@pytest.mark.usefixtures("embedded")
@HOSTILE_SETTINGS
@given(
    case=st.one_of(
        st.tuples(st.just(REDDIT_URL), mangled_feed(REDDIT_SAMPLE)),
        st.tuples(st.just(X_URL), mangled_feed(X_SAMPLE)),
    ),
    user_id=st.sampled_from(["alice", "nobody-filters-nothing"]),
)
def test_no_response_carries_a_marker_the_server_did_not_write(
    api_client, case: tuple[str, str], user_id: str
) -> None:
    """Issue 12.1: whatever a feed spells, no text the client inserts as HTML holds markup,
    and a user the server marks nothing for sees no start marker at all."""
    url, body = case
    platform = "x" if url == X_URL else "reddit"

    answer = post(api_client, feed_payload(user_id, url, body)).json()

    returned = answer["feed"]["response"]
    assert injectable_texts(platform, returned) == []
    if not answer["posts"]:
        assert visible_start_markers(platform, returned) == 0


@pytest.mark.usefixtures("embedded")
@pytest.mark.parametrize(("url", "body"), [(REDDIT_URL, REDDIT_SAMPLE), (X_URL, X_SAMPLE)])
def test_the_unmangled_samples_are_moderated(api_client, url: str, body: str) -> None:
    """The control: the samples the strategies mangle do reach the analyzer and get marked."""
    answer = post(api_client, feed_payload("alice", url, body)).json()

    assert answer["stats"]["matched"] == 1
    assert "__REWRITE_START__" in answer["feed"]["response"]


@st.composite
def feed_spelling_a_marker(draw: st.DrawFn) -> tuple[str, str, str]:
    """(platform, url, body): a sample feed with one start marker, each character in a random
    spelling the page decodes, around markup, at a random place of a post's text (or anywhere
    in the Reddit document)."""
    platform = draw(st.sampled_from(["reddit", "x"]))
    spelled = marker_spelled(
        platform,
        draw(st.lists(st.integers(0, 7), min_size=1, max_size=20)),
        draw(st.integers(0, 2)),
        draw(st.booleans()),
    )
    if platform == "x":
        text = f"{spelled}<img src=x onerror=alert(1)>__BLUR_END__"
        words = draw(st.sampled_from(["a spider on my wall", "lunch was good"]))
        at = draw(st.integers(0, len(words)))
        body = x_timeline(tweet("1", "@@"), tweet("2", "a spider again"))
        return platform, X_URL, body.replace("@@", words[:at] + text + words[at:])
    text = f"{spelled}&lt;img src=x onerror=alert(1)&gt;__BLUR_END__"
    if draw(st.booleans()):
        at = draw(st.integers(0, len(REDDIT_SAMPLE)))
        return platform, REDDIT_URL, REDDIT_SAMPLE[:at] + text + REDDIT_SAMPLE[at:]
    title = draw(st.sampled_from(["A spider", "My cat"]))
    return platform, REDDIT_URL, reddit_feed(shreddit_post("t3_h", f"{title} {text}", "Hairy"))


@pytest.mark.usefixtures("embedded")
@HOSTILE_SETTINGS
@given(case=feed_spelling_a_marker(), user_id=st.sampled_from(["alice", "nobody"]))
def test_a_marker_in_any_spelling_never_survives(
    api_client, case: tuple[str, str, str], user_id: str
) -> None:
    """Issue 12.1, as a property: the oracle sees the planted marker in what was sent, and
    sees no unwritten one in what comes back."""
    platform, url, body = case
    assert visible_start_markers(platform, body) >= 1

    answer = post(api_client, feed_payload(user_id, url, body)).json()

    returned = answer["feed"]["response"]
    assert injectable_texts(platform, returned) == []
    if not answer["posts"]:
        assert visible_start_markers(platform, returned) == 0
