"""Types every platform adapter shares (CONTRACT.md section 3).

An adapter turns a raw feed body into `Post`s and, given edits keyed by post id and field or
media key, renders the body back. Everything it did not edit comes back exactly as it came.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


class FeedParseError(ValueError):
    """The body is not a document of the platform's type (the feed is then returned as-is)."""


@dataclass(frozen=True)
class TextField:
    """One visible text unit of a post: the marked text replaces it whole (one text node)."""

    key: str  # adapter-chosen, unique within the post: "title", "body", "full_text"...
    text: str  # the visible plain text, entities decoded


@dataclass(frozen=True)
class MediaRef:
    key: str  # adapter-chosen, unique within the post
    url: str  # absolute URL exactly as the document holds it (the key clients wait on)
    alt: str = ""
    kind: str = "image"  # image | gallery | poster | photo | video | animated_gif


@dataclass
class Post:
    id: str  # t3_..., t1_... (comments), or the tweet rest_id
    platform: str  # "reddit" | "x"
    kind: str  # "post" | "ad" | "comment" | "tweet"
    fields: list[TextField]
    media: list[MediaRef] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)  # author, subreddit, promoted...

    @property
    def text(self) -> str:
        return "\n".join(f.text for f in self.fields if f.text)


@dataclass(frozen=True)
class MediaEdit:
    """What happens to one image (CONTRACT.md section 5)."""

    config: dict[str, Any]  # the `diy-mod-image` object: {"type": ..., "status": ...}
    swap_url: str | None = None  # X only: the media URL to put in place, when ready


class ParsedFeed(ABC):
    posts: list[Post]

    @abstractmethod
    def render(
        self,
        text_edits: dict[tuple[str, str], str],
        media_edits: dict[tuple[str, str], MediaEdit],
    ) -> str:
        """The document with edits applied.

        `text_edits` maps (post id, field key) to *safe HTML with markers* (the post's text
        already HTML-escaped by the intervention code); the adapter only encodes it for its
        document type. With no edits the input comes back unchanged.
        """
