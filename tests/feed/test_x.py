"""The X (GraphQL JSON) adapter: finding tweets in every timeline shape, editing, hostile input."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed.platforms import FeedParseError, feed_parse
from feed.platforms.base import MediaEdit
from feed.platforms.x import timeline_tweets
from tests.support.captures import real_capture

FIXTURES = Path(__file__).resolve().parent / "fixtures"
HOME_1 = "HomeTimeline_for-you_33tweets_7promoted_mass-block-twitter-1.json"
HOME_2 = "HomeTimeline_for-you_29tweets_6promoted_mass-block-twitter-2.json"
HOME_3 = "HomeTimeline_for-you_34tweets_9promoted_mass-block-twitter-3.json"
SEARCH_VIDEOS = "SearchTimeline_20tweets_videos-galleries_mass-block-twitter.json"
SEARCH_PHOTOS = "SearchTimeline_20tweets_photos-galleries_twscrape.json"
USER_TWEETS = "UserTweets_19tweets_16retweets_twscrape.json"
TWEET_DETAIL = "TweetDetail_conversation_37tweets_gif-video_twscrape.json"
SAFE_MARKED = "Tom &amp; Jerry &lt;3 __BLUR_START__&lt;script&gt;__BLUR_END__"
DEFERRED = {"type": "cartoonish", "status": "DEFERRED", "filters": ["spiders"]}


def real(name: str) -> str:
    return real_capture("twitter", name)


def small() -> str:
    return (FIXTURES / "x_small_home_timeline.json").read_text()


def post_by_id(feed, post_id):
    return next(post for post in feed.posts if post.id == post_id)


def tweet_in(document: dict, tweet_id: str) -> dict:
    """The first tweet object with this rest_id, found by a plain walk of the document."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("rest_id") == tweet_id and "legacy" in node:
                return node
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
    raise AssertionError(f"tweet {tweet_id} not found")


def key_paths(node, prefix=()) -> set[tuple]:
    paths = set()
    if isinstance(node, dict):
        for key, value in node.items():
            paths.add((*prefix, key))
            paths |= key_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            paths |= key_paths(value, (*prefix, index))
    return paths


# --- the real captures ----------------------------------------------------------------------

# SOURCES.md counts every top-level and module `tweet_results.result`.
LISTED = {
    HOME_1: {"timeline": 33, "module": 4},
    HOME_2: {"timeline": 29, "module": 10},
    HOME_3: {"timeline": 34},
    SEARCH_VIDEOS: {"timeline": 20},
    SEARCH_PHOTOS: {"timeline": 20},
    USER_TWEETS: {"timeline": 19, "module": 2},
    TWEET_DETAIL: {"timeline": 1, "module": 36},
}
# One post per distinct tweet shown: listed tweets (retweets replaced by their original)
# plus the quoted tweets, de-duplicated by id.
DISTINCT_POSTS = {
    HOME_1: 44, HOME_2: 50, HOME_3: 46, SEARCH_VIDEOS: 21, SEARCH_PHOTOS: 25,
    USER_TWEETS: 25, TWEET_DETAIL: 37,
}  # fmt: skip
ADS = {HOME_1: 7, HOME_2: 6, HOME_3: 9}


@pytest.mark.parametrize("name", list(LISTED))
def test_every_listed_tweet_is_found_where_the_timeline_lives(name: str) -> None:
    rows = timeline_tweets(json.loads(real(name)))
    counts = Counter(position for _shown, _listed, position, _ad in rows if position != "quote")
    assert counts == LISTED[name]


@pytest.mark.parametrize("name", list(LISTED))
def test_posts_are_the_distinct_tweets_shown(name: str) -> None:
    body = real(name)
    feed = feed_parse("x", body)
    assert len(feed.posts) == DISTINCT_POSTS[name]
    assert len({post.id for post in feed.posts}) == len(feed.posts)
    assert sum(post.kind == "ad" for post in feed.posts) == ADS.get(name, 0)
    assert all(post.meta["promoted"] == (post.kind == "ad") for post in feed.posts)
    # Every rest_id-bearing tweet object in the body that the page shows is a post: the only
    # tweets left out are retweet wrappers, whose own "RT @..." text the page never displays.
    wrappers = {post.meta["retweet_id"] for post in feed.posts if "retweet_id" in post.meta}
    assert not wrappers & {post.id for post in feed.posts}


