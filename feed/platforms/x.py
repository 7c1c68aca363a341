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
from typing import Any, TypeGuard

from feed.platforms.base import FeedParseError, MediaEdit, MediaRef, ParsedFeed, Post, TextField

logger = logging.getLogger(__name__)

TEXT_KEY = "full_text"
_SEARCH_DEPTH = 8  # `instructions` sits 2-5 levels under `data` in every known timeline
_QUOTE_DEPTH = 3  # quotes of quotes: the page renders one level; a little slack, no more
_MEDIA_LISTS = (("extended_entities", "media"), ("entities", "media"))

Json = dict[str, Any]


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
        for post_id, edits in _media_edits_by_post(media_edits).items():
            for tweet in copies.get(post_id, ()):
                changed |= _tweet_media_edit(tweet, edits)
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
    entries = _dicts(instruction.get("entries"))
    if isinstance(instruction.get("entry"), dict):  # TimelinePinEntry, TimelineReplaceEntry
        entries.append(instruction["entry"])
    for entry in entries:
        content = entry.get("content")
        if not isinstance(content, dict):
            continue
        if isinstance(content.get("itemContent"), dict):
            yield content["itemContent"], "timeline"
        for item in _dicts(content.get("items")):
            yield from _module_item(item)
    for item in _dicts(instruction.get("moduleItems")):  # TimelineAddToModule
        yield from _module_item(item)


def _module_item(item: Json) -> Iterator[tuple[Json, str]]:
    inner = item.get("item")
    if isinstance(inner, dict) and isinstance(inner.get("itemContent"), dict):
        yield inner["itemContent"], "module"


def tweet_unwrap(result: Any) -> Json | None:
    """The tweet object of a `tweet_results.result`, or None for tombstones and the like."""
    if (
        isinstance(result, dict)
        and "legacy" not in result
        and isinstance(result.get("tweet"), dict)
    ):
        result = result["tweet"]  # TweetWithVisibilityResults
    if isinstance(result, dict) and isinstance(result.get("legacy"), dict):
        return result
    return None


def _result_tweet(holder: Any, key: str) -> Json | None:
    return tweet_unwrap(_nested(holder, key, "result"))


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


def tweet_id(tweet: Json) -> str:
    """The tweet's id, or "" when it has none (it then cannot be addressed by an edit)."""
    for value in (tweet.get("rest_id"), tweet["legacy"].get("id_str")):
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    return ""


def _dicts(value: Any) -> list[Json]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


# --- posts ----------------------------------------------------------------------------------


def _posts_build(document: Json) -> list[Post]:
    posts: dict[str, Post] = {}
    for shown, listed, position, promoted in timeline_tweets(document):
        post_id = tweet_id(shown)
        if post_id in posts:
            continue
        meta: dict[str, Any] = {"position": position, "author": _screen_name(shown)}
        meta["promoted"] = promoted
        if position == "quote":
            meta["quoted_by"] = tweet_id(listed)
        elif listed is not shown:
            meta["retweeted_by"], meta["retweet_id"] = _screen_name(listed), tweet_id(listed)
        text = tweet_text_visible(shown)
        fields = [TextField(TEXT_KEY, text)] if text else []
        kind = "ad" if promoted else "tweet"
        posts[post_id] = Post(post_id, "x", kind, fields, tweet_media(shown), meta)
    return list(posts.values())


def _screen_name(tweet: Json) -> str:
    for section in ("core", "legacy"):  # newer responses moved it from `legacy` to `core`
        name = _nested(tweet, "core", "user_results", "result", section, "screen_name")
        if isinstance(name, str):
            return name
    return ""


