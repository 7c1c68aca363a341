"""A small HTML tag scanner that keeps source offsets, so edits can be spliced in place.

Re-serialising a page through a parser changes bytes the platform's own code depends on and is
slow (DESIGN.md, "Performance targets"). Instead we tokenise tags the way a browser does
(comments, raw-text elements and quoted attribute values are skipped correctly) and record
only the elements a caller asks for, with their exact spans and nesting.
Every pattern here runs in linear time, so hostile input cannot stall a worker.
"""

from __future__ import annotations

import functools
import html
import importlib
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple, TypeVar, overload

# One token: a comment, a declaration (`<!...>`, `<?...>`) or a start/end tag with its
# attributes. Quotes only count right after `=`. The possessive loop and the `\Z` exits keep
# it linear on hostile input (an unterminated comment or tag runs to the end of the document).
_TOKEN = re.compile(
    r"""<(?:!--(?:-?>|.*?(?:--!?>|\Z))|[!?][^>]*(?:>|\Z)"""
    r"""|(/?)([a-zA-Z][^\t\n\f\r />]*)"""
    r"""(?:[^>"'=]+|=[\t\n\f\r ]*"[^"]*"|=[\t\n\f\r ]*'[^']*'|[="'])*+(?:>|\Z))""",
    re.DOTALL,
)
_T = TypeVar("_T")
logger = logging.getLogger(__name__)
# One attribute: its name and, after `=`, its value as written: quoted (the quotes kept, see
# `_value_unquote`) or bare. A quote opens a value only if it closes in the tag; else the
# value is bare and runs to a space, so it holds no second quote of its kind.
_ATTRIBUTE = re.compile(
    r"""([^\t\n\f\r />"'=][^\t\n\f\r />=]*+)"""
    r"""(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+("[^"]*+"|'[^']*+'|[^\t\n\f\r >]*+))?"""
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
# Decoded by `str.replace`, in this order (`&amp;` last): see `entities_decode`.
_COMMON_ENTITIES = {"&quot;": '"', "&lt;": "<", "&gt;": ">", "&#39;": "'", "&#x27;": "'",
                    "&nbsp;": "\xa0", "&amp;": "&"}  # fmt: skip

_S = r"\t\n\f\r "  # the whitespace that ends a tag name
_TAG_NAME = rf"[a-zA-Z][^{_S}/>]*"
_TAG_BODY = rf"""(?:[^>"'=]+|=[{_S}]*"[^"]*"|=[{_S}]*'[^']*'|[="'])*+(?:>|\Z)"""
# Text, a `<` that starts no tag, comments and declarations: never a candidate. These are the
# alternatives of `_TOKEN`, in its order.
_SKIP_NON_TAGS = (
    r"""[^<]++|<(?![a-zA-Z!?]|/[a-zA-Z])|<!--(?:-?>|.*?(?:--!?>|\Z))|<[!?][^>]*+(?:>|\Z)"""
)
# What follows the skipped markup: the next tag (slash, name) or, at the end, nothing.
_CANDIDATE = rf"(?:<(/?)({_TAG_NAME}){_TAG_BODY})?"
_EVERY_TAG = re.compile(rf"(?:{_SKIP_NON_TAGS})*+{_CANDIDATE}", re.DOTALL)
_MOST_DYNAMIC_NAMES = 4  # recorded names open at once beyond `names_wanted`, for skipping
_SKIP_PATTERNS: dict[tuple[frozenset[str], frozenset[str]], re.Pattern[str]] = {}
_SKIP_PATTERNS_KEPT = 64
# The skipping patterns run with an end position (see `_elements_find`) and read only tokens
# that end before it: none runs to "the end" (`\Z`), and a quote after `=` must close before
# it. Every token they read is then exactly the token `_TOKEN` reads there without the end
# position; where they cannot tell, they stop, and `_TOKEN` reads that one token. In a tag
# body a quote opens a value only after `=` (and spaces): anything else up to the next `=` or
# `>` is one run, so a tag costs one step per `=`, not one per attribute piece.
_STRICT_NAME = rf"[a-zA-Z][^{_S}/>]*+"
_STRICT_BODY = rf"""[^>=]*+(?:=[{_S}]*+(?:"[^"]*+"|'[^']*+'|(?!["']))[^>=]*+)*+>"""
_STRICT_NON_TAGS = (
    r"""[^<]++|<(?:!--(?:-?>|.*?--!?>)|(?:!(?!--)|\?)[^>]*+>|(?=[^a-zA-Z!?/]|/[^a-zA-Z]))"""
)


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
    attributes: Attributes
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
        value = match.group(2)
        span = None if value is None else match.span(2)
        if span is not None and _value_unquote(value) is not value:
            span = (span[0] + 1, span[1] - 1)
        spans.append((match.group(1).lower(), match.start(), match.end(), span))
    return spans


def _value_unquote(value: str) -> str:
    """A value as `_ATTRIBUTE` reads it, without its quotes if it has them: a bare value that
    starts with a quote holds no other of its kind, so it cannot also end with one."""
    if len(value) > 1 and value[0] in "\"'" and value[-1] == value[0]:
        return value[1:-1]
    return value


class Attributes(Mapping[str, str]):
    """A start tag's attributes by lower-cased name, the first occurrence winning. A value is
    decoded (as browsers do) when it is read: most of a post's attributes never are, and an
    ad's JSON attributes hold thousands of entities."""

    __slots__ = ("_raw",)

    def __init__(self, raw: dict[str, str]) -> None:  # values as `_ATTRIBUTE` reads them
        self._raw = raw

    def __getitem__(self, name: str) -> str:
        value = _value_unquote(self._raw[name])
        return entities_decode(value) if "&" in value else value

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, /, default: str | _T) -> str | _T: ...
    def get(self, name: str, /, default: object = None) -> object:
        value = self._raw.get(name)
        if value is None:
            return default
        value = _value_unquote(value)
        return entities_decode(value) if "&" in value else value

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return f"Attributes({dict(self.items())!r})"


