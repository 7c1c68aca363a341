"""Moderating one feed: parse → the user's filters → match (cache first) → mark → render.

The one service behind `POST /get_feed` and the socket's `process_feed`. A feed is never lost:
any internal failure gives the feed back unmodified, with the reason in `degraded_reason`.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from diymod import observability
from diymod.errors import ApplicationError, PayloadTooLarge
from feed import decision_cache, interventions, wording
from feed.analyzers import analyzer_get
from feed.analyzers.base import Analyzer, FilterSpec, Match, PostInput, Rewrite, RewriteRequest
from feed.analyzers.deadline import feed_deadline, feed_deadline_get
from feed.defang import body_markers_defang
from feed.platforms import feed_parse, platform_from_url
from feed.platforms.base import FeedParseError, MediaEdit, ParsedFeed, Post
from filters.models import Filter, User
from filters.selectors import filter_list_active
from imaging.batches import ImageAsk, image_jobs_request
from imaging.models import ImageJob
from imaging.requests import image_config_for

logger = logging.getLogger(__name__)

# Posts analysed per step: the deadline (and a gone client) is checked between steps, so one
# step is as far as analysis can run past it. A usual page (25-50 posts) is one step.
ANALYSIS_CHUNK_POSTS = 50


@dataclass
class PostReport:
    """What happened to one post, for the response and the playground's badges."""

    id: str
    intervention: str
    filters: list[str]
    confidence: float
    passages: list[str]
    images: int = 0


@dataclass(frozen=True)
class FeedResult:
    response: str
    stats: dict[str, Any] = field(default_factory=dict)
    degraded: bool = False
    degraded_reason: str = ""
    posts: list[PostReport] = field(default_factory=list)


@dataclass(frozen=True)
class MatchOutcome:
    """What `posts_match` decided, and what it cost."""

    matches: dict[str, list[Match]]  # post id -> matches, for the posts decided
    cache_hits: int
    model_calls: int
    undecided: int = 0  # posts left unanalysed past the deadline or once the client left
    degraded_reason: str = ""


@dataclass(frozen=True)
class RewriteOutcome:
    rewrites: dict[str, Rewrite]  # post id -> its warning and replacements
    model_calls: int = 0
    degraded_reason: str = ""


@dataclass
class PostMatch:
    """A post that matched some filters: its matches and what it takes to act on them."""

    post: Post
    matches: list[Match]
    specs: dict[int, FilterSpec]
    image_interventions: dict[int, str]  # filter id -> metadata.image_intervention

    def text_matches(self) -> list[Match]:
        return [match for match in self.matches if match.on_text]

    def image_matches(self) -> list[Match]:
        return [match for match in self.matches if match.on_image]

    def top_intensity(self, matches: list[Match]) -> int:
        return max(self.specs[match.filter_id].intensity for match in matches)

    def passages(self) -> list[str]:
        return [passage for match in self.text_matches() for passage in match.passages]


def filter_specs(filters: list[Filter]) -> list[FilterSpec]:
    return [
        FilterSpec(id=f.id, text=f.filter_text, content_type=f.content_type, intensity=f.intensity)
        for f in filters
    ]


def post_input(post: Post, context: str = "") -> PostInput:
    return PostInput(
        id=post.id,
        text=post.text,
        image_alts=tuple(media.alt for media in post.media),
        image_urls=tuple(media.url for media in post.media),
        context=context,
    )


QUOTED_CONTEXT_CHARS = 400
_PERMALINK_SUBREDDIT = re.compile(r"^/r/([A-Za-z0-9_]{2,21})/")


def post_inputs(posts: list[Post]) -> list[PostInput]:
    """The analyzer's view of a feed's posts, each with its platform context (issue 14: the
    subreddit, the author's handle, the quoted tweet's text), read from the adapters' meta."""
    quoted: dict[str, list[str]] = {}
    for post in posts:
        quoting = post.meta.get("quoted_by")
        if isinstance(quoting, str) and post.text:
            quoted.setdefault(quoting, []).append(post.text[:QUOTED_CONTEXT_CHARS])
    return [post_input(post, post_context(post, quoted.get(post.id, []))) for post in posts]


