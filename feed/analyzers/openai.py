"""The OpenAI analyzer: many posts per structured-output request, never one request per post.

`analyze()` sends the posts in chunks of CHUNK_SIZE (concurrently, one thread per chunk), each
chunk ONE chat request whose JSON schema asks, per post id, for the matching filter ids, a
confidence and the exact passages. Posts with images, when an image/all filter exists, bring
their image URLs as `image_url` parts of the same request (vision model). The answer is
validated: unknown post or filter ids are dropped, passages that are not verbatim substrings of
the post are dropped. `rewrite()` makes a second batched request, only for the posts that need a
rewrite or a warning.

Everything runs against a deadline (DIYMOD_FEED_DEADLINE_SECONDS, less a reserve for the local
fallback); any failure raises AnalyzerError, which `FallbackAnalyzer` turns into the embedded
analyzer's answer marked degraded.
"""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings

from diymod.openai_client import ModelError, ModelReply, chat_json_reply
from feed.analyzers.base import (
    Analysis,
    Analyzer,
    AnalyzerError,
    FilterSpec,
    Match,
    PostInput,
    Rewrite,
    RewriteRequest,
    Rewrites,
)
from feed.analyzers.deadline import feed_deadline_get
from feed.wording import warning_clean

CHUNK_SIZE = 25
MAX_PARALLEL_CHUNKS = 4
# Time kept back from the feed deadline for the local fallback and the rendering.
FALLBACK_RESERVE_SECONDS = 1.5
MINIMUM_MODEL_SECONDS = 0.5
# analyze() then rewrite() run one after the other inside one feed's deadline.
ANALYZE_SHARE = 0.65
REWRITE_SHARE = 0.35
MIN_CONFIDENCE = 0.5
MAX_POST_CHARS = 2500  # a post's text as sent; passages must still be found in the full text
MAX_IMAGES_PER_POST = 2
MAX_IMAGES_PER_REQUEST = 30

ANALYZE_INSTRUCTIONS = """You moderate a social media feed for one person.
They listed filters: topics they do not want to see. For each post decide which filters it
matches. A post matches a filter when it is actually about that topic, including paraphrases
and indirect references (a post about a tarantula matches "spiders"). A word used in another
sense does not match (Spider-Man does not match "spiders"; severance pay does not match a TV
show called Severance).
Filters with applies_to "text" concern only the post's text, "image" only its images (judge
them from the attached images and their alt text), "all" both.
For each matching filter give: filter_id, confidence (0 to 1), passages (the shortest exact
sentences or phrases copied VERBATIM from the post text that carry the topic; empty when only
the images match), in_text (the text matches), in_image (the images match).
Return every post id you were given; posts that match nothing get an empty matches list."""

REWRITE_INSTRUCTIONS = """You rewrite parts of social media posts for a person who asked not
to see some topics. For each post you get its text, the passages to replace and the topics.
For each passage write a short neutral replacement that keeps the post readable without the
topic (no details of it). Also write a short, calm warning for a click-to-reveal card; it must
NOT name or hint at the topic (e.g. "You asked not to see some of this"), and must not contain
the characters | < > or double quotes. Copy each passage exactly as given."""


def _strict_object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


ANALYZE_SCHEMA = _strict_object(
    {
        "posts": {
            "type": "array",
            "items": _strict_object(
                {
                    "id": {"type": "string"},
                    "matches": {
                        "type": "array",
                        "items": _strict_object(
                            {
                                "filter_id": {"type": "integer"},
                                "confidence": {"type": "number"},
                                "passages": {"type": "array", "items": {"type": "string"}},
                                "in_text": {"type": "boolean"},
                                "in_image": {"type": "boolean"},
                            }
                        ),
                    },
                }
            ),
        }
    }
)

REWRITE_SCHEMA = _strict_object(
    {
        "posts": {
            "type": "array",
            "items": _strict_object(
                {
                    "id": {"type": "string"},
                    "warning": {"type": "string"},
                    "replacements": {
                        "type": "array",
                        "items": _strict_object(
                            {"passage": {"type": "string"}, "replacement": {"type": "string"}}
                        ),
                    },
                }
            ),
        }
    }
)


class ChunkFailed(AnalyzerError):
    def __init__(self, message: str, *, model_calls: int = 0) -> None:
        super().__init__(message)
        self.model_calls = model_calls


