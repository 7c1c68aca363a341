"""X / Twitter (GraphQL JSON) adapter: CONTRACT.md sections 3, 4 and 5.

Tweets are found generically: every `instructions` list under `data` (home, search, user,
conversation timelines alike), every entry, pinned entry, replaced entry and module item.

What counts as a post (one `Post` per tweet id, edits reach every copy of that tweet):
- a timeline or module tweet is a post, promoted ones with kind "ad";
- a retweet is shown by the page as the original tweet, so the post is the original
  (`legacy.retweeted_status_result`), with `meta["retweeted_by"]`; the wrapper's own
  "RT @user: ..." text is never displayed and is left alone;
- a quoted tweet is displayed inside the quoting one and is moderated on its own, as a post
  with `meta["position"] == "quote"`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from feed.platforms.base import FeedParseError, MediaEdit, ParsedFeed, Post, TextField
from feed.platforms.x_edits import media_edits_by_post, tweet_media_edit, tweet_text_replace
from feed.platforms.x_tweets import (
    TEXT_KEY,
    Json,
    json_dicts,
    json_nested,
    screen_name,
    tweet_id,
    tweet_media,
    tweet_text_visible,
    tweet_unwrap,
)

logger = logging.getLogger(__name__)

_SEARCH_DEPTH = 8  # `instructions` sits 2-5 levels under `data` in every known timeline
_QUOTE_DEPTH = 3  # quotes of quotes: the page renders one level; a little slack, no more


class XFeed(ParsedFeed):
    def __init__(self, source: str, document: Json) -> None:
        self.source = source
        self._document: Json | None = document  # consumed by the first render with edits
        self.posts = _posts_build(document)

    def render(
        self,
        text_edits: dict[tuple[str, str], str],
        media_edits: dict[tuple[str, str], MediaEdit],
    ) -> str:
        if not text_edits and not media_edits:
            return self.source
        document, self._document = self._document, None
        if document is None:
            document = json.loads(self.source)
        copies = _tweet_copies(document)
        changed = False
        for (post_id, key), safe_html in text_edits.items():
            for tweet in copies.get(post_id, ()) if key == TEXT_KEY else ():
                changed |= tweet_text_replace(tweet, safe_html)
        for post_id, edits in media_edits_by_post(media_edits).items():
            for tweet in copies.get(post_id, ()):
                changed |= tweet_media_edit(tweet, edits)
        return _document_dump(document, self.source) if changed else self.source


def x_feed_parse(body: str) -> XFeed:
    """Every tweet of an X GraphQL timeline. Raises FeedParseError unless `body` is a JSON
    object; a JSON object without a timeline has zero posts."""
    try:
        document = json.loads(body)
    except (TypeError, ValueError, RecursionError) as error:
        raise FeedParseError(f"the X feed body is not JSON: {error}") from error
    if not isinstance(document, dict):
        raise FeedParseError("the X feed body is not a JSON object")
    return XFeed(body, document)


def _document_dump(document: Json, source: str) -> str:
    """Compact JSON like X sends. Should it fail, the feed goes back unmoderated (and logged)
    rather than broken: CONTRACT.md's golden rule."""
    try:
        dumped = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        try:
            dumped.encode("utf-8")  # a lone surrogate from a `\ud800` escape cannot go out raw
        except UnicodeEncodeError:
            dumped = json.dumps(document, separators=(",", ":"))
        return dumped
    except (RecursionError, ValueError):
        logger.warning("x feed: the edited timeline could not be serialised; sent unedited")
        return source


# --- finding tweets -------------------------------------------------------------------------


def timeline_instructions(document: Json) -> Iterator[Json]:
    """Every instruction of every timeline in the document, wherever the timeline lives."""
    level: list[Any] = [document]
    for _depth in range(_SEARCH_DEPTH):
        deeper: list[Any] = []
        for node in level:
            instructions = node.get("instructions")
            if isinstance(instructions, list):
                yield from (item for item in instructions if isinstance(item, dict))
                continue
            deeper.extend(value for value in node.values() if isinstance(value, dict))
        level = deeper


def _instruction_items(instruction: Json) -> Iterator[tuple[Json, str]]:
    """(itemContent, "timeline" | "module") for each item an instruction adds."""
    entries = json_dicts(instruction.get("entries"))
    if isinstance(instruction.get("entry"), dict):  # TimelinePinEntry, TimelineReplaceEntry
        entries.append(instruction["entry"])
    for entry in entries:
        content = entry.get("content")
        if not isinstance(content, dict):
            continue
        if isinstance(content.get("itemContent"), dict):
            yield content["itemContent"], "timeline"
        for item in json_dicts(content.get("items")):
            yield from _module_item(item)
    for item in json_dicts(instruction.get("moduleItems")):  # TimelineAddToModule
        yield from _module_item(item)


def _module_item(item: Json) -> Iterator[tuple[Json, str]]:
    inner = item.get("item")
    if isinstance(inner, dict) and isinstance(inner.get("itemContent"), dict):
        yield inner["itemContent"], "module"


def _result_tweet(holder: Any, key: str) -> Json | None:
    return tweet_unwrap(json_nested(holder, key, "result"))


def timeline_tweets(document: Json) -> Iterator[tuple[Json, Json, str, bool]]:
    """(tweet as displayed, tweet as listed, position, promoted) for each tweet shown."""
    for instruction in timeline_instructions(document):
        for item_content, position in _instruction_items(instruction):
            listed = _result_tweet(item_content, "tweet_results")
            if listed is None or not tweet_id(listed):
                continue
            original = _result_tweet(listed["legacy"], "retweeted_status_result")
            shown = original if original is not None and tweet_id(original) else listed
            # X marks an ad on the item, not on the tweet (CONTRACT.md section 3).
            yield shown, listed, position, "promotedMetadata" in item_content
            yield from _quoted_tweets(shown, _QUOTE_DEPTH)


def _quoted_tweets(tweet: Json, depth: int) -> Iterator[tuple[Json, Json, str, bool]]:
    quoted = _result_tweet(tweet, "quoted_status_result")
    if quoted is not None and tweet_id(quoted) and depth > 0:
        yield quoted, tweet, "quote", False
        yield from _quoted_tweets(quoted, depth - 1)


def _tweet_copies(document: Json) -> dict[str, list[Json]]:
    """Every tweet object shown, by id: the same tweet can be listed, retweeted and quoted."""
    copies: dict[str, list[Json]] = {}
    seen: set[int] = set()
    for shown, _listed, _position, _promoted in timeline_tweets(document):
        if id(shown) not in seen:
            seen.add(id(shown))
            copies.setdefault(tweet_id(shown), []).append(shown)
    return copies


# --- posts ----------------------------------------------------------------------------------


def _posts_build(document: Json) -> list[Post]:
    posts: dict[str, Post] = {}
    for shown, listed, position, promoted in timeline_tweets(document):
        post_id = tweet_id(shown)
        if post_id in posts:
            continue
        meta: dict[str, Any] = {"position": position, "author": screen_name(shown)}
        meta["promoted"] = promoted
        if position == "quote":
            meta["quoted_by"] = tweet_id(listed)
        elif listed is not shown:
            meta["retweeted_by"], meta["retweet_id"] = screen_name(listed), tweet_id(listed)
        text = tweet_text_visible(shown)
        fields = [TextField(TEXT_KEY, text)] if text else []
        kind = "ad" if promoted else "tweet"
        posts[post_id] = Post(post_id, "x", kind, fields, tweet_media(shown), meta)
    return list(posts.values())