def post_context(post: Post, quoted_texts: list[str]) -> str:
    lines = []
    subreddit = post.meta.get("subreddit")
    permalink = post.meta.get("permalink")
    if not subreddit and isinstance(permalink, str):  # comments carry it in their permalink
        found = _PERMALINK_SUBREDDIT.match(permalink)
        subreddit = found.group(1) if found else ""
    if isinstance(subreddit, str) and subreddit:
        lines.append(subreddit if subreddit.startswith("r/") else f"r/{subreddit}")
    author = post.meta.get("author")
    if post.platform == "x" and isinstance(author, str) and author:
        lines.append(f"@{author}")
    lines.extend(" ".join(text.split()) for text in quoted_texts)
    return "\n".join(lines)


def feed_size_check(body: str) -> None:
    limit = settings.DIYMOD_FEED_MAX_BYTES
    if len(body) * 4 <= limit:  # no text of this length can exceed it: skip the encoding
        return
    if len(body) > limit or len(body.encode("utf-8", "surrogatepass")) > limit:
        raise PayloadTooLarge(f"Feed body is larger than the limit of {limit} bytes")


def feed_unmodified(*, url: str, body: str) -> str:
    """The feed as it goes back when it is not moderated: unchanged but for the markers it
    spells itself, which are defanged for every user (CONTRACT section 4)."""
    platform = platform_from_url(url) or "reddit"  # HTML rules also cover JSON's literals
    return body_markers_defang(platform, body)


def feed_moderate(
    *,
    user: User,
    url: str,
    body: str,
    base_url: str | None = None,
    cancelled: threading.Event | None = None,
) -> FeedResult:
    """`cancelled`, once set (the client went away), stops the analysis at its next step."""
    platform = platform_from_url(url)
    if platform is None:
        raise ApplicationError("Unsupported platform in URL")
    feed_size_check(body)
    started = time.monotonic()
    # First, before anything can return the body: only the server's own markers may go out.
    body = body_markers_defang(platform, body)
    try:
        with feed_deadline(started + settings.DIYMOD_FEED_DEADLINE_SECONDS):
            result = _feed_moderate(
                user=user, platform=platform, body=body, base_url=base_url, cancelled=cancelled
            )
    except Exception:
        logger.exception(
            "feed moderation failed for user %s; returning the feed unchanged", user.pk
        )
        result = FeedResult(response=body, degraded=True, degraded_reason="internal error")
    elapsed = time.monotonic() - started
    stats = {**result.stats, "milliseconds": round(elapsed * 1000, 1), "platform": platform}
    result = dataclasses.replace(result, stats=stats)
    feed_metrics_record(platform, elapsed, result)
    return result


def feed_metrics_record(platform: str, elapsed: float, result: FeedResult) -> None:
    observability.FEED_SECONDS.labels(platform).observe(elapsed)
    observability.FEED_POSTS.labels(platform).inc(result.stats.get("posts", 0))
    observability.FEED_CACHE_HITS.inc(result.stats.get("cache_hits", 0))
    observability.MODEL_CALLS.labels("feed").inc(result.stats.get("model_calls", 0))
    if result.degraded:
        observability.FEED_DEGRADED.inc()


