"""A small HTML tag scanner that keeps source offsets, so edits can be spliced in place.

Re-serialising a page through a parser changes bytes the platform's own code depends on and is
slow (DESIGN.md, "Performance targets"). Instead we tokenise tags the way a browser does
(comments, raw-text elements and quoted attribute values are skipped correctly) and record
only the elements a caller asks for, with their exact spans and nesting.
Every pattern here runs in linear time, so hostile input cannot stall a worker.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
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


def html_elements_find(
    source: str, names_wanted: frozenset[str], attribute_word: str, attribute_hint: re.Pattern[str]
) -> list[Element]:
    """The elements named in `names_wanted`, or whose start tag contains `attribute_word` and
    matches `attribute_hint` (a pre-filter: the caller checks the parsed attributes), in
    document order. The plain substring test goes first because it is several times faster.

    Only the recorded elements are tracked, not every open element: an end tag closes the
    innermost open recorded element of its name, unless an element of that name opened inside
    the innermost recorded element is still open (then it closes that one). Closing a recorded
    element closes the recorded elements opened inside it, as browsers do. One difference from
    a browser, on malformed markup only: an end tag of an unrecorded ancestor does not close a
    recorded element. This loop runs once per tag of a 1.3 MB page, hence flat, with locals.
    """
    elements: list[Element] = []
    find, hint, length = source.find, attribute_hint.search, len(source)
    open_stack: list[_Open] = []  # recorded elements still open, innermost last
    tracked: dict[str, int] = {}  # name -> how many recorded elements of that name are open
    templates = 0
    for tag in html_tags_iter(source):
        name = tag.name
        if tag.closing:
            if name == "template" and templates:
                templates -= 1
            if tracked.get(name):
                _close(elements, open_stack, tracked, tag)
            continue
        if name == "!":
            continue
        start, end = tag.name_end, tag.end
        if name in names_wanted or (
            find(attribute_word, start, end) >= 0 and hint(source, start, end)
        ):
            parent = open_stack[-1].index if open_stack else -1
            attributes = tag_attributes_parse(source, tag)
            element = Element(tag, attributes, parent, templates > 0)
            elements.append(element)
            if name in VOID_ELEMENTS:
                element.close_start = element.close_end = tag.end
            else:
                open_stack.append(_Open(len(elements) - 1, name, {}))
                tracked[name] = tracked.get(name, 0) + 1
        elif tracked.get(name) and name not in VOID_ELEMENTS:
            inner = open_stack[-1].same_names  # an unrecorded namesake of an open element
            inner[name] = inner.get(name, 0) + 1
        if name == "template":
            templates += 1
    for entry in open_stack:  # still open at the end of the document
        elements[entry.index].close_start = elements[entry.index].close_end = length
    return elements


@dataclass(slots=True)
class _Open:
    index: int  # in the result list
    name: str
    same_names: dict[str, int]  # unrecorded elements opened inside it that share a tracked name


def _close(
    elements: list[Element], open_stack: list[_Open], tracked: dict[str, int], tag: Tag
) -> None:
    """Apply an end tag whose name is tracked. Whatever it closes, the recorded elements opened
    inside are closed too: each walk down the stack pops what it passed, so hostile nesting
    costs linear time overall."""
    name = tag.name
    for position in range(len(open_stack) - 1, -1, -1):
        entry = open_stack[position]
        if entry.same_names.get(name):  # an unrecorded namesake opened inside this entry
            _pop_to(elements, open_stack, tracked, position + 1, tag.start, tag.start)
            entry.same_names[name] -= 1
            return
        if entry.name == name:
            _pop_to(elements, open_stack, tracked, position + 1, tag.start, tag.start)
            _pop_to(elements, open_stack, tracked, position, tag.start, tag.end)
            return


def _pop_to(
    elements: list[Element],
    open_stack: list[_Open],
    tracked: dict[str, int],
    size: int,
    close_start: int,
    close_end: int,
) -> None:
    while len(open_stack) > size:
        popped = open_stack.pop()
        tracked[popped.name] -= 1
        elements[popped.index].close_start = close_start
        elements[popped.index].close_end = close_end


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