def tag_attributes_parse(source: str, tag: Tag) -> Attributes:
    found = _ATTRIBUTE.findall(source, tag.name_end, tag.end - 1)  # a bare name reads ""
    raw = dict(reversed(found))  # back to front: the first occurrence of a name is kept
    names = "".join(raw)
    if names.lower() != names:  # `lower()` changes a character whatever surrounds it
        raw = {name.lower(): value for name, value in reversed(found)}
    return Attributes(raw)


def entities_decode(text: str) -> str:
    """`html.unescape(text)`, quicker when every `&` starts one of the few entities pages use
    most (an ad's JSON attribute holds thousands of `&quot;`): `str.replace` for those, with
    `&amp;` last, so no `&` it makes is read again."""
    if "&" not in text:
        return text
    if text.count("&") != sum(map(text.count, _COMMON_ENTITIES)):
        return html.unescape(text)
    for entity, character in _COMMON_ENTITIES.items():
        text = text.replace(entity, character)
    return text


def html_elements_find(
    source: str, names_wanted: frozenset[str], attribute_hint: re.Pattern[str]
) -> list[Element]:
    """The elements named in `names_wanted`, or whose start tag matches `attribute_hint` after
    its name (a pre-filter: the caller checks the parsed attributes), in document order.
    Where the hint matches in a start tag, it must match there in the whole document too: a
    hint that needs the text to end (`$`, `\\Z`) or looks past the tag cannot be used.

    Only the recorded elements are tracked, not every open element: an end tag closes the
    innermost open recorded element of its name, unless an element of that name opened inside
    the innermost recorded element is still open (then it closes that one). Closing a recorded
    element closes the recorded elements opened inside it, as browsers do. One difference from
    a browser, on malformed markup only: an end tag of an unrecorded ancestor does not close a
    recorded element.

    Most of a page's tags cannot change the result, so a compiled pattern passes over them in
    C, never past the hint's next match, and this loop sees only the few that might (see
    `_skip_pattern`): the same tags, in the same places, as tokenising every one. Where the
    compiled scan is built (`_tagscan.c`), it reads the tokens instead, ~3x quicker on a Reddit
    page (2.4 ms against 7.0): the same list again, tested against
    `_elements_find(..., skip=False)`.
    """
    if _compiled_elements_find is not None:
        literal = _hint_literal(attribute_hint)
        return _compiled_elements_find(source, names_wanted, attribute_hint, literal)
    return _elements_find(source, names_wanted, attribute_hint, skip=True)


