"""The embedded analyzer: filter profiles scored with local models, nothing leaves the machine.

Every filter text is read as a profile (feed/profiles: from the model when OpenAI is configured,
else the shipped topic library, else a generic profile built from the text). A post is scored
against the profile on two surfaces, its text (with its platform context: subreddit, author,
quoted tweet) and its images' alt texts, with these legs:
- semantic: the best MiniLM cosine of any sentence to any of the profile's descriptions,
  moved part of the way (MatchParams.opening_weight) towards the cosine of the post's opening
  read as one text (a broad topic is often carried by a title and the lines after it together);
  mostly-CJK posts are scored with multilingual e5 instead (e5.py: above the filter's
  background), on their own threshold;
  a context line that is only a name (subreddit, handle) counts only when the profile
  lists the community or the name is itself near the topic (CONTEXT_NAME_MIN);
- aliases: a mention of one of the profile's aliases (word boundaries, case-insensitive; its
  `cased` names exactly as written), after its "not" phrases (look-alikes: "spider-man" for
  spiders) are masked. A specific mention (several words, a long name, two different aliases,
  the community in the context) boosts fully; a lone short alias only weakly. Generic profiles
  use the filter's own key words instead (lexical.py: inflections, the capital-letter guard);
- vocabulary: distinct supporting words, weak evidence that only adds up;
- detector: for categories of language ("profanity": word lists, wordlists.py).
The profile's kind picks the rule: an entity needs a mention of a name or alias (precision
first: posts about its neighbourhood that never name it do not match); a topic needs
semantic + alias and vocabulary boosts over one threshold; a category needs its detector or an
alias. The thresholds and weights (MatchParams) come from bench/calibrate.py, chosen by
cross-validation grouped by filter on the labelled real posts (docs/BENCHMARKS.md).

Cost is bounded per call: the semantic leg reads FEED_SEMANTIC_CHARS characters of sentences,
every title first, then the posts' next sentences in turn (units_budget), plus a few sentences
that hold a key word, and FEED_OPENING_CHARS of openings from the top of the feed down
(openings_budget); e5 reads at most E5_FEED_CHARS. Posts are analysed in batches, and past
the feed's deadline (deadline.py) the remaining batches are left undecided, with
`degraded_reason` set.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
from feed.analyzers.deadline import feed_deadline_get
from feed.analyzers.e5 import E5_VERSION, e5_available, e5_enabled, e5_get, mostly_cjk
from feed.analyzers.lexical import (
    WordHits,
    keywords_for,
    sentence_spans,
    text_without,
    word_hits,
    word_stem,
)
from feed.analyzers.minilm import MiniLM, minilm_get, minilm_model_file
from feed.analyzers.wordlists import WORDLIST_VERSION, wordlists_get
from feed.profiles import Library, Profile, library_get, profile_resolve
from feed.wording import DEFAULT_WARNING, REWRITE_NOTE


@dataclass(frozen=True)
class MatchParams:
    """The fitted thresholds and weights (bench/calibrate.py, docs/BENCHMARKS.md)."""

    topic: float = 0.35  # semantic + boosts at or above it: a topic matches
    alias_boost: float = 0.15  # added when a specific alias (or a generic key word) is named
    weak_boost: float = 0.10  # added when only short, ambiguous aliases are named
    vocab_boost: float = 0.0  # per distinct vocabulary word, up to VOCAB_CAP of them
    cjk: float = 0.03  # e5 cosine above the filter's background that counts as `topic`
    entity: float = -1.0  # an entity named by a specific alias also needs this semantic score
    entity_weak: float = -1.0  # ... and one named by short aliases only, this one
    # Exclusions as semantic negatives: the semantic score is lowered by this much per unit
    # that the surface's best cosine to the profile's "not" phrases exceeds its best cosine to
    # the descriptions (negative_penalty). 0 turns the leg off. A penalty measured better than
    # a veto at a margin (docs/BENCHMARKS.md): it weighs how far the look-alike wins.
    negative_weight: float = 0.0
    # How far the post's opening read as one text (Surface.opening) moves the semantic score
    # from its best sentence towards the opening's own score (opening_blend); 0 is off.
    opening_weight: float = 0.3

    @property
    def negatives_on(self) -> bool:
        return self.negative_weight > 0

    def tag(self) -> str:
        negative = f"-n{self.negative_weight:.3f}" if self.negatives_on else "-noff"
        opening = f"-o{self.opening_weight:.3f}" if self.opening_weight > 0 else ""
        return (
            f"t{self.topic:.3f}-a{self.alias_boost:.3f}-w{self.weak_boost:.3f}"
            f"-v{self.vocab_boost:.3f}-c{self.cjk:.3f}-e{self.entity:.3f}"
            f"-ew{self.entity_weak:.3f}{negative}{opening}"
        )


def negative_penalty(semantic: float, negative: float, weight: float) -> float:
    """How much a look-alike lowers the surface's semantic score: `weight` times how far its
    nearest "not" phrase beats the nearest description (MatchParams.negative_weight). A
    surface nothing was embedded for (-1), or a profile without "not" phrases (negative -1),
    loses nothing."""
    if weight <= 0 or semantic <= -1.0:
        return 0.0
    return weight * max(0.0, negative - semantic)


def opening_blend(semantic: float, opening: float, weight: float) -> float:
    """The semantic score with the opening's weighed in: `weight` of the way from the best
    sentence's cosine to the opening's (MatchParams.opening_weight). A surface whose opening
    was not read (-1: one sentence, past the budget, or read by e5) keeps its sentences'."""
    if weight <= 0 or opening <= -1.0 or semantic <= -1.0:
        return semantic
    return semantic + weight * (opening - semantic)


