"""The embedded analyzer: a local sentence-embedding model, nothing leaves the machine.

A post matches a filter when one of its sentences is close enough to the filter in embedding
space (cosine against "a post about <filter>"), with two legs and a threshold each:
- semantic leg: sentences without the filter's key words (paraphrases: "a tarantula behind my
  water heater" for "spiders");
- lexical leg: sentences holding the key words in the filter's sense (lexical.py). Look-alikes in
  another sense ("Spider-Man", "severance pay" for "Severance") are masked before embedding.
The thresholds come from bench/calibrate.py on tests/feed/labelled_pairs.jsonl.

Cost is bounded per call: the semantic leg reads FEED_SEMANTIC_CHARS characters of sentences,
every title first, then the posts' next sentences in turn (units_budget), plus any sentence
that holds a key word. A long post whose topic only appears, unnamed, deep in its body can
therefore be missed; that buys a cold 50-post page within the feed's latency target on one core.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from feed.analyzers.base import (
    Analysis,
    Analyzer,
    FilterSpec,
    Match,
    PostInput,
    Rewrite,
    RewriteRequest,
)
from feed.analyzers.lexical import WordHits, keywords_for, sentence_spans, text_without, word_hits
from feed.analyzers.minilm import MODEL_HASH_PREFIX, MiniLM, minilm_get

# Calibrated by bench/calibrate.py (see docs/BENCHMARKS.md, "calibration").
THRESHOLD_SEMANTIC = 0.21
THRESHOLD_LEXICAL = 0.205
FILTER_TEMPLATE = "a post about {}"
# The template's own words ("a post about") pull every sentence that says "post" towards every
# filter. Subtracting part of the template's direction with no topic cancels that pull:
# cos(u, f) - w * cos(u, g) = u . (f - w g) for unit vectors, so it is folded into the filter.
NULL_FILTER_TEXT = FILTER_TEMPLATE.format("something")
NULL_FILTER_WEIGHT = 0.5
# Characters of sentences the semantic leg embeds per analyze() call (about 2,300 tokens,
# ~0.4 s on one core): the bound that keeps a cold 50-post page inside its latency target.
FEED_SEMANTIC_CHARS = 9_000
KEYWORD_SENTENCES_PER_POST = 4  # key-word sentences scored past the budget, per post
FILTER_VECTOR_CACHE_SIZE = 2048
REWRITE_NOTE = "[Part of this post was hidden by your DIY-MOD filters]"
# CONTRACT.md section 4: no `|`, newline, `"`, `<`, `>`, and never the topic itself.
REWRITE_WARNING = "You asked not to see some of this"


@dataclass
class Unit:
    """One sentence of a post's text or of an image's alt text."""

    text: str
    start: int  # offset in the post text (alt units: in the alt text)
    on_image: bool
    embed: bool  # inside the semantic budget (or holds a key word)
    rank: int = 0  # reading order within the post: 0 is the title


@dataclass
class LegScores:
    """Best cosine per leg for one (post, filter); -1 when the leg saw no sentence."""

    semantic: float = -1.0
    lexical: float = -1.0
    image_semantic: float = -1.0
    image_lexical: float = -1.0
    text_passages: list[tuple[str, float, bool]] = field(default_factory=list)
    image_best: float = -1.0  # best alt-text cosine that crossed its leg's threshold

    def record(self, unit: Unit, similarity: float, *, lexical: bool, passed: bool) -> None:
        if not unit.on_image:
            if lexical:
                self.lexical = max(self.lexical, similarity)
            else:
                self.semantic = max(self.semantic, similarity)
            return
        if lexical:
            self.image_lexical = max(self.image_lexical, similarity)
        else:
            self.image_semantic = max(self.image_semantic, similarity)
        if passed:
            self.image_best = max(self.image_best, similarity)


class EmbeddedAnalyzer(Analyzer):
    def __init__(
        self,
        *,
        threshold_semantic: float = THRESHOLD_SEMANTIC,
        threshold_lexical: float = THRESHOLD_LEXICAL,
        model: MiniLM | None = None,
    ) -> None:
        self.threshold_semantic = threshold_semantic
        self.threshold_lexical = threshold_lexical
        self._model = model
        self._filter_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._filter_lock = threading.Lock()
        self.version = (
            f"embedded-{MODEL_HASH_PREFIX}-s{threshold_semantic:.3f}-l{threshold_lexical:.3f}-3"
        )

    @property
    def model(self) -> MiniLM:
        if self._model is None:
            self._model = minilm_get()
        return self._model

    # -- analysis ----------------------------------------------------------------------------
    def analyze(self, posts: list[PostInput], filters: list[FilterSpec]) -> Analysis:
        matches: dict[str, list[Match]] = {}
        for post, per_filter in zip(posts, self.scores(posts, filters), strict=True):
            found = [
                match
                for spec in filters
                if (match := self._match(post, spec, per_filter[spec.id])) is not None
            ]
            if found:
                matches[post.id] = found
        return Analysis(matches=matches)

    def scores(
        self, posts: list[PostInput], filters: list[FilterSpec]
    ) -> list[dict[int, LegScores]]:
        """Per post, per filter id: the legs' best cosines and the sentences behind them."""
        if not posts or not filters:
            return [{} for _ in posts]
        keywords = {spec.id: keywords_for(spec.text) for spec in filters}
        units = [post_units(post) for post in posts]
        units_budget(units)
        hits = {
            (p, u, spec.id): word_hits(unit.text, keywords[spec.id])
            for p, post_unit_list in enumerate(units)
            for u, unit in enumerate(post_unit_list)
            for spec in filters
            if _applies(spec, unit)
        }
        keyword_units_add(units, hits)
        vectors = self._unit_vectors(units, hits)
        filter_vectors = self.filter_vectors([spec.text for spec in filters])
        return [
            {
                spec.id: self._leg_scores(p, units[p], spec, filter_vectors[i], hits, vectors)
                for i, spec in enumerate(filters)
            }
            for p in range(len(posts))
        ]

    def _unit_vectors(
        self, units: list[list[Unit]], hits: dict[tuple[int, int, int], WordHits]
    ) -> dict[str, np.ndarray]:
        texts: dict[str, None] = {}
        for post_unit_list in units:
            for unit in post_unit_list:
                if unit.embed:
                    texts[unit.text] = None
        for (p, u, _), found in hits.items():
            unit = units[p][u]
            if unit.embed and found.masked:
                texts[text_without(unit.text, found.masked)] = None
        ordered = list(texts)
        return dict(zip(ordered, self.model.embed(ordered), strict=True))

    def _leg_scores(
        self,
        p: int,
        post_unit_list: list[Unit],
        spec: FilterSpec,
        filter_vector: np.ndarray,
        hits: dict[tuple[int, int, int], WordHits],
        vectors: dict[str, np.ndarray],
    ) -> LegScores:
        legs = LegScores()
        for u, unit in enumerate(post_unit_list):
            if not unit.embed or (p, u, spec.id) not in hits:
                continue
            found = hits[(p, u, spec.id)]
            scored_text = text_without(unit.text, found.masked) if found.masked else unit.text
            similarity = float(vectors[scored_text] @ filter_vector)
            lexical = bool(found.matched)
            threshold = self.threshold_lexical if lexical else self.threshold_semantic
            legs.record(unit, similarity, lexical=lexical, passed=similarity >= threshold)
            if not unit.on_image and similarity >= threshold:
                passages = _lexical_passages(unit, found.matched) if lexical else [unit.text]
                legs.text_passages.extend((text, similarity, lexical) for text in passages)
        return legs

    def _match(self, post: PostInput, spec: FilterSpec, legs: LegScores) -> Match | None:
        text_best = max((score for _, score, _ in legs.text_passages), default=-1.0)
        has_images = bool(post.image_urls or post.image_alts)
        on_text = text_best >= 0 and spec.content_type in ("text", "all")
        on_image = legs.image_best >= 0 or (on_text and spec.content_type == "all" and has_images)
        if not on_text and not on_image:
            return None
        passages = tuple(dict.fromkeys(text for text, _, _ in legs.text_passages))
        best = max(text_best, legs.image_best)
        return Match(
            filter_id=spec.id,
            confidence=self._confidence(best),
            passages=passages if on_text else (),
            on_text=on_text,
            on_image=on_image,
        )

    def _confidence(self, similarity: float) -> float:
        # 0.5 at the threshold, rising linearly to 1.0 at a cosine of 1.
        threshold = min(self.threshold_semantic, self.threshold_lexical)
        return round(min(1.0, max(0.5, 0.5 + (similarity - threshold) / (2 - 2 * threshold))), 3)

    def filter_vectors(self, texts: list[str]) -> list[np.ndarray]:
        with self._filter_lock:
            missing = [text for text in dict.fromkeys(texts) if text not in self._filter_vectors]
        if missing:
            computed = self.model.embed(
                [FILTER_TEMPLATE.format(text) for text in missing] + [NULL_FILTER_TEXT]
            )
            computed = computed[:-1] - NULL_FILTER_WEIGHT * computed[-1]
            with self._filter_lock:
                for text, vector in zip(missing, computed, strict=True):
                    self._filter_vectors[text] = vector
                while len(self._filter_vectors) > FILTER_VECTOR_CACHE_SIZE:
                    self._filter_vectors.popitem(last=False)
        with self._filter_lock:
            return [self._filter_vectors[text] for text in texts]

    # -- rewriting ---------------------------------------------------------------------------
    def rewrite(self, requests: list[RewriteRequest]) -> dict[str, Rewrite]:
        """Each sentence holding a passage becomes a neutral note (keys: exact sentences)."""
        rewrites = {}
        for request in requests:
            sentences = [request.text[start:end] for start, end in sentence_spans(request.text)]
            replacements = {
                sentence: REWRITE_NOTE
                for sentence in sentences
                if any(passage and passage in sentence for passage in request.passages)
            }
            for passage in request.passages:
                if passage in request.text and not any(passage in key for key in replacements):
                    replacements[passage] = REWRITE_NOTE  # a passage spanning sentences
            rewrites[request.post_id] = Rewrite(request.post_id, replacements, REWRITE_WARNING)
        return rewrites


