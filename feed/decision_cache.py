"""The decision cache: (post text hash, filters fingerprint, analyzer version) → matches.

Scrolling past the same post again costs no model call (DESIGN.md). Entries name filters by
their text and content type rather than id, so users with the same filter share decisions.
A cache outage is tolerated: every lookup is then a miss, and the failure is logged.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache

from feed.analyzers.base import FilterSpec, Match, PostInput, Rewrite, RewriteRequest

logger = logging.getLogger(__name__)


def digest_of(text: str) -> str:
    """sha256 of any text: a lone surrogate (a tweet's `\\ud800` escape, decoded by json) is
    hashed as it is, so one such post costs nothing; strict UTF-8 would fail the whole feed."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def filter_key(spec: FilterSpec) -> str:
    return f"{spec.content_type}\x1f{spec.text.strip().lower()}"


def filters_fingerprint(filters: list[FilterSpec]) -> str:
    joined = "\x1e".join(sorted({filter_key(spec) for spec in filters}))
    return digest_of(joined)[:24]


def post_hash(post: PostInput) -> str:
    parts = [post.text, *post.image_alts, *post.image_urls]
    if post.context:  # the same text in another community may be decided differently
        parts.append("\x1dcontext\x1d" + post.context)
    return digest_of("\x1e".join(parts))[:32]


def decision_cache_key(post: PostInput, fingerprint: str, version: str) -> str:
    return f"feed:decision:{version}:{fingerprint}:{post_hash(post)}"


def match_encode(match: Match, specs_by_id: dict[int, FilterSpec]) -> dict[str, Any]:
    return {
        "filter": filter_key(specs_by_id[match.filter_id]),
        "confidence": round(match.confidence, 4),
        "passages": list(match.passages),
        "on_text": match.on_text,
        "on_image": match.on_image,
    }


def match_decode(data: dict[str, Any], ids_by_key: dict[str, int]) -> Match | None:
    filter_id = ids_by_key.get(data["filter"])
    if filter_id is None:
        return None
    return Match(
        filter_id=filter_id,
        confidence=float(data["confidence"]),
        passages=tuple(data["passages"]),
        on_text=bool(data["on_text"]),
        on_image=bool(data["on_image"]),
    )


def matches_lookup(
    posts: list[PostInput], filters: list[FilterSpec], version: str
) -> dict[str, list[Match]]:
    """Cached matches for the posts found in the cache (posts with no entry are absent)."""
    fingerprint = filters_fingerprint(filters)
    # Several posts may share a text (reposts, ads): one key then answers for all of them.
    posts_by_key: dict[str, list[str]] = {}
    for post in posts:
        posts_by_key.setdefault(decision_cache_key(post, fingerprint, version), []).append(post.id)
    try:
        found = cache.get_many(list(posts_by_key))
    except Exception as error:
        logger.warning("decision cache unavailable, analysing everything: %s", error)
        return {}
    ids_by_key = {filter_key(spec): spec.id for spec in filters}
    matches: dict[str, list[Match]] = {}
    for key, entries in found.items():
        decoded = [match_decode(entry, ids_by_key) for entry in entries]
        for post_id in posts_by_key[key]:
            matches[post_id] = [match for match in decoded if match is not None]
    return matches


def matches_store(
    posts: list[PostInput],
    matches: dict[str, list[Match]],
    filters: list[FilterSpec],
    version: str,
) -> None:
    fingerprint = filters_fingerprint(filters)
    specs_by_id = {spec.id: spec for spec in filters}
    entries = {
        decision_cache_key(post, fingerprint, version): [
            match_encode(match, specs_by_id) for match in matches.get(post.id, [])
        ]
        for post in posts
    }
    try:
        cache.set_many(entries, timeout=settings.DIYMOD_FEED_CACHE_SECONDS)
    except Exception as error:
        logger.warning("decision cache unavailable, not storing: %s", error)


def rewrite_cache_key(request: RewriteRequest, version: str) -> str:
    parts = [request.text, *request.passages, "\x1d", *sorted(request.filter_texts)]
    digest = digest_of("\x1e".join(parts))[:32]
    return f"feed:rewrite:{version}:{digest}"


def rewrites_lookup(requests: list[RewriteRequest], version: str) -> dict[str, Rewrite]:
    """Cached warnings and rewrites: a post seen again costs no model call for them either."""
    posts_by_key: dict[str, list[str]] = {}
    for request in requests:
        posts_by_key.setdefault(rewrite_cache_key(request, version), []).append(request.post_id)
    try:
        found = cache.get_many(list(posts_by_key))
    except Exception as error:
        logger.warning("rewrite cache unavailable: %s", error)
        return {}
    return {
        post_id: Rewrite(post_id, dict(entry["replacements"]), entry["warning"])
        for key, entry in found.items()
        for post_id in posts_by_key[key]
    }


def rewrites_store(
    requests: list[RewriteRequest], rewrites: dict[str, Rewrite], version: str
) -> None:
    entries = {
        rewrite_cache_key(request, version): {
            "replacements": rewrites[request.post_id].replacements,
            "warning": rewrites[request.post_id].warning,
        }
        for request in requests
        if request.post_id in rewrites
    }
    try:
        cache.set_many(entries, timeout=settings.DIYMOD_FEED_CACHE_SECONDS)
    except Exception as error:
        logger.warning("rewrite cache unavailable, not storing: %s", error)
