"""What the extension would see of a feed response: an oracle for marker injection tests.

Independent of `feed.defang`: it decodes the document the way the page does (the standard
library's HTML5 character reference rules; JSON strings, then X's `&amp; &lt; &gt;`) and
looks at each text the client would test for a start marker (CONTRACT section 4).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

START_MARKERS = ("__BLUR_START__", "__OVERLAY_START__", "__REWRITE_START__")
_TAG = re.compile(r"<[^>]*>")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def page_texts(platform: str, body: str) -> Iterator[str]:
    """Each decoded text of the document: HTML text runs and attribute-ish runs between tags
    (NULs dropped, as the parser drops them), or every JSON string with X's decoding."""
    if platform == "x":
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            yield _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), body)
            return
        for text in _json_strings(document):
            yield text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        return
    source = body.replace("\x00", "")
    for piece in _TAG.split(source):
        yield html.unescape(piece)
    for tag in _TAG.findall(source):  # attributes, decoded
        yield html.unescape(tag)


def _json_strings(document: Any) -> Iterator[str]:
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def visible_start_markers(platform: str, body: str) -> int:
    texts = page_texts(platform, body)
    return sum(text.count(marker) for text in texts for marker in START_MARKERS)


def injectable_texts(platform: str, body: str) -> list[str]:
    """Texts holding a start marker whose insertion as HTML would create an element."""
    return [
        text
        for text in page_texts(platform, body)
        if any(marker in text for marker in START_MARKERS) and "<" in text
    ]


def _html_spellings(character: str, following: str) -> list[str]:
    code = ord(character)
    spellings = [character, f"&#{code};", f"&#00{code};", f"&#x{code:x};", f"&#X{code:X};"]
    if not following.isdigit():  # a reference without `;` ends at the first non-digit
        spellings.append(f"&#{code}")
    if character == "_":
        spellings += ["&lowbar;", "&UnderBar;"]
    return spellings


def marker_spelled(platform: str, choices: list[int], marker_index: int, nuls: bool) -> str:
    """One start marker, each character spelled as `choices` pick (any way the page decodes
    it: literal, character references, `\\u00XX` escapes), NULs between characters on Reddit."""
    marker = START_MARKERS[marker_index % len(START_MARKERS)]
    pieces = []
    for position, character in enumerate(marker):
        following = marker[position + 1 : position + 2]
        if platform == "x":
            options = [character, f"\\u{ord(character):04x}", f"\\u{ord(character):04X}"]
        else:
            options = _html_spellings(character, following)
        pieces.append(options[choices[position % len(choices)] % len(options)])
        if nuls and platform != "x" and position % 3 == 1:
            pieces.append("\x00")
    return "".join(pieces)
