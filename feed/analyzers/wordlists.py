"""The "profanity" detector: glin-profanity's word lists, read as data (MIT licence).

Only the JSON word lists inside the `glin-profanity` wheel are used, never its code (located
with `find_spec`, which does not import it; nothing is downloaded). Each file is checked against
a pinned sha256 before it is read. Swearing in creative spellings is folded before matching:
leetspeak digits and symbols (sh1t, $hit, f@ck), separators inside a word (f.u.c.k), a masking
asterisk (f*ck) and stretched letters (fuuuck). Latin-script words match on word boundaries;
Chinese and Japanese words (two characters or more, so a single ideograph such as 乳 "milk"
does not fire) match as substrings. Without the wheel the detector finds nothing, with one
warning in the log.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from feed.analyzers.minilm import file_sha256

logger = logging.getLogger(__name__)

WORDLIST_PACKAGE = "glin_profanity"
WORDLIST_SUBDIR = Path("data") / "dictionaries"
WORDLIST_SHA256 = {
    "english.json": "0163c569bbe4dc868655154c1fff4157ed00c4cf8d3d1bc8218795c701545e0e",
    "chinese.json": "814622971af2f9ad7cbd384772ab3bfd8de6982d5d2545d2b4da097f02e236ec",
    "japanese.json": "6b937daf86a167a1d6b13c17efc5d78617d6f897903a495c66ec4e7857f567b6",
    "globalWhitelist.json": "fd9daff997c566e8beb7aa886023e2df748d8683f35b2ce24b54dfc6bbce4af8",
}
WORDLIST_VERSION = "glin-4.1.0"
LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
    | {"|": "l", "€": "e"}
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
# A word spelled with separators between single letters: f.u.c.k, s-h-i-t, f u c k.
_SPACED = re.compile(r"\b(?:[a-z0-9@$!*][.\-_ ]){2,}[a-z0-9@$!*]\b", re.IGNORECASE)
_STRETCH = re.compile(r"([a-z])\1{2,}")
_STRETCH_TWO = re.compile(r"([a-z])\1")
_LEET_RUN = re.compile(r"(?<=[a-z])[0-9@$!|€]+|[0-9@$!|€]+(?=[a-z])")
_SKIP = frozenset({"testbad01", "13."})

_lists: WordLists | None = None
_lists_lock = threading.Lock()


@dataclass(frozen=True)
class WordLists:
    latin: re.Pattern[str] | None
    cjk: tuple[str, ...]
    masked: re.Pattern[str] | None  # f*ck: an asterisk standing for letters

    def hits(self, text: str) -> list[str]:
        """The list words the text holds, after folding creative spellings."""
        found: list[str] = []
        for cjk_word in self.cjk:
            if cjk_word in text:
                found.append(cjk_word)
        if self.latin is None:
            return found
        folded = _fold(text)
        found.extend(match.group(0) for match in self.latin.finditer(folded))
        single = _STRETCH_TWO.sub(r"\1", folded)  # "fuuuck" folds to "fuuck", then "fuck"
        if single != folded:
            found.extend(match.group(0) for match in self.latin.finditer(single))
        if self.masked is not None and "*" in text:
            found.extend(match.group(0) for match in self.masked.finditer(text.lower()))
        return found


def _fold(text: str) -> str:
    text = _SPACED.sub(lambda m: re.sub(r"[.\-_ ]", "", m.group(0)), text.lower())
    # Leetspeak inside words only: "in 2024" and "$5" stay numbers, "sh1t" becomes "shit".
    text = _LEET_RUN.sub(lambda m: m.group(0).translate(LEET), text)
    return _STRETCH.sub(r"\1\1", text)


def wordlists_dir() -> Path | None:
    spec = importlib.util.find_spec(WORDLIST_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / WORDLIST_SUBDIR


def wordlists_load(directory: Path | None = None) -> WordLists:
    directory = directory or wordlists_dir()
    empty = WordLists(None, (), None)
    if directory is None:
        logger.warning("glin-profanity is not installed: the profanity detector finds nothing")
        return empty
    words: set[str] = set()
    for name, expected in WORDLIST_SHA256.items():
        path = directory / name
        if not path.is_file() or file_sha256(path) != expected:
            logger.warning("word list %s missing or not the pinned one: detector off", path)
            return empty
        if name == "globalWhitelist.json":
            continue
        words.update(json.loads(path.read_text(encoding="utf-8"))["words"])
    latin = sorted(
        (w.lower() for w in words if not _CJK.search(w) and w not in _SKIP and "*" not in w),
        key=len,
        reverse=True,
    )
    folded = sorted({_fold(w) for w in latin}, key=len, reverse=True)
    cjk = tuple(sorted(w for w in words if _CJK.search(w) and len(w) >= 2))
    stars = [w.lower() for w in words if "*" in w]
    latin_pattern = re.compile(r"(?<![a-z])(?:" + "|".join(map(re.escape, folded)) + r")(?![a-z])")
    masked_pattern = (
        re.compile(
            r"(?<![a-z])(?:"
            + "|".join(re.escape(w).replace(r"\*", r"[*]+") for w in stars)
            + r")(?![a-z])"
        )
        if stars
        else None
    )
    return WordLists(latin_pattern, cjk, masked_pattern)


def wordlists_get() -> WordLists:
    global _lists
    if _lists is None:
        with _lists_lock:
            if _lists is None:
                _lists = wordlists_load()
    return _lists