def _feed_moderate(
    *,
    user: User,
    platform: str,
    body: str,
    base_url: str | None,
    cancelled: threading.Event | None,
) -> FeedResult:
    stats = {"posts": 0, "matched": 0, "cache_hits": 0, "model_calls": 0, "images": 0}
    # At most the cap, should a user hold more (the cap lowered, concurrent creations).
    active = filter_list_active(user=user).order_by("id")
    filters = list(active[: settings.DIYMOD_MAX_FILTERS_PER_USER])
    if not filters:  # nothing to look for: the feed goes back untouched, unparsed
        return FeedResult(response=body, stats=stats)
    specs = filter_specs(filters)
    image_interventions = {
        f.id: f.metadata["image_intervention"]
        for f in filters
        if isinstance(f.metadata, dict) and isinstance(f.metadata.get("image_intervention"), str)
    }
    try:
        parsed = feed_parse(platform, body)
    except FeedParseError as error:
        logger.info("not a %s feed document (%s); returned unchanged", platform, error)
        return FeedResult(response=body, stats=stats)
    stats["posts"] = len(parsed.posts)
    if not specs or not parsed.posts:
        return FeedResult(response=body, stats=stats)
    analyzer = analyzer_get()
    outcome = posts_match(parsed.posts, specs, analyzer, cancelled)
    specs_by_id = {spec.id: spec for spec in specs}
    matched = [
        PostMatch(post, outcome.matches[post.id], specs_by_id, image_interventions)
        for post in parsed.posts
        if outcome.matches.get(post.id)
    ]
    rewritten = rewrites_get(matched, analyzer)
    response, reports = feed_render(body, parsed, matched, rewritten.rewrites, user, base_url)
    stats |= {
        "matched": len(matched),
        "cache_hits": outcome.cache_hits,
        "model_calls": outcome.model_calls + rewritten.model_calls,
        "images": sum(report.images for report in reports),
    }
    if outcome.undecided:
        stats["undecided"] = outcome.undecided
    reason = outcome.degraded_reason or rewritten.degraded_reason
    return FeedResult(
        response, stats, degraded=bool(reason), degraded_reason=reason, posts=reports
    )


def posts_match(
    posts: list[Post],
    specs: list[FilterSpec],
    analyzer: Analyzer,
    cancelled: threading.Event | None = None,
) -> MatchOutcome:
    """Matches of the posts decided (cached or analysed); the reason when some were not.

    The posts not in the cache are analysed ANALYSIS_CHUNK_POSTS at a time; past the feed
    deadline, or once the client is gone, the rest stay undecided (DESIGN.md: the deadline
    bounds all analysis). Each step's decisions are kept and cached as they come.
    """
    inputs = post_inputs(posts)
    matches = decision_cache.matches_lookup(inputs, specs, analyzer.version)
    cache_hits, model_calls = len(matches), 0
    missing = [item for item in inputs if item.id not in matches]
    reason = ""
    for start in range(0, len(missing), ANALYSIS_CHUNK_POSTS):
        stop = analysis_stop_reason(cancelled)
        if stop:
            left = len(missing) - start
            logger.warning("feed analysis stopped (%s): %d posts left", stop, left)
            reason = reason or f"{stop}: {left} posts not analysed"
            return MatchOutcome(matches, cache_hits, model_calls, left, reason)
        chunk = missing[start : start + ANALYSIS_CHUNK_POSTS]
        analysis = analyzer.analyze(chunk, specs)
        model_calls += analysis.model_calls
        fresh = {item.id: analysis.matches.get(item.id, []) for item in chunk}
        if not analysis.degraded_reason:  # a fallback's answers are not the analyzer's own
            decision_cache.matches_store(chunk, fresh, specs, analyzer.version)
        reason = reason or analysis.degraded_reason
        matches.update(fresh)
    return MatchOutcome(matches, cache_hits, model_calls, degraded_reason=reason)


def analysis_stop_reason(cancelled: threading.Event | None) -> str:
    if cancelled is not None and cancelled.is_set():
        return "client gone"
    deadline = feed_deadline_get()
    if deadline is not None and time.monotonic() >= deadline:
        return "deadline exceeded"
    return ""


def feed_render(
    body: str,
    parsed: ParsedFeed,
    matched: list[PostMatch],
    rewrites: dict[str, Rewrite],
    user: User,
    base_url: str | None,
) -> tuple[str, list[PostReport]]:
    """The feed with its edits (`body` itself when there are none), and what happened to each
    matched post."""
    text_edits: dict[tuple[str, str], str] = {}
    media_edits: dict[tuple[str, str], MediaEdit] = {}
    reports = []
    media_by_post = feed_media_edits(matched, user, base_url)
    for post_match, media in zip(matched, media_by_post, strict=True):
        report, edits = post_text_edits(post_match, rewrites.get(post_match.post.id))
        text_edits |= edits
        media_edits |= media
        reports.append(dataclasses.replace(report, images=len(media)))
    text_edits |= markers_defanged(parsed, text_edits)
    if not text_edits and not media_edits:
        return body, reports
    return parsed.render(text_edits, media_edits), reports