class OpenAIAnalyzer(Analyzer):
    def __init__(self, *, model: str | None = None, vision_model: str | None = None) -> None:
        self.model = model or settings.DIYMOD_OPENAI_MODEL
        self.vision_model = vision_model or settings.DIYMOD_OPENAI_VISION_MODEL
        self.version = f"openai-{self.model}-{self.vision_model}-1"

    # -- analysis ----------------------------------------------------------------------------
    def analyze(self, posts: list[PostInput], filters: list[FilterSpec]) -> Analysis:
        if not posts or not filters:
            return Analysis(matches={})
        deadline = model_deadline(ANALYZE_SHARE)
        chunks = [posts[i : i + CHUNK_SIZE] for i in range(0, len(posts), CHUNK_SIZE)]
        replies = _run_chunks(
            [lambda chunk=chunk: self._analyze_chunk(chunk, filters, deadline) for chunk in chunks]
        )
        analysis = Analysis(matches={}, model_calls=sum(calls for _, calls in replies))
        for chunk, (reply, _) in zip(chunks, replies, strict=True):
            analysis.matches.update(analysis_validate(reply, chunk, filters))
        return analysis

    def _analyze_chunk(
        self, chunk: list[PostInput], filters: list[FilterSpec], deadline: float
    ) -> ModelReply:
        content, has_images = analyze_content(chunk, filters)
        return chat_json_reply(
            messages=[
                {"role": "system", "content": ANALYZE_INSTRUCTIONS},
                {"role": "user", "content": content},
            ],
            schema=ANALYZE_SCHEMA,
            schema_name="feed_matches",
            model=self.vision_model if has_images else self.model,
            deadline=deadline,
        )

    # -- rewriting ---------------------------------------------------------------------------
    def rewrite(self, requests: list[RewriteRequest]) -> dict[str, Rewrite]:
        if not requests:
            return {}
        deadline = model_deadline(REWRITE_SHARE)
        chunks = [requests[i : i + CHUNK_SIZE] for i in range(0, len(requests), CHUNK_SIZE)]
        replies = _run_chunks(
            [lambda chunk=chunk: self._rewrite_chunk(chunk, deadline) for chunk in chunks]
        )
        rewrites = Rewrites(model_calls=sum(calls for _, calls in replies))
        for chunk, (reply, _) in zip(chunks, replies, strict=True):
            rewrites.update(rewrites_validate(reply, chunk))
        return rewrites

    def _rewrite_chunk(self, chunk: list[RewriteRequest], deadline: float) -> ModelReply:
        payload = {
            "posts": [
                {
                    "id": request.post_id,
                    "text": request.text[:MAX_POST_CHARS],
                    "passages": list(request.passages),
                    "topics": list(request.filter_texts),
                }
                for request in chunk
            ]
        }
        return chat_json_reply(
            messages=[
                {"role": "system", "content": REWRITE_INSTRUCTIONS},
                {"role": "user", "content": json.dumps(payload, ensure_ascii=False)},
            ],
            schema=REWRITE_SCHEMA,
            schema_name="feed_rewrites",
            model=self.model,
            deadline=deadline,
        )


def model_deadline(share: float) -> float:
    """When this step's model work must be over: its share of the feed deadline less the
    fallback's reserve, and never past the enclosing `feed_deadline()` less that reserve."""
    budget = float(settings.DIYMOD_FEED_DEADLINE_SECONDS) - FALLBACK_RESERVE_SECONDS
    deadline = time.monotonic() + max(MINIMUM_MODEL_SECONDS, budget * share)
    outer = feed_deadline_get()
    if outer is not None:
        deadline = min(deadline, outer - FALLBACK_RESERVE_SECONDS)
    return deadline


def _run_chunks(calls: list[Any]) -> list[tuple[Any, int]]:
    """Run each chunk's call (concurrently when several); any failure fails them all."""
    if len(calls) == 1:
        return [_call_counted(calls[0])]
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_CHUNKS, len(calls))) as pool:
        futures = [pool.submit(_call_counted, call) for call in calls]
        results, failure, attempts = [], None, 0
        for future in futures:
            try:
                results.append(future.result())
                attempts += results[-1][1]
            except ChunkFailed as error:
                failure = failure or error
                attempts += error.model_calls
    if failure is not None:
        raise ChunkFailed(str(failure), model_calls=attempts)
    return results


def _call_counted(call: Any) -> tuple[Any, int]:
    try:
        reply = call()
    except ModelError as error:
        raise ChunkFailed(f"{error.reason}: {error}", model_calls=error.attempts) from error
    return reply.data, reply.attempts


def _filters_payload(filters: list[FilterSpec]) -> list[dict[str, Any]]:
    return [{"id": f.id, "topic": f.text, "applies_to": f.content_type} for f in filters]