def test_user_tweets_retweets_become_their_originals() -> None:
    body = real(USER_TWEETS)
    rows = timeline_tweets(json.loads(body))
    retweets = [row for row in rows if row[0] is not row[1] and row[2] != "quote"]
    assert len(retweets) == 16 == body.count('"retweeted_status_result"')
    feed = feed_parse("x", body)
    retweeted = [post for post in feed.posts if "retweeted_by" in post.meta]
    assert len(retweeted) == 14  # two originals were retweeted twice or also listed
    assert not any(post.text.startswith("RT @") for post in feed.posts)
    post = post_by_id(feed, "2082641493324337409")
    assert post.meta["retweeted_by"] == "XDevelopers"
    assert post.text.startswith("ladies & gentlemen, we have officially l")


def visibility_wrapped_ids(node) -> list[str]:
    found = []
    if isinstance(node, dict):
        if node.get("__typename") == "TweetWithVisibilityResults":
            found.append(node["tweet"]["rest_id"])
        for value in node.values():
            found += visibility_wrapped_ids(value)
    elif isinstance(node, list):
        for value in node:
            found += visibility_wrapped_ids(value)
    return found


@pytest.mark.parametrize(("name", "wrapped"), [(HOME_1, 3), (HOME_3, 6)])
def test_visibility_wrapped_tweets_are_posts_with_their_text(name: str, wrapped: int) -> None:
    body = real(name)
    feed = feed_parse("x", body)
    ids = visibility_wrapped_ids(json.loads(body))
    assert len(set(ids)) >= wrapped
    for tweet_id in ids:
        assert post_by_id(feed, tweet_id).fields


def test_named_tweets_have_their_visible_text() -> None:
    feed = feed_parse("x", real(USER_TWEETS))
    texts = [post.text for post in feed.posts]
    assert any(text.startswith("X Chat API & Chat XDK are live!") for text in texts)
    assert not any("&amp;" in text or "&lt;" in text or "&gt;" in text for text in texts)


def test_long_posts_use_the_whole_note_text() -> None:
    body = real(HOME_1)
    document = json.loads(body)
    feed = feed_parse("x", body)
    notes = [post for post in feed.posts if "note_tweet" in tweet_in(document, post.id)]
    assert len(notes) >= 2
    for post in notes:
        tweet = tweet_in(document, post.id)
        assert post.text == tweet["note_tweet"]["note_tweet_results"]["result"]["text"]
    assert any(
        len(post.text) > len(tweet_in(document, post.id)["legacy"]["full_text"]) for post in notes
    )


def test_photos_are_collected_once_each() -> None:
    feed = feed_parse("x", real(SEARCH_PHOTOS))
    listed = [post for post in feed.posts if post.meta["position"] != "quote"]
    photos = [ref for post in listed for ref in post.media if ref.kind == "photo"]
    assert len(photos) == 25
    assert sum(1 for post in listed if sum(ref.kind == "photo" for ref in post.media) > 1) == 7
    assert all(ref.url.startswith("https://pbs.twimg.com/") for ref in photos)
    for post in feed.posts:
        assert len({ref.key for ref in post.media}) == len(post.media)


def test_gif_and_video_in_a_conversation_are_media() -> None:
    feed = feed_parse("x", real(TWEET_DETAIL))
    kinds = Counter(ref.kind for post in feed.posts for ref in post.media)
    assert kinds == {"animated_gif": 1, "video": 1}


@pytest.mark.parametrize("name", list(LISTED))
def test_real_timeline_without_edits_comes_back_as_the_same_string(name: str) -> None:
    body = real(name)
    assert feed_parse("x", body).render({}, {}) is body


