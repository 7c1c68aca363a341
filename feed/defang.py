"""Defanging marker text that a feed spells out itself, in the raw body (CONTRACT section 4).

The extension inserts as HTML every text node that holds a start marker, so a post (or any
other text of the page: flair, a second body, a crosspost embed, a tweet's hidden tail) that
spells `__BLUR_START__` around escaped markup would reach innerHTML. The only marker text a
response may carry is what the server writes itself, after this pass.

This works on the raw body, not on the posts the adapters find: whatever the parsers miss, the
page still decodes. What the page decodes is what counts, so each character of a marker may
come in any spelling the document type allows:
- Reddit (HTML): literal, a decimal or hexadecimal character reference (leading zeros, with or
  without `;`), `&lowbar;` / `&UnderBar;`; a NUL between characters (the HTML parser drops it
  from text, joining what surrounds it).
- X (JSON): literal or a `\\u00XX` escape (the page's other decoding, `&amp; &lt; &gt;` in
  `full_text`, cannot produce a marker's characters).
Each marker found is defanged in place exactly as `interventions.markers_defang` does it: a
zero-width space after its leading `__`, every byte around it kept. A body without any of the
marker words (the usual case) is not searched at all and comes back as the same string.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from feed.interventions import DEFANG

_NAMES = ("BLUR", "OVERLAY", "REWRITE")
_KINDS = ("START", "END")
_LETTERS = sorted({letter for word in _NAMES + _KINDS for letter in word})


def _hex_digits(number: int) -> str:
    return "".join(
        f"[{digit}{digit.upper()}]" if digit.isalpha() else digit for digit in f"{number:x}"
    )


def _html_character(character: str) -> str:
    code = ord(character)
    spellings = [
        re.escape(character),
        rf"&\#0*{code}(?![0-9]);?",
        rf"&\#[xX]0*{_hex_digits(code)}(?![0-9a-fA-F]);?",
    ]
    if character == "_":
        spellings += ["&lowbar;", "&UnderBar;"]
    return "(?:" + "|".join(spellings) + ")"


def _json_character(character: str) -> str:
    return "(?:" + re.escape(character) + r"|\\u00" + _hex_digits(ord(character)) + ")"


def _marker_pattern(character: Callable[[str], str], between: str) -> re.Pattern[str]:
    """Group 1: the marker's leading `__`; group 2: the rest of it."""

    def word(text: str) -> str:
        return between.join(character(letter) for letter in text)

    underscore = character("_")
    names = "|".join(word(name) for name in _NAMES)
    kinds = "|".join(word(kind) for kind in _KINDS)
    return re.compile(
        f"({underscore}{between}{underscore})"
        f"({between}(?:{names}){between}{underscore}{between}(?:{kinds})"
        f"{between}{underscore}{between}{underscore})"
    )


_HTML_MARKER = _marker_pattern(_html_character, "\x00*")
_JSON_MARKER = _marker_pattern(_json_character, "")
# The cheap test: every spelling holds a marker word literally, or one of its letters as a
# character reference (escape), or a NUL. These patterns start with a literal, which `re`
# searches for quickly; the full patterns above only run when one of them is found.
_HTML_LETTER_REFERENCE = re.compile(
    r"&#(?:[xX]0*(?:4[1-9a-fA-F]|5[0-9aA])|0*(?:6[5-9]|[78][0-9]|90))(?![0-9])"
)
_JSON_LETTER_ESCAPE = re.compile(r"\\u00(?:4[1-9a-fA-F]|5[0-9aA])")
# The marker words as patterns: `re` finds a literal in a long page in about half the time
# `str.__contains__` takes (a page with one emoji is stored four bytes a character).
_NAME_WORDS = tuple(re.compile(name) for name in _NAMES)


def markers_maybe_present(platform: str, body: str) -> bool:
    """False when `body` certainly spells no marker, in any encoding (see the module doc)."""
    if any(word.search(body) is not None for word in _NAME_WORDS):
        return True
    if platform == "x":
        return _JSON_LETTER_ESCAPE.search(body) is not None
    return "\x00" in body or _HTML_LETTER_REFERENCE.search(body) is not None


def body_markers_defang(platform: str, body: str) -> str:
    """`body` with every marker it spells (start or end, any spelling) defanged in place."""
    if not markers_maybe_present(platform, body):
        return body
    if platform == "x":
        return _markers_replace(body, _JSON_MARKER, _json_escape_is_real)
    return _markers_replace(body, _HTML_MARKER, lambda _body, _start: True)


def _markers_replace(
    body: str, pattern: re.Pattern[str], starts_here: Callable[[str, int], bool]
) -> str:
    pieces, position, search_from = [], 0, 0
    while (found := pattern.search(body, search_from)) is not None:
        if not starts_here(body, found.start()):
            search_from = found.start() + 1  # a marker may still begin just after
            continue
        pieces += [body[position : found.end(1)], DEFANG, found.group(2)]
        position = search_from = found.end()
    if not pieces:
        return body
    pieces.append(body[position:])
    return "".join(pieces)


def _json_escape_is_real(body: str, start: int) -> bool:
    """A match starting with `\\u00..` is a character only if that backslash is not itself
    escaped (an even number of backslashes before it)."""
    if body[start] != "\\":
        return True
    backslashes = 0
    while start - backslashes - 1 >= 0 and body[start - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 0
