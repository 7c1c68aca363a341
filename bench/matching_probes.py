"""Probes of the embedded analyzer's ceiling on real posts (issue 14): mechanisms that did not
raise the figures, measured as bench/calibrate.py measures the shipped design.

Same labelled pairs, same evidence (`calibrate.evidence_score`, the analyzer's own legs), same
leave-one-filter-out cross-validation over every MatchParams weight. Each probe changes one
thing:
- budgets: how much of a feed MiniLM reads (sentences, openings), up to every sentence;
- rival topics: a post's best cosine to any *other* library profile, weighed as a semantic
  exclusion (the fit's negative-weight grid, 0 included, decides how much);
- related aliases: a mention of an alias of a related library profile (description centroids
  within cosine RELATED_MIN: cars and Tesla, hardware and Nvidia) counted as a weak mention;
- background offset: a profile's scores lowered by how readily its descriptions resemble the
  other profiles' (the BACKGROUND_QUANTILE of those cosines), per profile, without labels;
- e5 for Latin posts: the multilingual model's score mixed into MiniLM's for every post.
The fixed values of a probe (a quantile, a mix) are reported one row each, everything else
cross-validated; no probe is fitted to the held-out filter.

    .venv/bin/python bench/matching_probes.py    (writes docs/BENCHMARKS.md "matching_probes")
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import calibrate  # noqa: E402
from bench.calibrate import DEV_FILES, Scored  # noqa: E402

BUDGETS = [(4_000, 2_500), (8_000, 5_000), (4_000, 100_000), (100_000, 100_000)]
RELATED_MIN = 0.6
BACKGROUND_QUANTILE = 90
BACKGROUND_WEIGHTS = (0.5, 1.0)
E5_MIXES = (0.2, 0.5)
WEAK_MENTION = "·"  # one character: Surface.specific counts it as a short, ambiguous mention


@contextmanager
def budgets(sentences: int, openings: int) -> Iterator[None]:
    """The analyzer's per-call budgets for the block (module constants, read per call)."""
    from feed.analyzers import embedded

    saved = embedded.FEED_SEMANTIC_CHARS, embedded.FEED_OPENING_CHARS
    embedded.FEED_SEMANTIC_CHARS, embedded.FEED_OPENING_CHARS = sentences, openings
    try:
        yield
    finally:
        embedded.FEED_SEMANTIC_CHARS, embedded.FEED_OPENING_CHARS = saved


def row(name: str, scored: list[Scored], *, exclusion_weights: bool = False) -> str:
    """The probe's table row; `exclusion_weights`: also the exclusion weights the folds chose."""
    from feed.analyzers.embedded import SHIPPED

    predicted, chosen = calibrate.cross_validate(scored, SHIPPED)
    rows = calibrate.figure_rows([s.pair for s in scored], predicted)
    dev, broad = rows[DEV_FILES[0]], rows[DEV_FILES[1]]
    weights = sorted({params.negative_weight for params in chosen.values()})
    note = f"weights chosen {weights}" if exclusion_weights else ""
    return (
        f"| {name} | {dev['precision']:.3f} | {dev['recall']:.3f} | {dev['f1']:.3f} "
        f"| {broad['precision']:.3f} | {broad['recall']:.3f} | {broad['f1']:.3f} | {note} |"
    )


def varied(scored: list[Scored], change: Callable[[int, Scored, Any], None]) -> list[Scored]:
    """The evidence with each pair's text surface changed by `change(index, scored, copy)`."""
    out = []
    for index, item in enumerate(scored):
        surface = copy.copy(item.surface)
        surface.aliases = list(surface.aliases)
        change(index, item, surface)
        out.append(Scored(item.pair, surface, item.profile))
    return out


class Library:
    """Every library profile's MiniLM rows, and each pair's best cosine to each profile over
    the units its surface read (sentences and context lines)."""

    def __init__(self, analyzer: Any, scored: list[Scored], inputs: dict) -> None:
        self.profiles = list(analyzer.library.profiles)
        self.index = {profile.key: i for i, profile in enumerate(self.profiles)}
        blocks = [analyzer._profile_vectors(profile) for profile in self.profiles]
        self.rows = np.vstack(blocks)
        self.owners = np.concatenate([np.full(len(b), i) for i, b in enumerate(blocks)])
        centroids = np.vstack([b.mean(axis=0) for b in blocks])
        self.centroids = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)
        starts = np.cumsum([0, *(len(b) for b in blocks[:-1])])  # each profile's first row
        self.best = np.full((len(scored), len(self.profiles)), -1.0)
        for k, item in enumerate(scored):
            post = inputs[(item.pair.source_file, item.pair.post_id)]
            texts = [text for text, _ in item.surface.unit_scores]
            texts += [line for line in post.context.split("\n") if line.strip()]
            if texts:
                best_row = (analyzer.model.embed(texts) @ self.rows.T).max(axis=0)
                self.best[k] = np.maximum.reduceat(best_row, starts)

    def own(self, profile: Any) -> list[int]:
        """The library profiles a filter's profile is made of (none: not from the library)."""
        if profile.source != "library":
            return []
        return [self.index[key] for key in (profile.parts or (profile.key,)) if key in self.index]

    def relatedness(self, own: list[int]) -> np.ndarray:
        return (self.centroids @ self.centroids[own].T).max(axis=1)

    def background(self, own: list[int]) -> float:
        mine = np.isin(self.owners, own)
        cosines = (self.rows[~mine] @ self.rows[mine].T).max(axis=1)
        return float(np.percentile(cosines, BACKGROUND_QUANTILE))