def rewrites_get(matched: list[PostMatch], analyzer: Analyzer) -> RewriteOutcome:
    """One batched request for the warnings and rewrites of the posts that need them."""
    requests = [
        RewriteRequest(
            post_id=post_match.post.id,
            text=post_match.post.text,
            passages=tuple(post_match.passages()),
            filter_texts=tuple(
                post_match.specs[m.filter_id].text for m in post_match.text_matches()
            ),
        )
        for post_match in matched
        if post_match.text_matches()
        and wording.intervention_for(post_match.top_intensity(post_match.text_matches()))
        != wording.Kind.BLUR
    ]
    cached = decision_cache.rewrites_lookup(requests, analyzer.version)
    missing = [request for request in requests if request.post_id not in cached]
    if not missing:
        return RewriteOutcome(cached)
    try:
        rewrites = analyzer.rewrite(missing)
    except Exception as error:  # the markers still go on, with the neutral local wording
        logger.warning("rewrite request failed, using local wording: %s", error)
        return RewriteOutcome({}, degraded_reason=f"rewrite failed: {error}"[:200])
    fallback_reason = getattr(rewrites, "degraded_reason", "")
    if not fallback_reason:
        decision_cache.rewrites_store(missing, rewrites, analyzer.version)
    model_calls = getattr(rewrites, "model_calls", 0)
    return RewriteOutcome({**cached, **rewrites}, model_calls, fallback_reason)


def post_text_edits(
    post_match: PostMatch, rewrite: Rewrite | None
) -> tuple[PostReport, dict[tuple[str, str], str]]:
    """The post's report and its marked texts, keyed (post id, field key)."""
    post, text_matches = post_match.post, post_match.text_matches()
    matches = text_matches or post_match.image_matches()
    fields = [item for item in post.fields if item.text]
    kind = (
        wording.intervention_for(post_match.top_intensity(text_matches)) if text_matches else None
    )
    report = PostReport(
        id=post.id,
        # "": text matched, but the post has no text to mark
        intervention="image" if kind is None else kind if fields else "",
        filters=sorted({post_match.specs[m.filter_id].text for m in matches}),
        confidence=round(max(m.confidence for m in matches), 3),
        passages=post_match.passages(),
    )
    if not fields:
        return report, {}
    if kind is None:  # an image-only match still needs a marker (CONTRACT section 5)
        return report, {(post.id, fields[0].key): interventions.image_only_mark(fields[0].text)}
    marking = TextMarking.of(kind, post_match.passages(), rewrite, post_match)
    edits = {}
    for item in fields:
        marked = marking.mark(item.text)
        if marked is not None:
            edits[(post.id, item.key)] = marked
    if kind != wording.Kind.OVERLAY and not edits:
        # The passages were not found verbatim: act on the whole text rather than not at all.
        for item in fields:
            whole = TextMarking.of(kind, [item.text], None, post_match).mark(item.text)
            edits[(post.id, item.key)] = whole or interventions.markers_defang(item.text)
    return report, edits


@dataclass(frozen=True)
class TextMarking:
    """How a post's texts are marked, worked out once for all of its fields."""

    kind: wording.Kind
    passages: list[str]
    warning: str = ""  # overlay
    replacements: dict[str, str] = field(default_factory=dict)  # rewrite

    @classmethod
    def of(
        cls,
        kind: wording.Kind,
        passages: list[str],
        rewrite: Rewrite | None,
        post_match: PostMatch,
    ) -> TextMarking:
        # Neither the post's words nor the model's may smuggle in markers of their own (a
        # prompt-injected reply may spell them).
        passages = [interventions.markers_defang(passage) for passage in passages]
        if kind == wording.Kind.BLUR:
            return cls(kind, passages)
        if kind == wording.Kind.OVERLAY:
            # The analyzer's warning, unless it names any matching filter's topic (CONTRACT 4).
            topics = [post_match.specs[match.filter_id].text for match in post_match.matches]
            warning = wording.warning_or_default(rewrite.warning if rewrite else "", topics)
            return cls(kind, passages, warning=interventions.markers_defang(warning))
        replacements = {
            interventions.markers_defang(passage): interventions.markers_defang(replacement)
            for passage, replacement in (rewrite.replacements.items() if rewrite else [])
        }
        for passage in passages:
            replacements.setdefault(passage, wording.REWRITE_NOTE)
        return cls(kind, passages, replacements=replacements)

    def mark(self, text: str) -> str | None:
        """`text` marked, or None when none of the passages is in it (blur, rewrite)."""
        text = interventions.markers_defang(text)
        if self.kind == wording.Kind.BLUR:
            return interventions.blur_mark(text, self.passages)
        if self.kind == wording.Kind.OVERLAY:
            return interventions.overlay_mark(text, self.warning)
        return interventions.rewrite_mark(text, self.replacements)