def post_units(post: PostInput) -> list[Unit]:
    """The post's sentences, then its images' alt-text sentences; none marked for embedding."""
    units = [
        Unit(post.text[start:end], start, on_image=False, embed=False, rank=rank)
        for rank, (start, end) in enumerate(sentence_spans(post.text))
    ]
    for alt in post.image_alts:
        # Alt text ranks right after the title: it is all an image filter has to go on.
        units.extend(
            Unit(alt[start:end], start, on_image=True, embed=False, rank=1 + rank)
            for rank, (start, end) in enumerate(sentence_spans(alt))
        )
    return units


def units_budget(units: list[list[Unit]], budget: int = FEED_SEMANTIC_CHARS) -> None:
    """Mark which sentences the semantic leg reads: every post's first sentence (its title),
    then the next sentence of every post in turn, until the feed's character budget is spent.
    A feed of short posts is read whole; a feed of essays is read evenly from the top."""
    ordered = sorted(
        (unit.rank, post_index, unit_index)
        for post_index, post_units_list in enumerate(units)
        for unit_index, unit in enumerate(post_units_list)
    )
    for rank, post_index, unit_index in ordered:
        unit = units[post_index][unit_index]
        if rank > 0 and budget <= 0:
            break
        unit.embed = True
        budget -= len(unit.text)


def keyword_units_add(units: list[list[Unit]], hits: dict[tuple[int, int, int], WordHits]) -> None:
    """Score key-word sentences past the budget too, a few per post: enough to find the
    topic, while a post repeating the word thousands of times cannot buy unbounded work."""
    extra: dict[int, set[int]] = {}
    for (p, u, _), found in hits.items():
        unit = units[p][u]
        if not found.matched or unit.embed:
            continue
        chosen = extra.setdefault(p, set())
        if u in chosen or len(chosen) < KEYWORD_SENTENCES_PER_POST:
            chosen.add(u)
    for p, chosen in extra.items():
        for u in chosen:
            units[p][u].embed = True


def _applies(spec: FilterSpec, unit: Unit) -> bool:
    if unit.on_image:
        return spec.content_type in ("image", "all")
    return spec.content_type in ("text", "all")


def _lexical_passages(unit: Unit, spans: tuple[tuple[int, int], ...]) -> list[str]:
    return [unit.text[start:end] for start, end in spans]
