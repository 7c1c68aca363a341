"""Reading one tweet object of X's GraphQL JSON (CONTRACT.md section 3), defensively: any
field may be missing or of another type in hostile input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

from feed.platforms.base import MediaRef

TEXT_KEY = "full_text"
_MEDIA_LISTS = (("extended_entities", "media"), ("entities", "media"))

Json = dict[str, Any]


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


def tweet_id(tweet: Json) -> str:
    """The tweet's id, or "" when it has none (it then cannot be addressed by an edit)."""
    for value in (tweet.get("rest_id"), tweet["legacy"].get("id_str")):
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    return ""


def json_dicts(value: Any) -> list[Json]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def screen_name(tweet: Json) -> str:
    for section in ("core", "legacy"):  # newer responses moved it from `legacy` to `core`
        name = json_nested(tweet, "core", "user_results", "result", section, "screen_name")
        if isinstance(name, str):
            return name
    return ""


def json_nested(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def note_result(tweet: Json) -> Json | None:
    """The long-post ("note tweet") object whose `text` the page shows in full."""
    result = json_nested(tweet, "note_tweet", "note_tweet_results", "result")
    return result if isinstance(result, dict) and isinstance(result.get("text"), str) else None


def tweet_text_visible(tweet: Json) -> str:
    """What the reader sees: the whole note for long posts (X sends it unencoded), otherwise
    the displayed range of `full_text` with X's `&amp; &lt; &gt;` decoded."""
    note = note_result(tweet)
    if note is not None:
        return text_well_formed(note["text"])
    text = tweet["legacy"].get(TEXT_KEY)
    if not isinstance(text, str):
        return ""
    start, end = display_range(tweet["legacy"], len(text))
    return text_well_formed(entities_decode(text[start:end]))


def text_well_formed(text: str) -> str:
    """`text` with each lone surrogate (a `\\ud800` escape json decodes as is) replaced by
    U+FFFD, as a browser shows it. Analyzers, tokenizers and UTF-8 encoders refuse such text:
    left in, one bad tweet would fail the whole feed."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def display_range(legacy: Json, length: int) -> tuple[int, int]:
    """`display_text_range` (code points of the encoded text), clamped; the whole text if
    absent or malformed."""
    bounds = legacy.get("display_text_range")
    if is_index_pair(bounds):
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
    for entry in media_entries(tweet):
        url = entry.get("media_url_https")
        key = media_key(entry)
        if not isinstance(url, str) or not key or key in seen:
            continue
        seen.add(key)
        alt = entry.get("ext_alt_text")
        kind = entry["type"] if isinstance(entry.get("type"), str) else "photo"
        alt_text = text_well_formed(alt) if isinstance(alt, str) else ""
        media.append(MediaRef(key, url, alt_text, kind))
    return media


def media_key(entry: Json) -> str:
    """The media's id: the same photo is listed in both `extended_entities` and `entities`."""
    for name in ("id_str", "media_key", "media_url_https"):
        if isinstance(entry.get(name), str) and entry[name]:
            return entry[name]
    return ""


def media_entries(tweet: Json) -> Iterator[Json]:
    for section, name in _MEDIA_LISTS:
        holder = tweet["legacy"].get(section)
        if isinstance(holder, dict):
            yield from json_dicts(holder.get(name))


def is_index_pair(value: Any) -> TypeGuard[list[int]]:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(index, int) and not isinstance(index, bool) for index in value)
    )
