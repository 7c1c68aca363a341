"""Platform adapters: a raw feed body in, posts out, the body back with edits spliced in.

What the posts look like (the keys edits are addressed with):
- reddit: kind "post" | "ad" | "comment"; id `t3_...` (comments: `t1_...`); text fields
  "title" and "body" (comments: "body"); media keys "media-0", "media-1"... of kind
  "image" | "gallery" | "poster"; meta author, permalink, subreddit, post_type (comments:
  post_id, depth), promoted for ads.
- x: kind "tweet" | "ad"; id = rest_id; one text field "full_text" (the whole note for long
  posts); media keys = the media `id_str`, kind photo | video | animated_gif; meta author,
  position ("timeline" | "module" | "quote"), promoted, retweeted_by / retweet_id, quoted_by.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from feed.platforms.base import FeedParseError, ParsedFeed
from feed.platforms.reddit import reddit_feed_parse
from feed.platforms.x import x_feed_parse

__all__ = ["FeedParseError", "ParsedFeed", "feed_parse", "platform_from_url"]

_PARSERS = {"reddit": reddit_feed_parse, "x": x_feed_parse}
_X_HOSTS = ("x.com", "twitter.com")


def feed_parse(platform: str, body: str) -> ParsedFeed:
    """Parse a feed body of `platform` ("reddit" or "x").

    Raises FeedParseError when the body is not that platform's document type (the caller then
    returns the feed unchanged); a well-formed page without posts parses to zero posts.
    """
    parser = _PARSERS.get(platform)
    if parser is None:
        raise FeedParseError(f"unsupported platform: {platform!r}")
    if not isinstance(body, str):
        raise FeedParseError("the feed body is not text")
    return parser(body)


def platform_from_url(url: str) -> str | None:
    """ "reddit" when the URL's host contains reddit.com, "x" for x.com / twitter.com and their
    subdomains, else None (CONTRACT.md section 2). Only the host counts: `evil.com/?x.com` is
    not X."""
    try:
        url = url.strip()
        parts = urlsplit(url if "//" in url else "//" + url)  # tolerate a missing scheme
        host = (parts.hostname or "").rstrip(".")
    except (AttributeError, ValueError):
        return None
    if "reddit.com" in host:
        return "reddit"
    if any(host == name or host.endswith("." + name) for name in _X_HOSTS):
        return "x"
    return None