def _elements_find(
    source: str, names_wanted: frozenset[str], attribute_hint: re.Pattern[str], *, skip: bool
) -> list[Element]:
    """`html_elements_find`; with `skip=False` every tag goes through the loop (the reference
    the skipping is tested against). Flat, with locals: it runs once per candidate tag."""
    elements: list[Element] = []
    hint, length = attribute_hint.search, len(source)
    open_stack: list[_Open] = []  # recorded elements still open, innermost last
    tracked: dict[str, int] = {}  # name -> how many recorded elements of that name are open
    templates = 0
    static_ends = names_wanted | {"template"}
    pattern, position, tracked_changed = _EVERY_TAG, 0, True
    patterns: dict[tuple[str, ...], re.Pattern[str]] = {}  # by the tracked names, in order
    # Where the hint next matches from `position` on (skipping only): a start tag the hint
    # matches in ends after it, and one that ends before it holds no match.
    hint_at = -1 if skip else length
    while True:
        if tracked_changed:
            names = tuple(tracked)
            pattern = patterns.get(names, _EVERY_TAG)
            if pattern is _EVERY_TAG and skip:
                if len(tracked) <= len(static_ends) + _MOST_DYNAMIC_NAMES:
                    pattern = _skip_pattern(names_wanted, frozenset(tracked) - static_ends)
                patterns[names] = pattern
            tracked_changed = False
        if hint_at < position:
            found = hint(source, position)
            hint_at = found.start() if found is not None else length
        if pattern is _EVERY_TAG:
            match = pattern.match(source, position)
        else:
            # The skip stops at the hint's next match: it never passes over a tag it is in.
            match = pattern.match(source, position, hint_at)
            assert match is not None  # every part of the pattern is optional
            if match.group(2) is None:  # stopped before a token the skip could not read whole
                stop = match.end()
                if stop >= length:
                    break
                match = _TOKEN.match(source, stop)
                if match is None:  # text, or a `<` that starts no tag: one character on
                    position = stop + 1
                    continue
                if match.group(2) is None:  # a comment or a declaration
                    position = match.end()
                    continue
        assert match is not None  # every part of the pattern is optional
        raw_name = match.group(2)
        if raw_name is None:
            break
        start, end, name_end = match.start(1) - 1, match.end(), match.end(2)
        if source[end - 1] != ">":
            break  # a tag cut off by the end of the document is dropped, as browsers do
        position, name = end, raw_name.lower()
        if match.group(1):  # an end tag
            if name == "template" and templates:
                templates -= 1
            if tracked.get(name):
                _close(elements, open_stack, tracked, name, start, end)
                tracked_changed = True
            continue
        if name in names_wanted or (
            (hint_at < end or not skip) and hint(source, name_end, end) is not None
        ):
            tag = Tag(start, end, name, False, name_end)
            parent = open_stack[-1].index if open_stack else -1
            attributes = tag_attributes_parse(source, tag)
            element = Element(tag, attributes, parent, templates > 0)
            elements.append(element)
            if name in VOID_ELEMENTS:
                element.close_start = element.close_end = end
            else:
                open_stack.append(_Open(len(elements) - 1, name, {}))
                tracked[name] = tracked.get(name, 0) + 1
                tracked_changed = True
        elif tracked.get(name) and name not in VOID_ELEMENTS:
            inner = open_stack[-1].same_names  # an unrecorded namesake of an open element
            inner[name] = inner.get(name, 0) + 1
        if name == "template":
            templates += 1
        elif name in RAW_TEXT_ELEMENTS:  # its text is not markup: resume at its end tag
            raw_end = _RAW_TEXT_END[name].search(source, end)
            if raw_end is None:
                break
            position = raw_end.start()
    for entry in open_stack:  # still open at the end of the document
        elements[entry.index].close_start = elements[entry.index].close_end = length
    return elements