@pytest.mark.parametrize("name", [HOME_2, SEARCH_PHOTOS, USER_TWEETS])
def test_edited_real_timeline_keeps_every_key_and_every_post(name: str) -> None:
    body = real(name)
    feed = feed_parse("x", body)
    text_edits = {
        (post.id, field.key): SAFE_MARKED for post in feed.posts for field in post.fields
    }
    media_edits = {
        (post.id, ref.key): MediaEdit(DEFERRED) for post in feed.posts for ref in post.media
    }
    out = feed.render(text_edits, media_edits)
    before, after = json.loads(body), json.loads(out)
    for path in key_paths(before) - key_paths(after):
        assert entity_item_path(path), path  # only entities inside the replaced text may go
    again = feed_parse("x", out)
    assert [post.id for post in again.posts] == [post.id for post in feed.posts]
    for post in again.posts:
        if post.fields and "note_tweet" not in tweet_in(after, post.id):
            assert post.text == SAFE_MARKED


ENTITY_LISTS = {"urls", "user_mentions", "hashtags", "symbols", "timestamps", "richtext_tags"}


def entity_item_path(path: tuple) -> bool:
    return any(
        isinstance(step, int) and index > 0 and path[index - 1] in ENTITY_LISTS
        for index, step in enumerate(path)
    )


def test_untouched_tweets_are_unchanged_in_an_edited_timeline() -> None:
    body = real(HOME_3)
    feed = feed_parse("x", body)
    target = next(post for post in feed.posts if post.meta["position"] == "timeline")
    out = feed.render({(target.id, "full_text"): "__BLUR_START__x__BLUR_END__"}, {})
    before, after = json.loads(body), json.loads(out)
    for post in feed.posts:
        if post.id != target.id and post.meta.get("quoted_by") != target.id:
            assert tweet_in(after, post.id) == tweet_in(before, post.id)


# --- the small hand-written timeline --------------------------------------------------------


def test_small_timeline_finds_every_shape() -> None:
    feed = feed_parse("x", small())
    summary = [(post.id, post.kind, post.meta["position"]) for post in feed.posts]
    assert summary == [
        ("112", "tweet", "timeline"),  # pinned
        ("101", "tweet", "timeline"),
        ("102", "tweet", "timeline"),
        ("103", "ad", "timeline"),
        ("104", "tweet", "timeline"),  # TweetWithVisibilityResults
        ("106", "tweet", "timeline"),  # the original of retweet 105
        ("107", "tweet", "timeline"),
        ("108", "tweet", "quote"),
        ("109", "tweet", "timeline"),  # note tweet
        ("110", "tweet", "module"),
        ("111", "tweet", "module"),
    ]  # 113 is a tombstone: nothing to show, nothing to moderate
    assert post_by_id(feed, "106").meta["retweeted_by"] == "retweeter"
    assert post_by_id(feed, "108").meta["quoted_by"] == "107"
    assert post_by_id(feed, "103").meta["promoted"] is True


def test_visible_text_is_decoded_and_limited_to_the_displayed_range() -> None:
    feed = feed_parse("x", small())
    assert post_by_id(feed, "101").text == "Tom & Jerry <3 <script> see https://t.co/Link"
    assert post_by_id(feed, "102").text == "I agree & more"  # the reply's @mention is hidden
    assert post_by_id(feed, "109").text == "A long post with a < b & c > d that goes on and on"


def test_media_are_deduplicated_across_entities_and_extended_entities() -> None:
    post = post_by_id(feed_parse("x", small()), "101")
    assert [(ref.key, ref.url, ref.alt, ref.kind) for ref in post.media] == [
        ("9001", "https://pbs.twimg.com/media/spider.jpg", "A big spider", "photo"),
        ("9002", "https://pbs.twimg.com/media/second.jpg", "", "photo"),
    ]


def test_marked_full_text_is_encoded_once_more_and_fully_displayed() -> None:
    feed = feed_parse("x", small())
    out = feed.render({("101", "full_text"): SAFE_MARKED}, {})
    legacy = tweet_in(json.loads(out), "101")["legacy"]
    marked = "Tom &amp;amp; Jerry &amp;lt;3 __BLUR_START__&amp;lt;script&amp;gt;__BLUR_END__"
    assert legacy["full_text"] == marked + " https://t.co/PhotoLink"
    assert legacy["display_text_range"] == [0, len(marked)]
    assert legacy["entities"]["urls"] == []  # it sat inside the marked text
    for section in ("entities", "extended_entities"):
        for media in legacy[section]["media"]:
            start, end = media["indices"]
            assert legacy["full_text"][start:end] == "https://t.co/PhotoLink"