def _nested(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def note_result(tweet: Json) -> Json | None:
    """The long-post ("note tweet") object whose `text` the page shows in full."""
    result = _nested(tweet, "note_tweet", "note_tweet_results", "result")
    return result if isinstance(result, dict) and isinstance(result.get("text"), str) else None


def tweet_text_visible(tweet: Json) -> str:
    """What the reader sees: the whole note for long posts (X sends it unencoded), otherwise
    the displayed range of `full_text` with X's `&amp; &lt; &gt;` decoded."""
    note = note_result(tweet)
    if note is not None:
        return note["text"]
    text = tweet["legacy"].get(TEXT_KEY)
    if not isinstance(text, str):
        return ""
    start, end = display_range(tweet["legacy"], len(text))
    return entities_decode(text[start:end])


def display_range(legacy: Json, length: int) -> tuple[int, int]:
    """`display_text_range` (code points of the encoded text), clamped; the whole text if
    absent or malformed."""
    bounds = legacy.get("display_text_range")
    if _is_index_pair(bounds):
        start = min(max(bounds[0], 0), length)
        return start, min(max(bounds[1], start), length)
    return 0, length


def entities_decode(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def entities_encode(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def tweet_media(tweet: Json) -> list[MediaRef]:
    media: list[MediaRef] = []
    seen: set[str] = set()
    for entry in _media_entries(tweet):
        url = entry.get("media_url_https")
        key = media_key(entry)
        if not isinstance(url, str) or not key or key in seen:
            continue
        seen.add(key)
        alt = entry.get("ext_alt_text")
        kind = entry["type"] if isinstance(entry.get("type"), str) else "photo"
        media.append(MediaRef(key, url, alt if isinstance(alt, str) else "", kind))
    return media


def media_key(entry: Json) -> str:
    """The media's id: the same photo is listed in both `extended_entities` and `entities`."""
    for name in ("id_str", "media_key", "media_url_https"):
        if isinstance(entry.get(name), str) and entry[name]:
            return entry[name]
    return ""


def _media_entries(tweet: Json) -> Iterator[Json]:
    for section, name in _MEDIA_LISTS:
        holder = tweet["legacy"].get(section)
        if isinstance(holder, dict):
            yield from _dicts(holder.get(name))


# --- edits ----------------------------------------------------------------------------------


def tweet_text_replace(tweet: Json, safe_html: str) -> bool:
    """Put the marked text in the tweet (CONTRACT.md section 4).

    The page decodes `&amp; &lt; &gt;` before showing `full_text`, so the safe HTML is encoded
    once more. The note text of a long post gets the same encoding: X sends it unencoded, but
    encoding can at worst show a literal `&amp;`, while not encoding could let a decoded `<`
    reach the extension's innerHTML.
    """
    changed = False
    legacy = tweet["legacy"]
    if isinstance(legacy.get(TEXT_KEY), str):
        _legacy_text_replace(legacy, entities_encode(safe_html))
        changed = True
    note = note_result(tweet)
    if note is not None:
        _note_text_replace(note, entities_encode(safe_html))
        changed = True
    return changed


def _legacy_text_replace(legacy: Json, encoded: str) -> None:
    """Replace the displayed range of `full_text`, keep the hidden prefix (reply mentions) and
    tail (media links), and keep entity indices consistent: an entity inside the replaced
    range would split the marked text into several DOM nodes, so it is dropped (a media
    entity is moved to the end of the range instead, its photo is still shown)."""
    text = legacy[TEXT_KEY]
    start, end = display_range(legacy, len(text))
    legacy[TEXT_KEY] = text[:start] + encoded + text[end:]
    new_end = start + len(encoded)
    if "display_text_range" in legacy:
        legacy["display_text_range"] = [start, new_end]
    for section in ("entities", "extended_entities"):
        holder = legacy.get(section)
        if isinstance(holder, dict):
            for name, items in holder.items():
                if isinstance(items, list):
                    holder[name] = _entities_shift(items, start, end, new_end, name == "media")


def _entities_shift(items: list[Any], start: int, end: int, new_end: int, keep: bool) -> list[Any]:
    kept = []
    for item in items:
        indices = item.get("indices") if isinstance(item, dict) else None
        if not _is_index_pair(indices):
            kept.append(item)
        elif indices[1] <= start:
            kept.append(item)
        elif indices[0] >= end:
            item["indices"] = [indices[0] + new_end - end, indices[1] + new_end - end]
            kept.append(item)
        elif keep:
            item["indices"] = [new_end, new_end]
            kept.append(item)
    return kept


def _is_index_pair(value: Any) -> TypeGuard[list[int]]:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(index, int) and not isinstance(index, bool) for index in value)
    )


def _note_text_replace(note: Json, encoded: str) -> None:
    """The whole note is replaced: its entities and rich-text spans would split the text."""
    note["text"] = encoded
    entity_set = note.get("entity_set")
    if isinstance(entity_set, dict):
        for name, items in entity_set.items():
            if isinstance(items, list):
                entity_set[name] = []
    richtext = note.get("richtext")
    if isinstance(richtext, dict) and isinstance(richtext.get("richtext_tags"), list):
        richtext["richtext_tags"] = []
    media = note.get("media")
    if isinstance(media, dict):
        for inline in _dicts(media.get("inline_media")):
            if isinstance(inline.get("index"), int):
                inline["index"] = min(inline["index"], len(encoded))


def _media_edits_by_post(
    media_edits: dict[tuple[str, str], MediaEdit],
) -> dict[str, dict[str, MediaEdit]]:
    grouped: dict[str, dict[str, MediaEdit]] = {}
    for (post_id, key), edit in media_edits.items():
        grouped.setdefault(post_id, {})[key] = edit
    return grouped


def _tweet_media_edit(tweet: Json, edits: dict[str, MediaEdit]) -> bool:
    """Attach `diy_mod_config` to every listing of each edited media; swap the URL only when
    a result is ready (CONTRACT.md section 5)."""
    changed = False
    for entry in _media_entries(tweet):
        edit = edits.get(media_key(entry))
        if edit is not None:
            entry["diy_mod_config"] = json.dumps(
                edit.config, ensure_ascii=False, separators=(",", ":")
            )
            if edit.swap_url:
                entry["media_url_https"] = edit.swap_url
            changed = True
    return changed
