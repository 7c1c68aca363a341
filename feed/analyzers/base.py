"""The one interface every analyzer implements (DESIGN.md, "Matching and interventions")."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


class AnalyzerError(RuntimeError):
    """The analyzer could not answer (model down, timeout, invalid output)."""


@dataclass(frozen=True)
class FilterSpec:
    id: int
    text: str
    content_type: str  # "text" | "image" | "all"
    intensity: int  # 1..5


@dataclass(frozen=True)
class PostInput:
    id: str
    text: str  # the visible text of the post (title + body, or full_text)
    image_alts: tuple[str, ...] = ()  # alt texts of its images, in media order
    image_urls: tuple[str, ...] = ()  # for vision-capable analyzers
    # Platform context, one item a line: the subreddit ("r/leagueoflegends"), the author
    # ("@handle"), the text of a quoted tweet. Not the post's own text: never a passage.
    context: str = ""


@dataclass(frozen=True)
class Match:
    filter_id: int
    confidence: float  # 0..1
    passages: tuple[str, ...]  # exact substrings of the post text that match
    on_text: bool = True  # the match came from the post's text
    on_image: bool = False  # the match covers the post's images


@dataclass
class Analysis:
    matches: dict[str, list[Match]]  # post id -> matches (only posts that matched)
    model_calls: int = 0
    degraded_reason: str = ""  # set when the analyzer fell back (timeout, model error)
    notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RewriteRequest:
    post_id: str
    text: str
    passages: tuple[str, ...]
    filter_texts: tuple[str, ...]


@dataclass(frozen=True)
class Rewrite:
    post_id: str
    replacements: dict[str, str]  # passage -> replacement text
    warning: str  # short card text; never names the topic


class Rewrites(dict[str, Rewrite]):
    """`rewrite()`'s answer: post id → Rewrite, and how many model requests it took."""

    def __init__(
        self,
        items: dict[str, Rewrite] | None = None,
        *,
        model_calls: int = 0,
        degraded_reason: str = "",
    ) -> None:
        super().__init__(items or {})
        self.model_calls = model_calls
        self.degraded_reason = degraded_reason  # set when a fallback wrote them


class Analyzer(ABC):
    version: str  # part of the cache key: bump it when decisions may change

    @abstractmethod
    def analyze(self, posts: list[PostInput], filters: list[FilterSpec]) -> Analysis: ...

    @abstractmethod
    def rewrite(self, requests: list[RewriteRequest]) -> dict[str, Rewrite]: ...