def probe_rival(scored: list[Scored], library: Library) -> list[Scored]:
    def change(k: int, item: Scored, surface: Any) -> None:
        own = library.own(item.profile)
        surface.negative = -1.0
        if own:
            others = np.ones(len(library.profiles), dtype=bool)
            others[own] = False
            surface.negative = float(library.best[k, others].max())

    return varied(scored, change)


def probe_related(scored: list[Scored], library: Library) -> list[Scored]:
    from feed.analyzers.embedded import profile_matcher

    def change(k: int, item: Scored, surface: Any) -> None:
        own = library.own(item.profile)
        if not own or item.profile.kind != "topic" or surface.named:
            return
        related = np.flatnonzero(library.relatedness(own) >= RELATED_MIN)
        for j in (j for j in related if j not in own):
            if profile_matcher(library.profiles[j]).hits(item.pair.text).matched:
                surface.aliases.append(WEAK_MENTION)
                return

    return varied(scored, change)


def probe_background(scored: list[Scored], library: Library, weight: float) -> list[Scored]:
    offsets = {}
    for item in scored:
        own = library.own(item.profile)
        if own and item.profile.key not in offsets:
            offsets[item.profile.key] = library.background(own)
    mean = float(np.mean(list(offsets.values())))

    def change(k: int, item: Scored, surface: Any) -> None:
        if item.profile.key not in offsets or item.profile.kind != "topic":
            return
        shift = weight * (offsets[item.profile.key] - mean)
        if surface.semantic > -1.0:
            surface.semantic -= shift
        if surface.opening > -1.0:
            surface.opening -= shift

    return varied(scored, change)


def e5_scores(analyzer: Any, scored: list[Scored]) -> np.ndarray | None:
    """e5's cosine (above the profile's background, as the analyzer scores CJK posts) of each
    pair's opening (OPENING_CHARS)."""
    from feed.analyzers.e5 import e5_get, e5_passages
    from feed.analyzers.embedded import OPENING_CHARS

    if e5_get() is None:
        return None
    passages = e5_passages([item.pair.text[:OPENING_CHARS] for item in scored])
    out = np.zeros(len(scored))
    for k, item in enumerate(scored):
        rows, bias = analyzer._profile_e5_vectors(item.profile)
        out[k] = float((passages[k] @ rows.T).max()) - bias
    return out


def probe_e5(scored: list[Scored], e5: np.ndarray, mix: float) -> list[Scored]:
    from feed.analyzers.embedded import CJK_NOT_READ, SHIPPED, opening_blend

    semantic = np.array(
        [
            opening_blend(s.surface.semantic, s.surface.opening, SHIPPED.opening_weight)
            for s in scored
        ]
    )
    latin = np.array([s.surface.cjk <= CJK_NOT_READ and s.surface.semantic > -1 for s in scored])
    # e5 on MiniLM's scale: the same mean and spread over the Latin pairs (labels unused).
    scale = semantic[latin].std() / e5[latin].std()
    on_minilm = scale * (e5 - e5[latin].mean()) + semantic[latin].mean()

    def change(k: int, item: Scored, surface: Any) -> None:
        if latin[k]:  # the mix replaces the blended score: the opening is already in it
            surface.semantic = (1 - mix) * semantic[k] + mix * on_minilm[k]
            surface.opening = -1.0

    return varied(scored, change)


def main() -> None:
    calibrate.django_setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0)
    from bench.report import section_write
    from feed.analyzers.embedded import EmbeddedAnalyzer

    pairs = calibrate.pairs_load()
    documents = calibrate.documents_build(pairs)
    calibrate.memo_embed_install()
    inputs = {
        (source, post.id): post
        for source, posts in calibrate.post_inputs_by_source(documents).items()
        for post in posts
    }

    lines = []

    def report(name: str, variant: list[Scored], **options: bool) -> None:
        lines.append(row(name, variant, **options))
        print(lines[-1], flush=True)

    evidence = {}
    for sentences, openings in BUDGETS:
        with budgets(sentences, openings):
            analyzer = EmbeddedAnalyzer(negatives=True, openings=True)
            evidence[(sentences, openings)] = calibrate.evidence_score(pairs, documents, analyzer)
        name = f"budget: {sentences:,} chars of sentences, {openings:,} of openings a call"
        shipped = " (shipped)" if (sentences, openings) == BUDGETS[0] else ""
        report(name + shipped, evidence[(sentences, openings)])

    scored = evidence[BUDGETS[0]]
    analyzer = EmbeddedAnalyzer(negatives=True, openings=True)
    library = Library(analyzer, scored, inputs)
    report("rival topics as exclusions", probe_rival(scored, library), exclusion_weights=True)
    report(
        f"related profiles' aliases as weak mentions (centroid >= {RELATED_MIN})",
        probe_related(scored, library),
    )
    for weight in BACKGROUND_WEIGHTS:
        report(
            f"background offset x{weight} (q{BACKGROUND_QUANTILE} of cosines to other profiles)",
            probe_background(scored, library, weight),
        )
    e5 = e5_scores(analyzer, scored)
    for mix in E5_MIXES if e5 is not None else ():
        report(f"e5 mixed in for Latin posts ({mix:.0%})", probe_e5(scored, e5, mix))

    body = "\n".join(
        [
            "Run by `bench/matching_probes.py`: the pairs, evidence and leave-one-filter-out "
            "cross-validation of `bench/calibrate.py`, one mechanism changed per row (its "
            "docstring says how each works). None is shipped: none raised the broad figure.",
            "",
            "| probe | dev P | dev R | dev F1 | broad P | broad R | broad F1 | note |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
            *lines,
            "" if e5 is not None else "\n(e5 is not installed here: its rows are left out.)",
        ]
    )
    section_write("matching_probes", "Matching probes: mechanisms that did not help", body)


if __name__ == "__main__":
    main()
