"""A small HTML tag scanner that keeps source offsets, so edits can be spliced in place.

Re-serialising a page through a parser changes bytes the platform's own code depends on and is
slow (DESIGN.md, "Performance targets"). Instead we tokenise tags the way a browser does
(comments, raw-text elements and quoted attribute values are skipped correctly), keep a stack
of open elements, and record only the elements a caller asks for, with their exact spans.
Every pattern here runs in linear time, so hostile input cannot stall a worker.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

# One token: a comment, a declaration (`<!...>`, `<?...>`) or a start/end tag with its
# attributes. Quotes only count right after `=`. The possessive loop and the `\Z` exits keep
# it linear on hostile input (an unterminated comment or tag runs to the end of the document).
_TOKEN = re.compile(
    r"""<(?:!--(?:-?>|.*?(?:--!?>|\Z))|[!?][^>]*(?:>|\Z)"""
    r"""|(/?)([a-zA-Z][^\t\n\f\r />]*)"""
    r"""(?:[^>"'=]+|=[\t\n\f\r ]*"[^"]*"|=[\t\n\f\r ]*'[^']*'|[="'])*+(?:>|\Z))""",
    re.DOTALL,
)
_ATTRIBUTE = re.compile(
    r"""([^\t\n\f\r />"'=][^\t\n\f\r />=]*)"""
    r"""(?:[\t\n\f\r ]*=[\t\n\f\r ]*(?:"([^"]*)"|'([^']*)'|([^\t\n\f\r >]*)))?"""
)
RAW_TEXT_ELEMENTS = frozenset(
    {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript"}
)
_RAW_TEXT_END = {
    name: re.compile(rf"</{name}[\t\n\f\r />]", re.IGNORECASE) for name in RAW_TEXT_ELEMENTS
}
VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"}
)  # fmt: skip
# Boundaries of these start a new line of visible text.
_BLOCK_ELEMENTS = frozenset(
    {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
     "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "ol",
     "p", "pre", "section", "table", "td", "th", "tr", "ul"}
)  # fmt: skip
_INVISIBLE_ELEMENTS = RAW_TEXT_ELEMENTS | {"template", "svg"}
_SPACES = re.compile(r"[^\S\n]+")


class Tag(NamedTuple):
    start: int  # offset of `<`
    end: int  # offset just after `>`
    name: str  # lower-cased; "!" for comments, doctypes and other declarations
    closing: bool
    name_end: int  # offset just after the tag name: the attributes follow


@dataclass(slots=True)
class Element:
    """A start tag the caller asked for, and where its content ends."""

    tag: Tag
    attributes: dict[str, str]  # first occurrence wins, values decoded (as browsers do)
    parent: int  # index of the nearest recorded ancestor in the result list, or -1
    in_template: bool  # inert content the page never renders
    close_start: int = -1  # the end tag's `<`, or where the end was implied
    close_end: int = -1  # just after the end tag (== close_start when the end was implied)

    @property
    def name(self) -> str:
        return self.tag.name

    @property
    def inner(self) -> tuple[int, int]:
        return self.tag.end, max(self.tag.end, self.close_start)


def html_tags_iter(source: str) -> Iterator[Tag]:
    """Every tag of `source` in order, skipping the text inside raw-text elements."""
    position = 0
    while True:
        for match in _TOKEN.finditer(source, position):
            start, end = match.span()
            name = match.group(2)
            if name is None:
                yield Tag(start, end, "!", False, end)
                continue
            if source[end - 1] != ">":
                return  # a tag cut off by the end of the document is dropped, as browsers do
            name, closing = name.lower(), match.group(1) == "/"
            yield Tag(start, end, name, closing, match.end(2))
            if not closing and name in RAW_TEXT_ELEMENTS:
                break  # the element's text is not markup: resume at its end tag
        else:
            return
        raw_end = _RAW_TEXT_END[name].search(source, end)
        if raw_end is None:
            return
        position = raw_end.start()


def attribute_spans(source: str, tag: Tag) -> list[tuple[str, int, int, tuple[int, int] | None]]:
    """(lower-cased name, attribute start, attribute end, raw value span or None) in order."""
    spans = []
    for match in _ATTRIBUTE.finditer(source, tag.name_end, tag.end - 1):
        group = 2 if match.group(2) is not None else 3 if match.group(3) is not None else 4
        value = match.span(group) if match.group(group) is not None else None
        spans.append((match.group(1).lower(), match.start(), match.end(), value))
    return spans


def tag_attributes_parse(source: str, tag: Tag) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for name, _start, _end, value in attribute_spans(source, tag):
        if name not in attributes:
            attributes[name] = html.unescape(source[value[0] : value[1]]) if value else ""
    return attributes


def html_elements_find(source: str, wanted: Callable[[str, Tag], bool]) -> list[Element]:
    """The elements for which `wanted(source, tag)` holds, in document order, with spans.

    Nesting follows the browser's generic rule for end tags: an end tag closes the innermost
    open element of that name and everything opened inside it; a stray end tag is ignored.
    This loop runs once per tag of a 1.3 MB page, so it is written flat, with locals.
    """
    elements: list[Element] = []
    names: list[str] = []  # the open elements
    records: list[int] = []  # their index in `elements`, or -1
    recorded_open: list[int] = []  # indices of recorded elements still open
    open_counts: dict[str, int] = {}  # makes a stray end tag O(1) even on a deep stack
    templates = 0
    for tag in html_tags_iter(source):
        name = tag.name
        if name == "!":
            continue
        if tag.closing:
            if not open_counts.get(name):
                continue
            index = len(names) - 1
            while names[index] != name:
                index -= 1
            while len(names) > index:
                popped, record = names.pop(), records.pop()
                open_counts[popped] -= 1
                templates -= popped == "template"
                if record >= 0:
                    recorded_open.pop()
                    matched = len(names) == index
                    elements[record].close_start = tag.start
                    elements[record].close_end = tag.end if matched else tag.start
            continue
        record = -1
        if wanted(source, tag):
            parent = recorded_open[-1] if recorded_open else -1
            attributes = tag_attributes_parse(source, tag)
            elements.append(Element(tag, attributes, parent, templates > 0))
            record = len(elements) - 1
        if name in VOID_ELEMENTS:
            if record >= 0:
                elements[record].close_start = elements[record].close_end = tag.end
            continue
        names.append(name)
        records.append(record)
        open_counts[name] = open_counts.get(name, 0) + 1
        templates += name == "template"
        if record >= 0:
            recorded_open.append(record)
    for record in recorded_open:  # still open at the end of the document
        elements[record].close_start = elements[record].close_end = len(source)
    return elements


def html_text_visible(source: str, start: int, end: int) -> str:
    """The text a reader sees in source[start:end]: tags stripped, entities decoded, whitespace
    collapsed, one line per block (paragraph, list item, line break)."""
    fragment = source[start:end]
    pieces: list[str] = []
    position, hidden = 0, 0
    for tag in html_tags_iter(fragment):
        if not hidden:
            pieces.append(fragment[position : tag.start])
        position = tag.end
        if tag.name in _INVISIBLE_ELEMENTS and fragment[tag.end - 2] != "/":
            hidden = max(0, hidden - 1) if tag.closing else hidden + 1
        elif tag.name in _BLOCK_ELEMENTS:
            pieces.append("\n")
    if not hidden:
        pieces.append(fragment[position:])
    lines = (_SPACES.sub(" ", line).strip() for line in html.unescape("".join(pieces)).split("\n"))
    return "\n".join(line for line in lines if line)


def attribute_value_escape(value: str) -> str:
    """Encode a value for a double-quoted attribute."""
    return html.escape(value, quote=True).replace("&#x27;", "'")


def text_escape(value: str) -> str:
    """Encode a string as one text node of an HTML document."""
    return html.escape(value, quote=False)