@dataclass(frozen=True)
class PostImages:
    """What a post's matched images are asked for with: its filters' texts (sorted), the
    strongest filter and that filter's own image intervention."""

    texts: list[str]
    best: FilterSpec
    intervention: str | None

    @classmethod
    def of(cls, post_match: PostMatch) -> PostImages | None:
        image_matches = post_match.image_matches()
        if not image_matches or not post_match.post.media:
            return None
        ranked = sorted(image_matches, key=lambda m: -post_match.specs[m.filter_id].intensity)
        best = post_match.specs[ranked[0].filter_id]
        texts = sorted({post_match.specs[m.filter_id].text for m in ranked})
        return cls(texts, best, post_match.image_interventions.get(best.id))

    def asks(self, post: Post) -> list[ImageAsk]:
        return [
            ImageAsk(
                key=(post.id, media.key),
                image_url=media.url,
                filter_texts=self.texts,
                intensity=self.best.intensity,
                intervention=self.intervention,
            )
            for media in post.media
        ]


def feed_media_edits(
    matched: list[PostMatch], user: User, base_url: str | None
) -> list[dict[tuple[str, str], MediaEdit]]:
    """Each matched post's image edits, keyed (post id, media key): the jobs of the whole feed
    asked for at once (one transaction, the caps of `image_requests_allowed`)."""
    asking = [
        (index, found)
        for index, post_match in enumerate(matched)
        if (found := PostImages.of(post_match)) is not None
    ]
    jobs = image_jobs_request(
        user=user,
        posts=[found.asks(matched[index].post) for index, found in asking],
        base_url=base_url or "",
    )
    edits: list[dict[tuple[str, str], MediaEdit]] = [{} for _ in matched]
    for (index, found), post_jobs in zip(asking, jobs, strict=True):
        edits[index] = post_media_edits(matched[index], found, post_jobs, base_url)
    return edits


def post_media_edits(
    post_match: PostMatch,
    images: PostImages,
    jobs: list[ImageJob | None],
    base_url: str | None,
) -> dict[tuple[str, str], MediaEdit]:
    """The post's image edits from the jobs of its first images (None: the request failed)."""
    edits = {}
    for media, job in zip(post_match.post.media, jobs, strict=False):
        if job is None:
            continue
        try:
            config = image_config_for(
                job, filter_texts=images.texts, best_filter=images.best.text, base_url=base_url
            )
        except Exception:  # one image failing must not cost the feed
            logger.exception("image config failed for %s", media.url)
            continue
        if not config:
            continue
        # A done job's config is COMPLETED with its result URL: swap it in now (CONTRACT 5).
        swap = config.get("processedUrl") if job.status == ImageJob.Status.DONE else None
        edits[(post_match.post.id, media.key)] = MediaEdit(config=config, swap_url=swap)
    return edits


def markers_defanged(
    parsed: ParsedFeed, text_edits: dict[tuple[str, str], str]
) -> dict[tuple[str, str], str]:
    """The fields not edited yet that spell out a marker themselves, as plain text
    (CONTRACT section 4)."""
    return {
        (post.id, item.key): interventions.markers_defang(item.text)
        for post in parsed.posts
        for item in post.fields
        if (post.id, item.key) not in text_edits and interventions.markers_present(item.text)
    }