def _skip_pattern(names_wanted: frozenset[str], other_names: frozenset[str]) -> re.Pattern[str]:
    """The compiled skipping pattern for these tracked names, cached; past the cache's size
    (only hostile pages open that many differently named recorded elements) `_EVERY_TAG`."""
    key = (names_wanted, other_names)
    pattern = _SKIP_PATTERNS.get(key)
    if pattern is None:
        if len(_SKIP_PATTERNS) >= _SKIP_PATTERNS_KEPT:
            return _EVERY_TAG
        others = other_names | {"template"}
        starts, ends = names_wanted | others | RAW_TEXT_ELEMENTS, names_wanted | others
        pattern = _SKIP_PATTERNS[key] = _skip_pattern_compile(starts, ends)
    return pattern


def _skip_pattern_compile(starts: frozenset[str], ends: frozenset[str]) -> re.Pattern[str]:
    """Matched at a position with an end position, this passes over text, comments,
    declarations, start tags not named in `starts` and end tags not named in `ends`, all read
    as `_TOKEN` reads them (see `_STRICT_BODY`); then the next tag if it is named there and
    ends before the end position (slash, name), else nothing.

    Only names of ASCII characters without capitals are passed over, compared as they are:
    `str.lower()` leaves those unchanged (and maps no other name onto ASCII letters but the
    Kelvin sign's), so every name the loop would take for one in `starts` or `ends` stops the
    skip; extra stops are harmless, the loop decides. Every repetition is possessive, so a
    match is linear in what it reads, and each match call starts where the last one ended."""
    plain_name = rf"[a-z][^{_S}/>A-Z\x80-\U0010ffff]*+(?=[{_S}/>])"
    other_tags = (
        rf"<(?:(?!(?:{_names_alternation(starts)})[{_S}/>]){plain_name}{_STRICT_BODY}"
        rf"|/(?!(?:{_names_alternation(ends)})[{_S}/>]){plain_name}{_STRICT_BODY})"
    )
    candidate = rf"(?:<(/?)({_STRICT_NAME}){_STRICT_BODY})?"
    return re.compile(rf"(?:{other_tags}|{_STRICT_NON_TAGS})*+{candidate}", re.DOTALL)


def _skip_pattern_build(
    starts: frozenset[str], ends: frozenset[str], start_body: str, end_body: str
) -> re.Pattern[str]:
    """Skip text, comments, declarations, start tags not named in `starts` whose rest matches
    `start_body` and end tags not named in `ends` whose rest matches `end_body`; then the next
    tag (`_CANDIDATE`)."""
    name_ends = rf"(?:[{_S}/>]|\Z)"
    other_tags = (
        rf"</(?!(?i:{_names_alternation(ends)}){name_ends}){_TAG_NAME}{end_body}"
        rf"|<(?!(?i:{_names_alternation(starts)}){name_ends}){_TAG_NAME}{start_body}"
    )
    return re.compile(rf"(?:{_SKIP_NON_TAGS}|{other_tags})*+{_CANDIDATE}", re.DOTALL)


def _names_alternation(names: frozenset[str]) -> str:
    """`names` as a trie of alternatives, so at most one branch is tried per character."""
    branches = []
    for first in sorted({name[0] for name in names if name}):
        group = [name for name in names if name[:1] == first]
        prefix = os.path.commonprefix(group)
        rests = frozenset(name[len(prefix) :] for name in group)
        inner = "" if rests == {""} else f"(?:{_names_alternation(rests)})"
        branches.append(re.escape(prefix) + inner)
    if "" in names:
        branches.append("")
    return "|".join(branches)


