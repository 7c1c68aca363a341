"""Which adapter a feed URL selects (CONTRACT.md section 2), and how unknown platforms fail."""

from __future__ import annotations

import pytest

from feed.platforms import FeedParseError, feed_parse, platform_from_url


@pytest.mark.parametrize(
    ("url", "platform"),
    [
        ("https://www.reddit.com/svc/shreddit/feeds/home-feed?after=dDNf", "reddit"),
        ("https://reddit.com/r/cats/", "reddit"),
        ("https://old.reddit.com/r/cats/.json", "reddit"),
        ("https://WWW.REDDIT.COM/svc/shreddit/community-more-posts/best/", "reddit"),
        ("www.reddit.com/r/pics", "reddit"),
        ("https://x.com/i/api/graphql/abc/HomeTimeline?variables=%7B%7D", "x"),
        ("https://twitter.com/i/api/graphql/abc/SearchTimeline", "x"),
        ("https://api.x.com/graphql/abc/TweetDetail", "x"),
        ("https://mobile.twitter.com/home", "x"),
        ("https://x.com:443/i/api/graphql/abc/UserTweets", "x"),
        ("https://X.com./i/api/graphql/abc/HomeLatestTimeline", "x"),
    ],
)
def test_feed_urls_select_their_platform(url: str, platform: str) -> None:
    assert platform_from_url(url) == platform


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.com/?x.com",
        "https://evil.com/x.com/i/api/graphql/abc/HomeTimeline",
        "https://evil.com/#twitter.com",
        "https://box.com/feed",
        "https://notx.com/feed",
        "https://x.com.evil.net/feed",
        "https://twitter.community/feed",
        "https://user@evil.com/reddit",
        "https://example.com/?u=https://www.reddit.com/",
        "",
        "not a url",
        "https://[::1/feed",
    ],
)
def test_other_urls_select_no_platform(url: str) -> None:
    assert platform_from_url(url) is None


def test_userinfo_does_not_fool_the_host_check() -> None:
    assert platform_from_url("https://x.com@evil.com/i/api/graphql/abc/HomeTimeline") is None
    assert platform_from_url("https://evil.com@x.com/i/api/graphql/abc/HomeTimeline") == "x"


def test_an_unknown_platform_is_a_parse_error() -> None:
    with pytest.raises(FeedParseError):
        feed_parse("mastodon", "<html></html>")


def test_each_platform_gets_its_own_parser() -> None:
    assert feed_parse("reddit", "<shreddit-post id='t3_a'></shreddit-post>").posts[0].id == "t3_a"
    with pytest.raises(FeedParseError):
        feed_parse("x", "<shreddit-post id='t3_a'></shreddit-post>")
