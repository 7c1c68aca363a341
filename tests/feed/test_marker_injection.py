"""Issue 12.1: no marker start sequence the server did not write survives in any response.

The extension inserts as HTML every text node holding a start marker (CONTRACT section 4), so a
feed that spells one (in any spelling the page decodes) around escaped markup would reach
innerHTML. Checked against an oracle that decodes the response as the page does
(tests/support/markers.py), for users with and without filters, on both platforms, in every
place the issue lists, and on the real captures.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from feed.defang import body_markers_defang
from filters.services import filter_create, user_get_or_create
from tests.feed.samples import REDDIT_URL, X_URL, reddit_feed, shreddit_post, tweet, x_timeline
from tests.support.captures import REAL_CAPTURES, real_capture
from tests.support.markers import injectable_texts, page_texts, visible_start_markers

pytestmark = pytest.mark.django_db

PAYLOAD = "&lt;img src=x onerror=alert(1)&gt;"  # as a page shows it: the text `<img ...>`
# Spellings of `__BLUR_START__` the page decodes (HTML character references, a NUL).
HTML_SPELLINGS = [
    "__BLUR_START__",
    "&#95;&#95;BLUR_START&#95;&#95;",
    "&#x5F;&#X5f;BLUR&#x5f;START__",
    "&lowbar;&UnderBar;BLUR_START&lowbar;_",
    "__&#66;&#x4C;&#0085;&#x52;_START__",  # letters as references, leading zeros
    "&#95&#95BLUR_START__",  # no semicolons: still decoded
    "__BL\x00UR_START__",  # the parser drops the NUL and joins the text
    "__OVERLAY_START__",
    "__REWRITE_START__",
]
# In X's JSON text (as it appears in the raw body): literal or `\\u00XX` escapes.
JSON_SPELLINGS = [
    "__BLUR_START__",
    "\\u005f\\u005fBLUR_START\\u005f\\u005f",
    "\\u005F_\\u0042LUR_START__",
    "__REWRITE\\u005fSTART__",
    "__OVERLAY_START__",
]


@pytest.fixture
def embedded(settings: Any) -> None:
    settings.DIYMOD_ANALYZER = "embedded"
    settings.OPENAI_API_KEY = ""


def feed_answer(api_client: Any, user_id: str, url: str, body: str) -> dict[str, Any]:
    payload = {"user_id": user_id, "url": url, "data": {"feed_info": {"response": body}}}
    response = api_client.post("/get_feed", payload, format="json")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def users() -> dict[str, str]:
    """No filters; a filter nothing here matches; a filter the hostile posts match."""
    user_get_or_create(user_id="nobody")
    for user_id, text, intensity in (("zebra", "zebra migration", 1), ("spider", "spiders", 5)):
        filter_create(
            owner=user_get_or_create(user_id=user_id), filter_text=text, intensity=intensity
        )
    return {"nobody": "none", "zebra": "unmatched", "spider": "matched"}


def assert_no_unwritten_marker(platform: str, answer: dict[str, Any]) -> None:
    returned = answer["feed"]["response"]
    assert injectable_texts(platform, returned) == []
    if not answer["posts"]:  # the server marked nothing: no start marker may be visible at all
        assert visible_start_markers(platform, returned) == 0


# --- Reddit: every place ---------------------------------------------------------------------


def reddit_places(marker: str) -> dict[str, str]:
    hostile = f"{marker}{PAYLOAD}__BLUR_END__"
    normal = shreddit_post("t3_ok", "A spider in my bath", "Hairy legs")
    flair = normal.replace(
        "</shreddit-post>",
        f'<shreddit-post-flair slot="post-flair"><span>{hostile}</span></shreddit-post-flair>'
        "</shreddit-post>",
    )
    second_title = normal.replace(
        "</shreddit-post>", f'<a slot="title" href="/r/t/2">{hostile}</a></shreddit-post>'
    )
    second_body = normal.replace(
        "</shreddit-post>", f'<div slot="text-body"><p>{hostile}</p></div></shreddit-post>'
    )
    crosspost = normal.replace(
        "</shreddit-post>",
        f'<div slot="post-media-container"><shreddit-embed><a href="/r/x">{hostile}</a>'
        "</shreddit-embed></div></shreddit-post>",
    )
    return {
        "title": reddit_feed(shreddit_post("t3_a", f"spider {hostile}", "Hairy legs")),
        "body": reddit_feed(shreddit_post("t3_a", "A spider", f"spider {hostile}")),
        "flair": reddit_feed(flair),
        "second title": reddit_feed(second_title),
        "second body": reddit_feed(second_body),
        "duplicate post id": reddit_feed(
            normal, shreddit_post("t3_ok", "A spider in my bath", hostile)
        ),
        "crosspost embed": reddit_feed(crosspost),
        "outside posts": reddit_feed(normal) + f"<div>{hostile}</div>",
        "attribute": reddit_feed(normal.replace('post-title="x"', f'post-title="{hostile}"')),
        "comment": reddit_feed(
            normal,
            f'<shreddit-comment thingid="t1_c"><div slot="comment"><p>{hostile}</p></div>'
            "</shreddit-comment>",
        ),
    }


@pytest.mark.usefixtures("embedded")
@pytest.mark.parametrize("marker", HTML_SPELLINGS)
@pytest.mark.parametrize("place", list(reddit_places("__BLUR_START__")))
def test_a_reddit_feed_spelling_a_marker_anywhere_never_carries_it(
    api_client: Any, place: str, marker: str
) -> None:
    body = reddit_places(marker)[place]
    assert visible_start_markers("reddit", body) >= 1  # the oracle sees the attack

    for user_id in users():
        assert_no_unwritten_marker("reddit", feed_answer(api_client, user_id, REDDIT_URL, body))


# --- X: every place --------------------------------------------------------------------------


def timeline_entry(result: dict[str, Any], entry_id: str) -> dict[str, Any]:
    return {
        "entryId": entry_id,
        "content": {
            "entryType": "TimelineTimelineItem",
            "itemContent": {"itemType": "TimelineTweet", "tweet_results": {"result": result}},
        },
    }


def tweet_result(rest_id: str, text: str) -> dict[str, Any]:
    return tweet(rest_id, text)["content"]["itemContent"]["tweet_results"]["result"]


def x_places(marker_placeholder: str) -> dict[str, str]:
    """Each place as raw JSON text; `marker_placeholder` is replaced by the raw spelling."""
    hostile = f"{marker_placeholder}<img src=x onerror=alert(1)>__BLUR_END__"
    places: dict[str, dict[str, Any]] = {}
    long_post = tweet_result("1", "a spider on the wall")
    long_post["note_tweet"] = {"note_tweet_results": {"result": {"text": f"spider {hostile}"}}}
    places["note_tweet"] = timeline_entry(long_post, "tweet-1")
    tail = tweet_result("2", "a spider on the wall")
    tail["legacy"]["full_text"] += f" {hostile}"
    places["hidden tail"] = timeline_entry(tail, "tweet-2")
    wrapper = tweet_result("3", f"RT @someone: {hostile}")
    wrapper["legacy"]["retweeted_status_result"] = {"result": tweet_result("4", "a spider")}
    places["retweet wrapper"] = timeline_entry(wrapper, "tweet-3")
    quote: dict[str, Any] = tweet_result("10", f"deep quote {hostile}")
    for depth in range(9, 4, -1):  # quotes 5 levels deep: deeper than the adapter follows
        outer = tweet_result(str(depth), f"spider quote level {depth}")
        outer["quoted_status_result"] = {"result": quote}
        quote = outer
    places["quote deeper than 3"] = timeline_entry(quote, "tweet-5")
    visible = tweet_result("11", f"a spider {hostile}")
    places["full_text"] = timeline_entry(visible, "tweet-11")
    user = tweet_result("12", "a spider")
    user["core"] = {"user_results": {"result": {"legacy": {"description": hostile}}}}
    places["user description"] = timeline_entry(user, "tweet-12")
    return {name: x_timeline(entry) for name, entry in places.items()}


@pytest.mark.usefixtures("embedded")
@pytest.mark.parametrize("marker", JSON_SPELLINGS)
@pytest.mark.parametrize("place", list(x_places("__BLUR_START__")))
def test_an_x_timeline_spelling_a_marker_anywhere_never_carries_it(
    api_client: Any, place: str, marker: str
) -> None:
    body = x_places("@@MARKER@@")[place].replace("@@MARKER@@", marker)
    assert visible_start_markers("x", body) >= 1

    for user_id in users():
        assert_no_unwritten_marker("x", feed_answer(api_client, user_id, X_URL, body))


@pytest.mark.usefixtures("embedded")
def test_an_entity_encoded_marker_in_x_text_stays_harmless_text(api_client: Any) -> None:
    """X decodes only `&amp; &lt; &gt;` in full_text: `&#95;` stays literal there, and a
    marked tweet's own text is escaped, so the client's innerHTML cannot decode it either."""
    body = x_timeline(tweet("1", "spider &amp;#95;&amp;#95;BLUR_START__ &lt;b&gt;"))
    users()
    for user_id in ("nobody", "spider"):
        answer = feed_answer(api_client, user_id, X_URL, body)
        assert_no_unwritten_marker("x", answer)


# --- the server's own markers still work, and clean feeds stay byte-identical ----------------


@pytest.mark.usefixtures("embedded")
def test_the_servers_own_markers_survive_the_defang_pass(api_client: Any) -> None:
    filter_create(owner=user_get_or_create(user_id="blur"), filter_text="spiders", intensity=1)
    body = reddit_feed(shreddit_post("t3_a", "A spider &#95;&#95;BLUR_START__ here", "Legs"))

    answer = feed_answer(api_client, "blur", REDDIT_URL, body)

    returned = answer["feed"]["response"]
    assert visible_start_markers("reddit", returned) >= 1  # the server's rewrite
    assert any("__\u200bBLUR_START__" in text for text in page_texts("reddit", returned))
    assert injectable_texts("reddit", returned) == []


def real_capture_names() -> list[tuple[str, str]]:
    names = [("reddit", path.name) for path in sorted((REAL_CAPTURES / "reddit").glob("*.html"))]
    names += [("twitter", path.name) for path in sorted((REAL_CAPTURES / "twitter").glob("*"))]
    return names or [("reddit", "absent.html")]


@pytest.mark.parametrize(("folder", "name"), real_capture_names())
def test_a_real_capture_without_marker_text_comes_back_byte_identical(
    folder: str, name: str
) -> None:
    body = real_capture(folder, name)
    platform = "x" if folder == "twitter" else "reddit"

    assert body_markers_defang(platform, body) is body


@pytest.mark.usefixtures("embedded")
@pytest.mark.parametrize(("folder", "name"), real_capture_names())
def test_a_real_capture_with_a_marker_planted_in_its_text_carries_none(
    api_client: Any, folder: str, name: str
) -> None:
    body = real_capture(folder, name)
    users()
    if folder == "twitter":
        platform, url = "x", X_URL
        planted = re.sub(r'"full_text": ?"', r"\g<0>\\u005f_BLUR_START__<b>x</b> ", body, count=3)
        planted = re.sub(r'"text": ?"', r"\g<0>__REWRITE\\u005fSTART__<i> ", planted, count=3)
    else:
        platform, url = "reddit", REDDIT_URL
        planted = body.replace(
            'slot="title"', 'slot="title" data-x="&#95;_OVERLAY_START__">&#95;_BLUR_START__ '
            '&lt;img src=x onerror=alert(1)&gt;<span hidden', 3,
        )  # fmt: skip
        planted = planted.replace("<body", "&lowbar;_REWRITE_START__&lt;b&gt;<body", 1)
    if planted == body:
        pytest.skip("nowhere to plant a marker in this capture")
    assert visible_start_markers(platform, planted) >= 1

    for user_id in ("nobody", "spider"):
        answer = feed_answer(api_client, user_id, url, planted)
        assert injectable_texts(platform, answer["feed"]["response"]) == []
        if user_id == "nobody":
            assert visible_start_markers(platform, answer["feed"]["response"]) == 0


def test_json_escapes_that_are_themselves_escaped_are_not_markers() -> None:
    raw = json.dumps({"t": "\\u005f\\u005fBLUR_START__"})  # the text shows backslashes
    assert visible_start_markers("x", raw) == 0
    assert body_markers_defang("x", raw) == raw
