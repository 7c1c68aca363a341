"""Which analyzer answers, chosen by settings (DESIGN.md, "Matching and interventions").

`analyzer_get()` returns the embedded analyzer, or the OpenAI analyzer wrapped so that any model
failure (timeout, HTTP error, invalid output, deadline) is answered by the embedded analyzer
with `Analysis.degraded_reason` set and a warning in the logs: the feed never waits on a broken
model and never loses its moderation.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings

from feed.analyzers.base import (
    Analysis,
    Analyzer,
    AnalyzerError,
    FilterSpec,
    PostInput,
    Rewrite,
    RewriteRequest,
    Rewrites,
)

logger = logging.getLogger(__name__)

_analyzers: dict[tuple[str, ...], Analyzer] = {}
_analyzers_lock = threading.RLock()  # building the OpenAI one builds the embedded one


class FallbackAnalyzer(Analyzer):
    """`primary`'s answers; `fallback`'s (marked degraded) whenever `primary` fails."""

    def __init__(self, primary: Analyzer, fallback: Analyzer) -> None:
        self.primary = primary
        self.fallback = fallback
        self.version = primary.version  # degraded answers are never cached (feed.services)

    def analyze(self, posts: list[PostInput], filters: list[FilterSpec]) -> Analysis:
        try:
            return self.primary.analyze(posts, filters)
        except Exception as error:  # any failure of the model path falls back
            self._failure_log("analyzer", len(posts), error)
            analysis = self.fallback.analyze(posts, filters)
            analysis.degraded_reason = f"model unavailable ({error}); local analyzer used"[:200]
            analysis.model_calls += getattr(error, "model_calls", 0)
            return analysis

    def rewrite(self, requests: list[RewriteRequest]) -> dict[str, Rewrite]:
        try:
            return self.primary.rewrite(requests)
        except Exception as error:  # local notes beat no rewrite at all
            self._failure_log("rewrite", len(requests), error)
            return Rewrites(
                self.fallback.rewrite(requests),
                model_calls=getattr(error, "model_calls", 0),
                degraded_reason=f"rewrite model unavailable ({error}); local notes used"[:200],
            )

    def _failure_log(self, what: str, count: int, error: Exception) -> None:
        # Expected model failures are one line; anything else is a bug worth a traceback.
        logger.warning(
            "%s by %s failed for %d posts (%s); answering with %s",
            what,
            self.primary.version,
            count,
            error,
            self.fallback.version,
            exc_info=not isinstance(error, AnalyzerError),
        )


def embedded_analyzer_get(*, model_profiles: bool = True) -> Analyzer:
    """The embedded analyzer; with an OpenAI key (and DIYMOD_MODEL_PROFILES not off) it asks
    the model for each new filter text's profile. As the OpenAI analyzer's fallback it does
    not: it answers when the model is failing, so it must not wait on that model again."""
    from feed.analyzers.embedded import EmbeddedAnalyzer

    if not (model_profiles and model_profiles_enabled()):
        return _cached(("embedded",), EmbeddedAnalyzer)
    from feed.profiles.model import ModelProfiles

    key = (
        "embedded",
        "model-profiles",
        settings.DIYMOD_OPENAI_MODEL,
        str(settings.OPENAI_BASE_URL),
    )
    return _cached(key, lambda: EmbeddedAnalyzer(profile_source=ModelProfiles()))


def model_profiles_enabled() -> bool:
    """Filter profiles written by the model: with an OpenAI key, unless switched off."""
    choice = str(settings.DIYMOD_MODEL_PROFILES or "auto").lower()
    return choice != "off" and bool(settings.OPENAI_API_KEY)


def analyzer_choice() -> str:
    """ "openai" or "embedded" from DIYMOD_ANALYZER ("auto": openai when a key is set)."""
    choice = str(settings.DIYMOD_ANALYZER or "auto").lower()
    if choice == "auto":
        return "openai" if settings.OPENAI_API_KEY else "embedded"
    return choice


def analyzer_get() -> Analyzer:
    if analyzer_choice() != "openai":
        return embedded_analyzer_get()
    from feed.analyzers.openai import OpenAIAnalyzer

    # Keyed by the settings the OpenAI analyzer reads, so tests that change them get a new one.
    key = (
        "openai",
        settings.DIYMOD_OPENAI_MODEL,
        settings.DIYMOD_OPENAI_VISION_MODEL,
        str(settings.OPENAI_BASE_URL or ""),
    )
    return _cached(
        key,
        lambda: FallbackAnalyzer(OpenAIAnalyzer(), embedded_analyzer_get(model_profiles=False)),
    )


def analyzer_warm() -> None:
    """Load the local model now (start-up), so the first feed does not pay for it."""
    from feed.analyzers.minilm import minilm_get
    from feed.analyzers.wordlists import wordlists_get
    from feed.profiles import library_get

    minilm_get()
    library_get()
    wordlists_get()


def _cached(key: tuple[str, ...], build: type[Analyzer] | object) -> Analyzer:
    with _analyzers_lock:
        if key not in _analyzers:
            _analyzers[key] = build()  # type: ignore[operator]
        return _analyzers[key]


__all__ = [
    "Analysis",
    "Analyzer",
    "AnalyzerError",
    "FallbackAnalyzer",
    "FilterSpec",
    "PostInput",
    "analyzer_get",
    "analyzer_warm",
]