def test_reply_keeps_its_hidden_mention_prefix() -> None:
    out = feed_parse("x", small()).render(
        {("102", "full_text"): "__BLUR_START__I agree__BLUR_END__ &amp; more"}, {}
    )
    legacy = tweet_in(json.loads(out), "102")["legacy"]
    assert legacy["full_text"] == "@spiderfan __BLUR_START__I agree__BLUR_END__ &amp;amp; more"
    start, end = legacy["display_text_range"]
    assert legacy["full_text"][start:end] == "__BLUR_START__I agree__BLUR_END__ &amp;amp; more"
    assert legacy["entities"]["user_mentions"][0]["indices"] == [0, 10]


def test_marked_note_tweet_replaces_note_text_and_drops_its_spans() -> None:
    out = feed_parse("x", small()).render(
        {("109", "full_text"): "__OVERLAY_START__Careful|a &lt; b__OVERLAY_END__"}, {}
    )
    tweet = tweet_in(json.loads(out), "109")
    note = tweet["note_tweet"]["note_tweet_results"]["result"]
    assert note["text"] == "__OVERLAY_START__Careful|a &amp;lt; b__OVERLAY_END__"
    assert tweet["legacy"]["full_text"] == note["text"]
    assert note["entity_set"]["user_mentions"] == [] and note["richtext"]["richtext_tags"] == []


def test_a_retweet_edit_reaches_the_original_and_leaves_the_wrapper() -> None:
    out = feed_parse("x", small()).render({("106", "full_text"): "hidden"}, {})
    wrapper = tweet_in(json.loads(out), "105")
    assert wrapper["legacy"]["full_text"] == "RT @original: The original words"
    assert (
        wrapper["legacy"]["retweeted_status_result"]["result"]["legacy"]["full_text"] == "hidden"
    )


def test_media_edit_adds_config_everywhere_and_swaps_only_when_ready() -> None:
    feed = feed_parse("x", small())
    out = feed.render({}, {("101", "9001"): MediaEdit(DEFERRED)})
    legacy = tweet_in(json.loads(out), "101")["legacy"]
    first = [legacy["extended_entities"]["media"][0], legacy["entities"]["media"][0]]
    assert all(json.loads(media["diy_mod_config"]) == DEFERRED for media in first)
    assert all(
        media["media_url_https"] == "https://pbs.twimg.com/media/spider.jpg" for media in first
    )
    assert "diy_mod_config" not in legacy["extended_entities"]["media"][1]
    ready = {
        "type": "cartoonish",
        "status": "COMPLETED",
        "processedUrl": "https://diy.example/r.png",
    }
    out = feed.render(
        {}, {("101", "9001"): MediaEdit(ready, swap_url="https://diy.example/r.png")}
    )
    legacy = tweet_in(json.loads(out), "101")["legacy"]
    assert legacy["entities"]["media"][0]["media_url_https"] == "https://diy.example/r.png"
    assert (
        legacy["extended_entities"]["media"][0]["media_url_https"] == "https://diy.example/r.png"
    )


def test_rendering_twice_starts_from_the_original_each_time() -> None:
    feed = feed_parse("x", small())
    feed.render({("101", "full_text"): "first"}, {})
    out = feed.render({("102", "full_text"): "second"}, {})
    document = json.loads(out)
    assert tweet_in(document, "101")["legacy"]["full_text"].startswith("Tom &amp; Jerry")


def test_edits_for_unknown_tweets_leave_the_body_as_is() -> None:
    body = small()
    feed = feed_parse("x", body)
    assert feed.render({("999", "full_text"): "x"}, {("101", "nope"): MediaEdit(DEFERRED)}) is body