SHIPPED = MatchParams()
VOCAB_CAP = 3
FILTER_TEMPLATE = "a post about {}"
# The template's own words ("a post about") pull every sentence that says "post" towards every
# filter. Subtracting part of the template's direction with no topic cancels that pull:
# cos(u, f) - w * cos(u, g) = u . (f - w g) for unit vectors, so it is folded into the filter.
NULL_FILTER_TEXT = FILTER_TEMPLATE.format("something")
NULL_FILTER_WEIGHT = 0.5
# Characters of sentences the semantic leg embeds per analyze() call (about 1,000 tokens),
# plus the key-word sentences; with FEED_OPENING_CHARS, the bound that keeps a cold 50-post
# page inside its latency target. Of 6,500 characters, 4,000 for sentences and 2,500 for
# openings decide the labelled real posts better than 6,500 for sentences alone (and 4,000
# alone better than 6,500: late sentences mostly add chance cosines; docs/BENCHMARKS.md).
FEED_SEMANTIC_CHARS = 4_000
KEYWORD_SENTENCES_PER_POST = 2  # key-word sentences scored past the budget, per post
# e5 costs ~100-500 ms per 100 CJK characters on one (shared) core: a few posts per call.
E5_POST_CHARS = 80
E5_MIN_POST_CHARS = 32
E5_CONTEXT_CHARS = 24
E5_FEED_CHARS = 480
ANALYZE_BATCH_POSTS = 25  # the deadline is checked between batches
PROFILE_VECTOR_CACHE_SIZE = 2048
CONTEXT_RANK = 0  # the context line is read with the titles
E5_RANK = 10_000  # the rank of a mostly-CJK post's text units: e5 reads them, not MiniLM
# A broad topic is often carried by a post's opening as a whole rather than by any one of its
# sentences (a title and the line that explains it). So the opening, up to this many
# characters, is also read as one text, on its own budget; it adds to the semantic leg only
# (its mentions are its sentences' own), weighed by MatchParams.opening_weight.
OPENING_CHARS = 300
# Characters of openings read per analyze() call, besides FEED_SEMANTIC_CHARS (so reading them
# changes no sentence's reading): posts in feed order, the top of the feed first, until it is
# spent (about the first ten posts of a 50-post page).
FEED_OPENING_CHARS = 2_500
# A context line that is only a name (a subreddit, an author's handle) is a label, not a text:
# its cosine to a description is high for the topic's own community ("r/javascript" for
# JavaScript) and, for a neighbouring one ("r/MachineLearning" for programming), a floor that
# lifts every post of that community alike. So a name line counts as semantic evidence only
# when the profile lists it (an alias) or its cosine reaches this: the community is itself
# the topic. Set on the library, not on labelled posts: of the library's own subreddit
# aliases, 46% reach 0.45 against their profile's rows, and 0.07% against any other profile's
# (0.45 is about the 99.9th percentile of a community's cosine to a topic not its own).
CONTEXT_NAME_MIN = 0.45
_CONTEXT_NAME = re.compile(r"^(?:r/|@)[\w.\-]+$")
CJK_NOT_READ = -9.0  # Surface.cjk of a post e5 did not read
# A specific alias: several words, or a Latin name this long, or a CJK word this long.
SPECIFIC_LATIN_CHARS = 8
SPECIFIC_CJK_CHARS = 3
_CJK_CLASS = r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]"
_CJK_CHAR = re.compile(_CJK_CLASS)


@dataclass
class Unit:
    """One sentence of a post's text, of its context, or of an image's alt text."""

    text: str
    start: int  # offset in the post text (alt units: in the alt text; context: -1)
    on_image: bool
    embed: bool  # inside the semantic budget (or holds a key word)
    rank: int = 0  # reading order within the post: 0 is the title
    context: bool = False  # platform context (subreddit, quoted tweet), not the post's text
    opening: bool = False  # the post's opening as one text (OPENING_CHARS): semantic leg only