def _names_group(alternation: str, names: frozenset[str]) -> str:
    return f"(?:{alternation})" if len(names) > 1 or "|" in alternation else alternation


@dataclass(slots=True)
class _Open:
    index: int  # in the result list
    name: str
    same_names: dict[str, int]  # unrecorded elements opened inside it that share a tracked name


def _close(
    elements: list[Element],
    open_stack: list[_Open],
    tracked: dict[str, int],
    name: str,
    start: int,
    end: int,
) -> None:
    """Apply an end tag (`name`, from `start` to `end`) whose name is tracked. Whatever it
    closes, the recorded elements opened inside are closed too: each walk down the stack pops
    what it passed, so hostile nesting costs linear time overall."""
    for position in range(len(open_stack) - 1, -1, -1):
        entry = open_stack[position]
        if entry.same_names.get(name):  # an unrecorded namesake opened inside this entry
            _pop_to(elements, open_stack, tracked, position + 1, start, start)
            entry.same_names[name] -= 1
            return
        if entry.name == name:
            _pop_to(elements, open_stack, tracked, position + 1, start, start)
            _pop_to(elements, open_stack, tracked, position, start, end)
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
        if not tracked[popped.name]:
            del tracked[popped.name]  # `tracked` holds only what is open (see `_skip_pattern`)
        elements[popped.index].close_start = close_start
        elements[popped.index].close_end = close_end


def html_text_visible(source: str, start: int, end: int) -> str:
    """The text a reader sees in source[start:end]: tags stripped, entities decoded, whitespace
    collapsed, one line per block (paragraph, list item, line break)."""
    return _text_visible(source[start:end], fast=True)


def _text_visible(fragment: str, *, fast: bool) -> str:
    """`html_text_visible` of a fragment. Where no tag hides text (the usual post body) one
    split into `_TOKEN`'s tokens does it; elsewhere, or with `fast=False` (the reference the
    split is tested against), Python looks only at the tags that hide text or break lines, and
    the others are cut out of the text between them by `_TOKEN.sub`, which splits that stretch
    into the same tokens."""
    text = _text_split(fragment) if fast else None
    if text is None:
        text = _text_walk(fragment)
    if "&" in text:
        text = entities_decode(text)
    # Each line's runs of whitespace collapse to one space, its ends trimmed; empty lines go.
    return "\n".join(filter(None, map(" ".join, map(str.split, text.split("\n")))))


def _text_split(fragment: str) -> str | None:
    """The fragment's text with tags and comments cut out and a line break for each block tag;
    None when a tag may hide text (or holds raw text, which the split would read as markup) or
    the last tag is cut off by the end (it then reads as text): `_text_walk` does those."""
    parts = _TOKEN.split(fragment)  # text, slash, name, text, slash, name, ..., text
    if len(parts) == 1:
        return fragment
    names = [name.lower() if name else "" for name in parts[2::3]]
    if not _INVISIBLE_ELEMENTS.isdisjoint(names):
        return None
    if names[-1] and not parts[-1] and fragment[-1] != ">":
        return None
    # Until a raw-text start tag the split reads exactly `_TOKEN`'s tokens, and there is none.
    pieces = parts[::3]
    breaks = ["\n" if name in _BLOCK_ELEMENTS else "" for name in names]
    joined = [""] * (len(pieces) + len(breaks))
    joined[::2], joined[1::2] = pieces, breaks
    return "".join(joined)