def analyze_content(
    chunk: list[PostInput], filters: list[FilterSpec]
) -> tuple[list[dict[str, Any]], bool]:
    """The user message: the filters and posts as JSON, then the images of posts that have
    them (only when an image/all filter exists), each introduced by its post id."""
    wants_images = any(f.content_type in ("image", "all") for f in filters)
    posts = [
        {
            "id": post.id,
            "text": post.text[:MAX_POST_CHARS],
            "image_alt_texts": list(post.image_alts) if wants_images else [],
        }
        for post in chunk
    ]
    parts: list[dict[str, Any]] = [
        {
            "type": "text",
            "text": json.dumps(
                {"filters": _filters_payload(filters), "posts": posts}, ensure_ascii=False
            ),
        }
    ]
    images_left = MAX_IMAGES_PER_REQUEST if wants_images else 0
    for post in chunk:
        urls = [url for url in post.image_urls if url.startswith(("https://", "http://"))]
        urls = urls[: min(MAX_IMAGES_PER_POST, images_left)]
        if not urls:
            continue
        images_left -= len(urls)
        parts.append({"type": "text", "text": f"Images of post {post.id}:"})
        parts.extend({"type": "image_url", "image_url": {"url": u, "detail": "low"}} for u in urls)
    return parts, len(parts) > 1


def analysis_validate(
    reply: dict[str, Any], chunk: list[PostInput], filters: list[FilterSpec]
) -> dict[str, list[Match]]:
    """Keep only what the model may claim: known ids, verbatim passages, sensible flags."""
    posts = {post.id: post for post in chunk}
    specs = {spec.id: spec for spec in filters}
    matches: dict[str, list[Match]] = {}
    for item in _dicts(reply.get("posts")):
        post = posts.get(str(item.get("id")))
        if post is None:
            continue
        found = [
            match
            for raw in _dicts(item.get("matches"))
            if (match := _match_validate(raw, post, specs)) is not None
        ]
        unique = {match.filter_id: match for match in found}  # one match per filter
        if unique:
            matches[post.id] = list(unique.values())
    return matches


def _match_validate(
    raw: dict[str, Any], post: PostInput, specs: dict[int, FilterSpec]
) -> Match | None:
    filter_id = raw.get("filter_id")
    spec = specs.get(filter_id) if isinstance(filter_id, int) else None
    confidence = raw.get("confidence")
    if spec is None or not isinstance(confidence, int | float):
        return None
    confidence = min(1.0, max(0.0, float(confidence)))
    if confidence < MIN_CONFIDENCE:
        return None
    has_images = bool(post.image_urls or post.image_alts)
    on_text = bool(raw.get("in_text")) and spec.content_type in ("text", "all")
    on_image = bool(raw.get("in_image")) and has_images and spec.content_type in ("image", "all")
    if not on_text and not on_image:
        return None
    located = (
        passage_locate(post.text, passage)
        for passage in raw.get("passages") or []
        if isinstance(passage, str) and passage.strip()
    )
    passages = tuple(dict.fromkeys(passage for passage in located if passage))
    return Match(
        filter_id=spec.id,
        confidence=round(confidence, 3),
        passages=passages if on_text else (),
        on_text=on_text,
        on_image=on_image,
    )


def passage_locate(text: str, passage: str) -> str | None:
    """The passage as it stands in the text, or None when the model made it up.

    Models quote faithfully but tidy whitespace (a title and body joined by a newline come back
    joined by a space), so words separated by any whitespace still count as verbatim.
    """
    if passage in text:
        return passage
    words = passage.split()
    if not words:
        return None
    found = re.search(r"\s+".join(re.escape(word) for word in words), text)
    return found.group(0) if found else None


def rewrites_validate(reply: dict[str, Any], chunk: list[RewriteRequest]) -> dict[str, Rewrite]:
    requests = {request.post_id: request for request in chunk}
    rewrites = {}
    for item in _dicts(reply.get("posts")):
        request = requests.get(str(item.get("id")))
        if request is None:
            continue
        replacements = {
            located: " ".join(str(raw.get("replacement") or "").split())
            for raw in _dicts(item.get("replacements"))
            if isinstance(raw.get("passage"), str)
            and (located := passage_locate(request.text, raw["passage"]))
        }
        warning = warning_clean(str(item.get("warning") or ""), request.filter_texts)
        rewrites[request.post_id] = Rewrite(request.post_id, replacements, warning)
    return rewrites


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
