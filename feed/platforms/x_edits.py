"""Edits to one tweet object: marked text and image configs (CONTRACT.md sections 4, 5)."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

from feed.platforms.base import MediaEdit
from feed.platforms.x_tweets import (
    TEXT_KEY,
    Json,
    display_range,
    entities_decode,
    entities_encode,
    is_index_pair,
    json_dicts,
    media_entries,
    media_key,
    note_result,
)


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
    # The hidden prefix and tail now share a string with our markers: make them safe HTML too
    # (a no-op for the usual mentions and media links).
    prefix, tail = hidden_text_safe(text[:start]), hidden_text_safe(text[end:])
    legacy[TEXT_KEY] = prefix + encoded + tail
    new_start = len(prefix)
    new_end = new_start + len(encoded)
    if "display_text_range" in legacy:
        legacy["display_text_range"] = [new_start, new_end]

    def moved(index: int) -> int:
        if index <= start:
            return len(hidden_text_safe(text[:index]))
        return new_end + len(hidden_text_safe(text[end:index]))

    for section in ("entities", "extended_entities"):
        holder = legacy.get(section)
        if isinstance(holder, dict):
            for name, items in holder.items():
                if isinstance(items, list):
                    holder[name] = _entities_shift(
                        items, start, end, new_end, name == "media", moved
                    )


def hidden_text_safe(part: str) -> str:
    decoded = entities_decode(part)
    if not any(character in decoded for character in '&<>"'):
        return part
    return entities_encode(html.escape(decoded, quote=True))


def _entities_shift(
    items: list[Any],
    start: int,
    end: int,
    new_end: int,
    keep: bool,
    moved: Callable[[int], int],
) -> list[Any]:
    kept = []
    for item in items:
        indices = item.get("indices") if isinstance(item, dict) else None
        if not is_index_pair(indices):
            kept.append(item)
        elif indices[1] <= start or indices[0] >= end:
            item["indices"] = [moved(indices[0]), moved(indices[1])]
            kept.append(item)
        elif keep:
            item["indices"] = [new_end, new_end]
            kept.append(item)
    return kept


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
        for inline in json_dicts(media.get("inline_media")):
            if isinstance(inline.get("index"), int):
                inline["index"] = min(inline["index"], len(encoded))


def media_edits_by_post(
    media_edits: dict[tuple[str, str], MediaEdit],
) -> dict[str, dict[str, MediaEdit]]:
    grouped: dict[str, dict[str, MediaEdit]] = {}
    for (post_id, key), edit in media_edits.items():
        grouped.setdefault(post_id, {})[key] = edit
    return grouped


def tweet_media_edit(tweet: Json, edits: dict[str, MediaEdit]) -> bool:
    """Attach `diy_mod_config` to every listing of each edited media; swap the URL only when
    a result is ready (CONTRACT.md section 5)."""
    changed = False
    for entry in media_entries(tweet):
        edit = edits.get(media_key(entry))
        if edit is not None:
            entry["diy_mod_config"] = json.dumps(
                edit.config, ensure_ascii=False, separators=(",", ":")
            )
            if edit.swap_url:
                entry["media_url_https"] = edit.swap_url
            changed = True
    return changed