@dataclass
class Surface:
    """The evidence one surface (text+context, or alt texts) gives for one (post, profile)."""

    semantic: float = -1.0  # best MiniLM cosine of a unit to a description; -1: none read
    opening: float = -1.0  # MiniLM cosine of the post's opening as one text; -1: not read
    negative: float = -1.0  # best MiniLM cosine of a unit to a "not" phrase; -1: none
    cjk: float = CJK_NOT_READ  # e5 cosine above the profile's background (mostly-CJK posts)
    aliases: list[str] = field(default_factory=list)  # exact substrings of the post text
    alias_in_context: bool = False
    generic: bool = False  # the aliases are a generic profile's own key words
    vocabulary: int = 0  # distinct vocabulary terms named
    detector: list[str] = field(default_factory=list)  # detector passages (sentences)
    unit_scores: list[tuple[str, float]] = field(default_factory=list)  # post sentences only

    @property
    def named(self) -> bool:
        return bool(self.aliases) or self.alias_in_context

    @property
    def specific(self) -> bool:
        """Named by something rare enough to mean the topic by itself: a phrase of several
        words, a long name, two different aliases, the platform context (a community's
        name), or the user's own key words. A lone short alias ("GPU", "car", "arxiv", a
        two-character CJK word) is ambiguous and needs support from the other legs."""
        if self.alias_in_context or (self.generic and self.aliases):
            return True
        distinct = {alias_identity(alias) for alias in self.aliases}
        return len(distinct) >= 2 or any(alias_specific(alias) for alias in self.aliases)


@dataclass
class Evidence:
    text: Surface = field(default_factory=Surface)
    image: Surface = field(default_factory=Surface)
    profile: Profile | None = None


