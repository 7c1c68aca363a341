"""Text interventions: the markers of CONTRACT section 4, built as safe HTML.

The extension inserts a text node holding a start marker as HTML, so everything we put between
markers is the post's visible text HTML-escaped here; the platform adapter then encodes the
result for its document (HTML text node or X `full_text`) on top. The words inside the
markers (warnings, the rewrite note) come from `feed.wording`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from feed.wording import DEFAULT_WARNING, REWRITE_NOTE, warning_or_default

BLUR = ("__BLUR_START__", "__BLUR_END__")
OVERLAY = ("__OVERLAY_START__", "__OVERLAY_END__")
REWRITE = ("__REWRITE_START__", "__REWRITE_END__")
START_MARKERS = (BLUR[0], OVERLAY[0], REWRITE[0])
# Put after a marker's leading `__`: readable as written, unrecognised by the client.
DEFANG = "\u200b"


def text_escape(text: str) -> str:
    return html.escape(text, quote=True)


def markers_present(text: str) -> bool:
    return any(marker in text for marker in START_MARKERS)


def markers_defang(text: str) -> str:
    """A post that spells out a marker itself must not get its text inserted as HTML.

    A zero-width space inside each marker keeps it readable yet unrecognised by the client.
    `feed.defang` does the same to the raw feed body, in whatever spelling it comes.
    """
    if "__" not in text:  # every marker starts with it: most texts need no replacing
        return text
    for marker in (*BLUR, *OVERLAY, *REWRITE):
        text = text.replace(marker, marker[:2] + DEFANG + marker[2:])
    return text


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    replacement: str | None = None  # None: keep the passage (blur); text: rewrite it


def passage_spans(text: str, passages: Iterable[str]) -> list[Span]:
    """Every occurrence of each passage in `text`, earliest first, overlaps merged."""
    found: list[tuple[int, int]] = []
    for passage in {p for p in passages if p and p.strip()}:
        start = text.find(passage)
        while start != -1:
            found.append((start, start + len(passage)))
            start = text.find(passage, start + len(passage))
    merged: list[list[int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [Span(start, end) for start, end in merged]


def spans_mark(text: str, spans: list[Span], markers: tuple[str, str]) -> str:
    """`text` escaped, with each span wrapped in `markers` (its replacement if it has one)."""
    out, cursor = [], 0
    for span in spans:
        inner = text[span.start : span.end] if span.replacement is None else span.replacement
        out += [text_escape(text[cursor : span.start]), markers[0], text_escape(inner), markers[1]]
        cursor = span.end
    out.append(text_escape(text[cursor:]))
    return "".join(out)


def blur_mark(text: str, passages: Iterable[str]) -> str | None:
    spans = passage_spans(text, passages)
    return spans_mark(text, spans, BLUR) if spans else None


def overlay_mark(text: str, warning: str = DEFAULT_WARNING) -> str:
    return f"{OVERLAY[0]}{warning_or_default(warning)}|{text_escape(text)}{OVERLAY[1]}"


def rewrite_mark(text: str, replacements: dict[str, str]) -> str | None:
    spans = [
        Span(span.start, span.end, replacements.get(text[span.start : span.end]) or REWRITE_NOTE)
        for span in passage_spans(text, replacements)
    ]
    return spans_mark(text, spans, REWRITE) if spans else None


def image_only_mark(text: str) -> str:
    """The text as it was, behind an empty blur pair: the lightest marker the client accepts.

    Used when only a post's image matched: the client only processes images inside a subtree
    that also holds a text marker (CONTRACT section 5). An empty blur blurs nothing and shows
    no "Modified by DIY-MOD" badge (a rewrite pair would); the node is still inserted as HTML,
    so the text is escaped like any marked text (CONTRACT section 4).
    """
    return f"{BLUR[0]}{BLUR[1]}{text_escape(markers_defang(text))}"