def test_output_is_compact_json_with_unicode_kept() -> None:
    tweet = {"rest_id": "1", "legacy": {"full_text": "café 🕷", "id_str": "1"}}
    entry = {
        "entryId": "tweet-1",
        "content": {"itemContent": {"tweet_results": {"result": tweet}}},
    }
    instructions = [{"type": "TimelineAddEntries", "entries": [entry]}]
    body = json.dumps({"data": {"timeline": {"instructions": instructions}}})
    out = feed_parse("x", body).render(
        {("1", "full_text"): "café __BLUR_START__🕷__BLUR_END__"}, {}
    )
    assert "café __BLUR_START__🕷__BLUR_END__" in out and ", " not in out


def test_bodies_that_are_not_json_objects_are_refused() -> None:
    for body in (
        "",
        "not json",
        "<html></html>",
        "[1, 2]",
        '"text"',
        "null",
        "{",
        '{"a": 1e999999',
    ):
        with pytest.raises(FeedParseError):
            feed_parse("x", body)


def test_a_json_object_without_a_timeline_has_zero_posts() -> None:
    assert feed_parse("x", '{"errors": [{"message": "Rate limit exceeded"}]}').posts == []
    assert feed_parse("x", "{}").posts == []


def test_very_deep_json_is_refused_or_parsed_without_crashing() -> None:
    body = '{"a":' * 100_000 + "1" + "}" * 100_000
    try:
        feed = feed_parse("x", body)
    except FeedParseError:
        return
    assert feed.posts == []


# --- hostile input --------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def all_paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from all_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from all_paths(value, (*prefix, index))


SMALL_PATHS = None


def small_paths() -> list[tuple]:
    global SMALL_PATHS
    if SMALL_PATHS is None:
        SMALL_PATHS = [path for path in all_paths(json.loads(small())) if path]
    return SMALL_PATHS


def hostile_render(body: str) -> None:
    try:
        feed = feed_parse("x", body)
    except FeedParseError:
        return
    assert feed.render({}, {}) is body
    text_edits = {(post.id, field.key): "<b>&</b>" for post in feed.posts for field in post.fields}
    media_edits = {
        (post.id, ref.key): MediaEdit(DEFERRED) for post in feed.posts for ref in post.media
    }
    json.loads(feed.render(text_edits, media_edits))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_timeline_with_any_subtree_replaced_never_crashes(data) -> None:
    document = json.loads(small())
    path = data.draw(st.sampled_from(small_paths()))
    node = document
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = data.draw(JSON_VALUES)
    hostile_render(json.dumps(document))


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_a_truncated_timeline_is_refused_cleanly(cut: int) -> None:
    body = small()
    hostile_render(body[: cut % len(body)])


@settings(max_examples=100, deadline=None)
@given(st.text() | JSON_VALUES.map(json.dumps))
def test_any_text_parses_or_is_refused_cleanly(body: str) -> None:
    hostile_render(body)


def test_lone_surrogates_in_the_input_still_render_as_sendable_text() -> None:
    document = json.loads(small())
    tweet_in(document, "110")["legacy"]["full_text"] = "\ud83d broken"
    body = json.dumps(document)  # ASCII-escaped, as X sends it
    out = feed_parse("x", body).render({("111", "full_text"): "marked"}, {})
    out.encode("utf-8")
    assert tweet_in(json.loads(out), "110")["legacy"]["full_text"] == "\ud83d broken"


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_set_of_text_edits_reads_back_and_leaves_other_tweets_alone(data) -> None:
    feed = feed_parse("x", small())
    ids = [post.id for post in feed.posts if post.fields]
    chosen = data.draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids)))
    edits = {
        (post_id, "full_text"): data.draw(st.text(min_size=1, max_size=30)) for post_id in chosen
    }
    out = feed.render(edits, {})
    again = feed_parse("x", out)
    assert [post.id for post in again.posts] == [post.id for post in feed.posts]
    notes = {"109"}  # the note text is encoded once more, like full_text (see x_edits)
    for before, after in zip(feed.posts, again.posts, strict=True):
        expected = edits.get((before.id, "full_text"))
        if expected is None:
            assert after == before
        elif before.id in notes:
            assert after.text == expected.replace("&", "&amp;").replace("<", "&lt;").replace(
                ">", "&gt;"
            )
        else:
            assert after.text == expected