def _text_walk(fragment: str) -> str:
    pieces: list[str] = []
    position, hidden = 0, 0  # where the text not yet taken starts; open invisible elements
    boundaries, tail = _TEXT_BOUNDARIES.match, len(fragment)  # text from `tail` on is kept
    while True:
        match = boundaries(fragment, position)
        assert match is not None  # every part of the pattern is optional
        raw_name = match.group(2)
        if raw_name is None:
            break
        tag_start, tag_end = match.start(1) - 1, match.end()
        if fragment[tag_end - 1] != ">":
            tail = tag_start  # cut off by the end: it reads as text
            break
        if not hidden:
            pieces.append(_markup_strip(fragment[position:tag_start]))
        position, name = tag_end, raw_name.lower()
        if name in _INVISIBLE_ELEMENTS and fragment[tag_end - 2] != "/":
            hidden = max(0, hidden - 1) if match.group(1) else hidden + 1
        elif name in _BLOCK_ELEMENTS:
            pieces.append("\n")
        if name in RAW_TEXT_ELEMENTS and not match.group(1):
            raw_end = _RAW_TEXT_END[name].search(fragment, tag_end)
            if raw_end is None:
                tail = tag_end  # the rest is this element's text
                break
            if not hidden:
                pieces.append(fragment[tag_end : raw_end.start()])
            position = raw_end.start()
    if not hidden:
        pieces.append(_markup_strip(fragment[position:tail]) + fragment[tail:])
    return "".join(pieces)


def _markup_strip(text: str) -> str:
    """`text` without its tags and comments (it holds no raw-text element)."""
    return _TOKEN.sub("", text) if "<" in text else text


def attribute_value_escape(value: str) -> str:
    """Encode a value for a double-quoted attribute."""
    return html.escape(value, quote=True).replace("&#x27;", "'")


def text_escape(value: str) -> str:
    """Encode a string as one text node of an HTML document."""
    return html.escape(value, quote=False)


# The tags that hide text or break lines, for `html_text_visible`. Only complete tags are
# skipped: one cut off by the end stops the scan, as in `html_tags_iter`.
_TEXT_BOUNDARIES = _skip_pattern_build(
    _INVISIBLE_ELEMENTS | _BLOCK_ELEMENTS,
    _INVISIBLE_ELEMENTS | _BLOCK_ELEMENTS,
    _TAG_BODY.removesuffix("(?:>|\\Z)") + ">",
    _TAG_BODY.removesuffix("(?:>|\\Z)") + ">",
)


@functools.lru_cache(maxsize=64)
def _hint_literal(hint: re.Pattern[str]) -> str:
    """The text every match of `hint` starts with, or "" (unknown): the compiled scan asks the
    hint only about start tags that hold it. Read from the pattern as `re` parses it; only
    plain leading characters count (no IGNORECASE, no group)."""
    if hint.flags & re.IGNORECASE:
        return ""
    try:
        parsed = re._parser.parse(hint.pattern, hint.flags)  # type: ignore[attr-defined]
    except Exception:  # a private module: any surprise means "unknown"
        return ""
    literal = []
    for operation, value in parsed:
        if operation is not re._constants.LITERAL:  # type: ignore[attr-defined]
            break
        literal.append(chr(value))
    return "".join(literal)


_ElementsFind = Callable[[str, frozenset[str], re.Pattern[str], str], list[Element]]


def _compiled_scan_load() -> _ElementsFind | None:
    """The compiled scan, given this module's classes and patterns (it makes the very same
    Elements); None, with one log line, when it is not built (`make install` builds it where
    there is a C compiler) or `DIYMOD_TAGSCAN=python` asks for the Python loop."""
    if os.environ.get("DIYMOD_TAGSCAN", "").strip().lower() == "python":
        logger.info("DIYMOD_TAGSCAN=python: the pure-Python tag scan is used")
        return None
    try:
        tagscan = importlib.import_module("feed.platforms._tagscan")
    except ImportError:
        logger.warning("feed/platforms/_tagscan.c is not built: the pure-Python tag scan is used")
        return None
    tagscan.configure(Tag, Element, Attributes, _RAW_TEXT_END, VOID_ELEMENTS)
    return tagscan.elements_find  # type: ignore[no-any-return]


_compiled_elements_find = _compiled_scan_load()