class EmbeddedAnalyzer(Analyzer):
    def __init__(
        self,
        *,
        params: MatchParams = SHIPPED,
        model: MiniLM | None = None,
        library: Library | None = None,
        cjk_model: bool | None = None,
        wordlists: bool = True,
        context: bool = True,
        profile_source: object | None = None,
        negatives: bool | None = None,
        openings: bool | None = None,
    ) -> None:
        self.params = params
        self._model = model
        self._library = library
        self.use_cjk = (e5_enabled() and e5_available()) if cjk_model is None else cjk_model
        self.use_wordlists = wordlists
        self.use_context = context
        # Score the "not" phrases semantically (Surface.negative): by default only when the
        # parameters use them (no cost otherwise); bench/calibrate.py always gathers them.
        self.use_negatives = params.negatives_on if negatives is None else negatives
        # Read each post's opening as one text (Surface.opening): likewise only when the
        # parameters weigh it, since it spends the semantic budget.
        self.use_openings = params.opening_weight > 0 if openings is None else openings
        # Model-written profiles (feed/profiles/model.py), consulted first when given.
        self.profile_source = profile_source
        # MiniLM rows ("minilm" keys) and e5 rows with their background ("e5" keys).
        self._vectors: OrderedDict[str, Any] = OrderedDict()
        self._vectors_lock = threading.Lock()
        self._profiles: OrderedDict[str, Profile] = OrderedDict()
        self._nearest: tuple[list[Profile], np.ndarray] | None = None
        self._nearest_lock = threading.Lock()
        source_tag = getattr(profile_source, "version", "")
        self.version = (
            f"embedded-{minilm_model_file().tag}-{params.tag()}-lib{self.library.version}"
            f"-{WORDLIST_VERSION if wordlists else 'nowl'}"
            f"-{('e5' + E5_VERSION) if self.use_cjk else 'noe5'}"
            f"{'' if context else '-noctx'}{'-' + source_tag if source_tag else ''}-5"
        )

    @property
    def model(self) -> MiniLM:
        if self._model is None:
            self._model = minilm_get()
        return self._model

    @property
    def library(self) -> Library:
        if self._library is None:
            self._library = library_get()
        return self._library

    # -- profiles ----------------------------------------------------------------------------
    def profile_for(self, text: str) -> Profile:
        with self._vectors_lock:
            cached = self._profiles.get(text)
        if cached is not None:
            return cached
        profile = None
        if self.profile_source is not None:
            profile = self.profile_source.profile_get(text)  # type: ignore[attr-defined]
        if profile is None:
            profile = profile_resolve(text, self.library, self._nearest_names)
        with self._vectors_lock:
            self._profiles[text] = profile
            while len(self._profiles) > PROFILE_VECTOR_CACHE_SIZE:
                self._profiles.popitem(last=False)
        return profile

    def _nearest_names(self, text: str) -> list[tuple[Profile, float]]:
        with self._nearest_lock:
            if self._nearest is None:
                owners = [p for p in self.library.profiles for _ in p.names]
                names = [FILTER_TEMPLATE.format(n) for p in self.library.profiles for n in p.names]
                self._nearest = (owners, self.model.embed(names))
            owners, vectors = self._nearest
        if not owners:
            return []
        query = self.model.embed([FILTER_TEMPLATE.format(text)])[0]
        similarities = vectors @ query
        order = np.argsort(-similarities)[:10]
        return [(owners[i], float(similarities[i])) for i in order]

    def nearest_warm(self) -> None:
        self._nearest_names("warm")

    def _profile_vectors(self, profile: Profile) -> np.ndarray:
        """MiniLM rows for a profile: its descriptions, and "a post about <name>" less the
        template's own direction. Returned as computed: the cache may evict at any size."""

        def rows_make() -> np.ndarray:
            name = profile.names[0] if profile.names else profile.key
            computed = self.model.embed(
                [*profile.descriptions, FILTER_TEMPLATE.format(name), NULL_FILTER_TEXT]
            )
            rows = computed[:-1].copy()
            rows[-1] = rows[-1] - NULL_FILTER_WEIGHT * computed[-1]
            return rows

        key = f"minilm\x1f{profile.key}\x1f{hash((profile.names, profile.descriptions))}"
        return self._cached(key, rows_make)

    def _profile_not_vectors(self, profile: Profile) -> np.ndarray | None:
        """MiniLM rows for a profile's "not" phrases, or None when it has none: its surfaces
        keep negative -1. Each is embedded in the name row's register ("a post about a ram
        truck", less the template's topic-less direction), so its cosines compare with the
        descriptions' (bare short phrases score lower on every sentence)."""
        if not profile.not_phrases:
            return None

        def rows_make() -> np.ndarray:
            texts = [FILTER_TEMPLATE.format(phrase) for phrase in profile.not_phrases]
            computed = self.model.embed([*texts, NULL_FILTER_TEXT])
            return computed[:-1] - NULL_FILTER_WEIGHT * computed[-1]

        key = f"minilm-not\x1f{profile.key}\x1f{hash(profile.not_phrases)}"
        return self._cached(key, rows_make)

    def _profile_e5_vectors(self, profile: Profile) -> tuple[np.ndarray, float]:
        """e5 query rows for a profile and its background (e5.e5_bias), cached together."""
        from feed.analyzers.e5 import e5_bias, e5_queries

        def entry_make() -> tuple[np.ndarray, float]:
            rows = e5_queries([*profile.names[:2], *profile.descriptions[:3]])
            return rows, e5_bias(rows)

        key = f"e5\x1f{profile.key}\x1f{hash((profile.names, profile.descriptions))}"
        return self._cached(key, entry_make)

    def _cached(self, key: str, make: Callable[[], Any]) -> Any:
        """The profile-side vectors under `key` (least recently used evicted past
        PROFILE_VECTOR_CACHE_SIZE); computed outside the lock when missing."""
        with self._vectors_lock:
            cached = self._vectors.get(key)
            if cached is not None:
                self._vectors.move_to_end(key)
                return cached
        value = make()
        with self._vectors_lock:
            self._vectors[key] = value
            while len(self._vectors) > PROFILE_VECTOR_CACHE_SIZE:
                self._vectors.popitem(last=False)
        return value

    def filter_vectors(self, texts: list[str]) -> list[np.ndarray]:
        """Per filter text, the MiniLM rows its profile is scored against."""
        return [self._profile_vectors(self.profile_for(text)) for text in texts]

    # -- analysis ----------------------------------------------------------------------------
    def analyze(self, posts: list[PostInput], filters: list[FilterSpec]) -> Analysis:
        matches: dict[str, list[Match]] = {}
        analysis = Analysis(matches=matches)
        deadline = feed_deadline_get()
        for start, batch, budget, e5_budget in analysis_batches(posts):
            if deadline is not None and clock() >= deadline:
                left = len(posts) - start
                analysis.degraded_reason = (
                    f"feed deadline reached: {left} of {len(posts)} posts left undecided"
                )
                break
            for post, per_filter in zip(
                batch,
                self.evidence(batch, filters, budget=budget, e5_budget=e5_budget),
                strict=True,
            ):
                found = [
                    match
                    for spec in filters
                    if (match := self._match(post, spec, per_filter[spec.id])) is not None
                ]
                if found:
                    matches[post.id] = found
        return analysis

    def evidence_all(
        self, posts: list[PostInput], filters: list[FilterSpec]
    ) -> list[dict[int, Evidence]]:
        """`evidence()` batch by batch, exactly as `analyze()` reads the posts."""
        out: list[dict[int, Evidence]] = []
        for _, batch, budget, e5_budget in analysis_batches(posts):
            out.extend(self.evidence(batch, filters, budget=budget, e5_budget=e5_budget))
        return out

    def evidence(
        self,
        posts: list[PostInput],
        filters: list[FilterSpec],
        *,
        budget: int = FEED_SEMANTIC_CHARS,
        e5_budget: int = E5_FEED_CHARS,
    ) -> list[dict[int, Evidence]]:
        """Per post, per filter id: what each leg found (bench/calibrate.py fits on this)."""
        if not posts or not filters:
            return [{} for _ in posts]
        profiles = {spec.id: self.profile_for(spec.text) for spec in filters}
        cjk_posts = self._cjk_choose(posts, e5_budget)
        units = [self._post_units(post, p in cjk_posts) for p, post in enumerate(posts)]
        units_budget(units, budget)
        openings_budget(units, budget * FEED_OPENING_CHARS // FEED_SEMANTIC_CHARS)
        hits = self._hits(units, filters, profiles)
        keyword_units_add(units, hits)
        vectors = self._unit_vectors(units, hits)
        e5_scores = self._e5_scores(posts, cjk_posts, profiles)
        out = []
        for p, post in enumerate(posts):
            per_filter = {}
            for spec in filters:
                profile = profiles[spec.id]
                evidence = Evidence(profile=profile)
                evidence.text, evidence.image = self._surfaces(
                    post, units[p], p, spec, profile, hits, vectors
                )
                if (p, spec.id) in e5_scores:
                    evidence.text.cjk = e5_scores[(p, spec.id)]
                per_filter[spec.id] = evidence
            out.append(per_filter)
        return out

    def _cjk_choose(self, posts: list[PostInput], budget: int) -> dict[int, int]:
        """Post index -> characters e5 reads of it. The call's e5 budget is shared by every
        mostly-CJK post (down to E5_MIN_POST_CHARS each: the opening of a post carries its
        topic), so a feed with many of them reads each one shorter instead of leaving most
        to MiniLM, which is near chance on CJK."""
        if not self.use_cjk:
            return {}
        candidates = [p for p, post in enumerate(posts) if mostly_cjk(post.text)]
        if not candidates or budget < E5_MIN_POST_CHARS:
            return {}
        share = min(E5_POST_CHARS, max(E5_MIN_POST_CHARS, budget // len(candidates)))
        chosen: dict[int, int] = {}
        for p in candidates:
            if budget < E5_MIN_POST_CHARS:
                break
            chosen[p] = min(share, budget)
            budget -= min(len(_e5_text(posts[p], self.use_context)), chosen[p])
        if e5_get() is None:
            return {}
        return chosen

    def _e5_scores(
        self, posts: list[PostInput], cjk_posts: dict[int, int], profiles: dict[int, Profile]
    ) -> dict[tuple[int, int], float]:
        if not cjk_posts:
            return {}
        from feed.analyzers.e5 import e5_passages

        order = sorted(cjk_posts)
        passages = e5_passages(
            [_e5_text(posts[p], self.use_context)[: cjk_posts[p]] for p in order]
        )
        scores = {}
        for filter_id, profile in profiles.items():
            rows, bias = self._profile_e5_vectors(profile)
            best = (passages @ rows.T).max(axis=1) - bias
            for index, p in enumerate(order):
                scores[(p, filter_id)] = float(best[index])
        return scores

    def _post_units(self, post: PostInput, cjk: bool) -> list[Unit]:
        units = post_units(post, opening=self.use_openings)
        if self.use_context and post.context:
            units.extend(
                Unit(line, -1, on_image=False, embed=False, rank=CONTEXT_RANK, context=True)
                for line in post.context.split("\n")
                if line.strip()
            )
        if cjk:  # e5 reads this post: MiniLM would only add noise (and cost)
            for unit in units:
                unit.rank = E5_RANK if not unit.on_image else unit.rank
        return units

    def _hits(
        self, units: list[list[Unit]], filters: list[FilterSpec], profiles: dict[int, Profile]
    ) -> dict[tuple[int, int, int], WordHits]:
        """Per (post, unit, filter): the right-sense mentions and the look-alikes to mask."""
        hits = {}
        for spec in filters:
            profile = profiles[spec.id]
            matcher = profile_matcher(profile)
            for p, post_unit_list in enumerate(units):
                for u, unit in enumerate(post_unit_list):
                    if _applies(spec, unit):
                        hits[(p, u, spec.id)] = matcher.hits(unit.text)
        return hits

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

    def _surfaces(
        self,
        post: PostInput,
        post_unit_list: list[Unit],
        p: int,
        spec: FilterSpec,
        profile: Profile,
        hits: dict[tuple[int, int, int], WordHits],
        vectors: dict[str, np.ndarray],
    ) -> tuple[Surface, Surface]:
        rows = self._profile_vectors(profile)
        not_rows = self._profile_not_vectors(profile) if self.use_negatives else None
        matcher = profile_matcher(profile)
        generic = profile.source == "generic"
        text, image = Surface(generic=generic), Surface(generic=generic)
        vocab: dict[bool, set[str]] = {False: set(), True: set()}
        for u, unit in enumerate(post_unit_list):
            found = hits.get((p, u, spec.id))
            if found is None:
                continue
            surface = image if unit.on_image else text
            if found.matched and not unit.opening:
                if unit.context:
                    surface.alias_in_context = True
                else:
                    surface.aliases.extend(unit.text[s:e] for s, e in found.matched)
            if not unit.opening:
                vocab[unit.on_image].update(matcher.vocabulary(unit.text, found.masked))
            if unit.embed:
                scored = text_without(unit.text, found.masked) if found.masked else unit.text
                similarity = float((rows @ vectors[scored]).max())
                # A community the profile names as its own (an alias) always counts.
                unlisted = unit.context and not found.matched
                if unit.opening:
                    surface.opening = similarity
                elif not (unlisted and context_name_ignored(unit.text, similarity)):
                    surface.semantic = max(surface.semantic, similarity)
                if not_rows is not None:
                    # The unmasked sentence: naming the look-alike is evidence for it.
                    negative = float((not_rows @ vectors[unit.text]).max())
                    surface.negative = max(surface.negative, negative)
                if not unit.context and not unit.opening:
                    surface.unit_scores.append((unit.text, similarity))
        text.vocabulary, image.vocabulary = len(vocab[False]), len(vocab[True])
        if profile.detector == "profanity" and self.use_wordlists:
            lists = wordlists_get()
            # Whole texts: a spelling such as "b.u.l.l.s.h.i.t" spans the sentence splitter's
            # boundaries. The passages are the sentences that hold a hit, else the whole text.
            for surface, whole, on_image in (
                (text, post.text, False),
                *((image, alt, True) for alt in post.image_alts),
            ):
                if not whole or not lists.hits(whole):
                    continue
                sentences = [
                    unit.text
                    for unit in post_unit_list
                    if unit.on_image == on_image and not unit.context and lists.hits(unit.text)
                ]
                surface.detector.extend(sentences or [whole.strip()])
        return text, image

    # -- decisions ---------------------------------------------------------------------------
    def surface_score(self, surface: Surface, profile: Profile) -> float | None:
        """The surface's score on the topic scale, or None when the profile's rule refuses."""
        params = self.params
        base = opening_blend(surface.semantic, surface.opening, params.opening_weight)
        if surface.cjk > CJK_NOT_READ:
            base = surface.cjk - params.cjk + params.topic
        if profile.kind == "category" and profile.source != "generic":
            return 1.0 if (surface.detector or surface.named) else None
        base -= negative_penalty(surface.semantic, surface.negative, params.negative_weight)
        if profile.kind == "entity" and profile.source != "generic":
            gate = params.entity if surface.specific else params.entity_weak
            return base + params.alias_boost if surface.named and base >= gate else None
        return base + self._boost(surface)

    def _boost(self, surface: Surface) -> float:
        params = self.params
        boost = params.alias_boost if surface.specific else params.weak_boost * surface.named
        return boost + params.vocab_boost * min(surface.vocabulary, VOCAB_CAP)

    def surface_matches(self, surface: Surface, profile: Profile) -> bool:
        score = self.surface_score(surface, profile)
        if score is None:
            return False
        if profile.kind in ("entity", "category") and profile.source != "generic":
            return True  # named (and not vetoed by its semantic score), or the detector fired
        return score >= self.params.topic

    def _match(self, post: PostInput, spec: FilterSpec, evidence: Evidence) -> Match | None:
        profile = evidence.profile
        assert profile is not None
        has_images = bool(post.image_urls or post.image_alts)
        on_text = spec.content_type in ("text", "all") and self.surface_matches(
            evidence.text, profile
        )
        on_image = spec.content_type in ("image", "all") and self.surface_matches(
            evidence.image, profile
        )
        on_image = on_image or (on_text and spec.content_type == "all" and has_images)
        if not on_text and not on_image:
            return None
        surface = evidence.text if on_text else evidence.image
        score = self.surface_score(surface, profile) or self.params.topic
        passages = self._passages(post, surface, profile) if on_text else ()
        return Match(
            filter_id=spec.id,
            confidence=self._confidence(score),
            passages=passages,
            on_text=on_text,
            on_image=on_image,
        )

    def _passages(self, post: PostInput, surface: Surface, profile: Profile) -> tuple[str, ...]:
        """What to blur: the aliases named, the detector's sentences, the sentences that
        carry the topic; the first sentence when only the context or the model saw it."""
        params = self.params
        found = [*surface.aliases, *surface.detector]
        boost = self._boost(surface)
        if profile.kind == "topic" or profile.source == "generic":
            found += [text for text, score in surface.unit_scores if score + boost >= params.topic]
        if not found:
            spans = sentence_spans(post.text)
            found = [post.text[spans[0][0] : spans[0][1]]] if spans else []
        unique = list(dict.fromkeys(found))
        # A named alias inside a sentence that is itself a passage adds nothing.
        return tuple(p for p in unique if not any(p != q and p in q for q in unique))

    def _confidence(self, score: float) -> float:
        # 0.5 at the threshold, rising linearly to 1.0 at a score of 1.
        threshold = self.params.topic
        return round(min(1.0, max(0.5, 0.5 + (score - threshold) / (2 - 2 * threshold))), 3)

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
            rewrites[request.post_id] = Rewrite(request.post_id, replacements, DEFAULT_WARNING)
        return rewrites


def clock() -> float:
    return time.monotonic()


def analysis_batches(posts: list[PostInput]) -> list[tuple[int, list[PostInput], int, int]]:
    """(offset, posts, semantic budget, e5 budget) per batch: the call's budgets shared out by
    post count, so batching never buys more model work than one call."""
    batches = []
    for start in range(0, len(posts), ANALYZE_BATCH_POSTS):
        batch = posts[start : start + ANALYZE_BATCH_POSTS]
        share = len(batch) / max(1, len(posts))
        batches.append(
            (start, batch, max(1, int(FEED_SEMANTIC_CHARS * share)), int(E5_FEED_CHARS * share))
        )
    return batches


# --- mentions -------------------------------------------------------------------------------


class ProfileMatcher:
    """A profile's lexical side: its aliases and vocabulary, with its "not" phrases masked."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.generic = profile.source == "generic"
        words = profile.filter_words
        self.keywords = keywords_for(words) if words else []
        aliases = [] if self.generic else list(profile.aliases)
        if profile.kind == "entity" and not self.generic:
            aliases += list(profile.names)
        self.aliases = _phrases_pattern(aliases)
        # Exactly as written, on word boundaries: "LoL" is the game, "lol" is laughter.
        self.cased = (
            re.compile(
                r"(?<![\w\-])(?:"
                + "|".join(re.escape(n) for n in sorted(profile.cased, key=len, reverse=True))
                + r")(?:'s|s)?(?![\w]|-\w)"
            )
            if profile.cased and not self.generic
            else None
        )
        self.nots = _phrases_pattern(list(profile.not_phrases))
        vocabulary = [w for w in profile.vocabulary if w not in profile.aliases]
        self.vocabulary_patterns = [
            (word, pattern) for word in vocabulary if (pattern := _phrases_pattern([word]))
        ]

    def hits(self, text: str) -> WordHits:
        masked = [m.span() for m in self.nots.finditer(text)] if self.nots else []
        matched: list[tuple[int, int]] = []
        for pattern in (self.aliases, self.cased):
            if pattern is None:
                continue
            for found in pattern.finditer(text):
                span = found.span()
                if not any(s < span[1] and span[0] < e for s, e in masked):
                    matched.append(span)
        if self.keywords:
            generic = word_hits(text, self.keywords)
            masked.extend(generic.masked)
            matched.extend(
                span for span in generic.matched if not any(s <= span[0] < e for s, e in masked)
            )
        if not matched and not masked:
            return NO_WORD_HITS
        return WordHits(tuple(sorted(set(matched))), tuple(sorted(set(masked))))

    def vocabulary(self, text: str, masked: tuple[tuple[int, int], ...]) -> set[str]:
        found = set()
        lowered = text.lower()
        for word, pattern in self.vocabulary_patterns:
            if word.split()[0][:4] not in lowered and not _CJK_CHAR.search(word):
                continue
            for hit in pattern.finditer(text):
                if not any(s < hit.end() and hit.start() < e for s, e in masked):
                    found.add(word)
                    break
        return found


NO_WORD_HITS = WordHits((), ())
_matchers: OrderedDict[tuple[str, int], ProfileMatcher] = OrderedDict()
_matchers_lock = threading.Lock()


def profile_matcher(profile: Profile) -> ProfileMatcher:
    key = (profile.key, hash(profile))
    with _matchers_lock:
        matcher = _matchers.get(key)
    if matcher is None:
        matcher = ProfileMatcher(profile)
        with _matchers_lock:
            _matchers[key] = matcher
            while len(_matchers) > PROFILE_VECTOR_CACHE_SIZE:
                _matchers.popitem(last=False)
    return matcher


def _phrases_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern: Latin phrases on word boundaries with the plural or
    possessive their ending allows (rat: rats, rat's, never "rates"; box: boxes; puppy:
    puppies), CJK phrases anywhere (CJK is written without spaces), except that a single CJK
    character must touch a boundary on one side at least (猫 alone, not inside 熊猫)."""
    latin: list[str] = []
    cjk: list[str] = []
    for phrase in sorted({p.strip().lower() for p in phrases if p.strip()}, key=len, reverse=True):
        (cjk if _CJK_CHAR.search(phrase) else latin).append(phrase)
    parts = []
    if latin:
        body = "|".join(_latin_phrase(phrase) for phrase in latin)
        parts.append(rf"(?<![\w\-])(?:{body})(?![\w]|-\w)")
    if cjk:
        for phrase in cjk:
            escaped = re.escape(phrase)
            if len(phrase) == 1 and _CJK_CHAR.match(phrase):
                parts.append(rf"(?:(?<!{_CJK_CLASS}){escaped}|{escaped}(?!{_CJK_CLASS}))")
            else:
                parts.append(escaped)
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def _latin_phrase(phrase: str) -> str:
    # Words of a phrase may be joined by spaces or hyphens, and carry a possessive ("Tesla's
    # Tower" is "tesla tower"), written with either apostrophe.
    body = re.escape(phrase).replace(r"\ ", r"(?:['’]s)?[\s\-]+")
    if not phrase[-1].isalpha():
        return body
    if phrase.endswith(("s", "x", "z", "ch", "sh")):
        return body + "(?:['’]s|es)?"
    if len(phrase) > 2 and phrase[-1] == "y" and phrase[-2] not in "aeiou":
        return body[:-1] + "(?:y|y['’]s|ies)"
    return body + "(?:['’]s|s)?"


def alias_identity(alias: str) -> str:
    """One alias however it is inflected: "Tesla", "Tesla's" and "teslas" name one thing."""
    return " ".join(word_stem(word) for word in alias.lower().replace("’", "'").split())


def alias_specific(alias: str) -> bool:
    """A mention that means its topic by itself (Surface.specific)."""
    alias = alias.strip()
    if re.search(r"[\s\-]", alias):
        return True
    if _CJK_CHAR.search(alias):
        return len(alias) >= SPECIFIC_CJK_CHARS
    return len(alias) >= SPECIFIC_LATIN_CHARS


def context_name_ignored(line: str, similarity: float) -> bool:
    """A name-only context line below CONTEXT_NAME_MIN adds no semantic evidence."""
    return similarity < CONTEXT_NAME_MIN and bool(_CONTEXT_NAME.match(line.strip()))


def _e5_text(post: PostInput, context: bool) -> str:
    """The post's text first (a passage is cut short), then its context's first line when it
    is the subreddit (a quoted tweet would crowd out the post itself). An author's handle is
    left out: it names a person, not the topic, and one e5 passage serves every filter, so
    it cannot be weighed per profile as MiniLM's name lines are (CONTEXT_NAME_MIN)."""
    first = post.context.split("\n", 1)[0].strip() if context and post.context else ""
    if not first or (first.startswith("@") and _CONTEXT_NAME.match(first)):
        return post.text
    return f"{post.text}\n{first[:E5_CONTEXT_CHARS]}"


# --- units ----------------------------------------------------------------------------------


def post_units(post: PostInput, *, opening: bool = False) -> list[Unit]:
    """The post's sentences, its opening (when asked and it holds more than one sentence),
    then its images' alt-text sentences; none marked for embedding."""
    spans = sentence_spans(post.text)
    units = [
        Unit(post.text[start:end], start, on_image=False, embed=False, rank=rank)
        for rank, (start, end) in enumerate(spans)
    ]
    if opening and len(spans) > 1:
        start = spans[0][0]
        text = post.text[start : min(spans[-1][1], start + OPENING_CHARS)].strip()
        units.append(Unit(text, start, False, False, rank=1, opening=True))
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
        if rank >= E5_RANK:  # read by e5 instead
            break
        unit = units[post_index][unit_index]
        if unit.opening:  # openings_budget
            continue
        if rank > 0 and budget <= 0:
            break
        unit.embed = True
        budget -= len(unit.text)


def openings_budget(units: list[list[Unit]], budget: int) -> None:
    """Mark the openings the semantic leg reads (OPENING_CHARS), posts in order, until
    `budget` is spent, and drop the others (an opening is only ever read whole, so one left
    unread would only cost its mentions' search); an opening of a post e5 reads is e5's."""
    for post_units_list in units:
        kept = []
        for unit in post_units_list:
            if unit.opening:
                if budget <= 0 or unit.rank >= E5_RANK:
                    continue
                unit.embed = True
                budget -= len(unit.text)
            kept.append(unit)
        post_units_list[:] = kept


def keyword_units_add(units: list[list[Unit]], hits: dict[tuple[int, int, int], WordHits]) -> None:
    """Score key-word sentences past the budget too, a few per post: enough to find the
    topic, while a post repeating the word thousands of times cannot buy unbounded work."""
    extra: dict[int, set[int]] = {}
    for (p, u, _), found in hits.items():
        unit = units[p][u]
        if not found.matched or unit.embed or unit.rank >= E5_RANK:
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
