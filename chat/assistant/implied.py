"""Readings of a message beyond its literal words: the topic a condition or situation implies
("ophidiophobia" -> snakes, "I'm six months sober" -> alcohol), a request in another language,
emoji that name a topic, and typos. The data is in lexicon.py; this module only applies it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from chat.assistant import lexicon

PHOBIA_WORD = re.compile(r"\b([a-z]+?)o?phob(?:ia|ias|ic|ics|e|es)\b", re.IGNORECASE)
VOWELS = set("aeiouy")
SCHWA_VOWELS = set("aeioy")
WORD = re.compile(r"[A-Za-z][A-Za-z']*")


# ---- conditions and situations --------------------------------------------------------------


def implied_topic(text: str) -> str:
    """The topic a fear or a life situation in `text` implies, or ""."""
    return phobia_topic(text) or situation_topic(text)


def phobia_topic(text: str) -> str:
    lowered = text.lower()
    for phrase, topic in lexicon.CONDITION_WORDS.items():
        if re.search(rf"\b{re.escape(phrase)}\b", lowered):
            return topic
    for found in PHOBIA_WORD.finditer(lowered):
        root = found.group(1)
        known = [key for key in lexicon.PHOBIA_ROOTS if root.startswith(key)]
        if known:
            return lexicon.PHOBIA_ROOTS[max(known, key=len)]
    return ""


def situation_topic(text: str) -> str:
    for pattern, topic in lexicon.SITUATIONS:
        found = pattern.search(text)
        if found:
            return _topic_filled(topic, found)
    recovery = lexicon.RECOVERY.search(text)
    if recovery:
        thing = recovery.group("thing").strip()
        return phobia_topic(thing) or situation_topic(thing) or thing
    return ""


def _topic_filled(topic: str, found: re.Match[str]) -> str:
    if "{thing}" not in topic:
        return topic
    groups = found.groupdict()
    thing = groups.get("thing") or groups.get("thing2") or ""
    return topic.format(thing=thing.strip().lower())


# ---- emoji ----------------------------------------------------------------------------------


def emoji_read(text: str) -> str:
    """Emoji that name a topic become its word; the others, decoration, are dropped."""
    if not lexicon.EMOJI.search(text):
        return text
    written = lexicon.EMOJI.sub(" ", text).lower()
    for symbol in sorted(lexicon.EMOJI_TOPICS, key=len, reverse=True):
        if symbol in text:
            word = lexicon.EMOJI_TOPICS[symbol]
            # "🍺 no alcohol please": the emoji only illustrates a topic already written.
            named = re.search(rf"\b{re.escape(word.lower().rstrip('s'))}", written)
            text = text.replace(symbol, " " if named else f" {word} ")
    text = lexicon.EMOJI.sub(" ", text)
    # "🐍🐍🐍" became "snakes snakes snakes": one is enough.
    text = re.sub(r"\b(\w+)(?:\s+\1\b)+", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


# ---- other languages ------------------------------------------------------------------------


def fold(text: str) -> str:
    """Compare words without case or accents: "Fútbol" = "futbol", "Fußball" = "fussball"."""
    if lexicon.CJK.search(text):
        return text.casefold()  # kana voicing marks are combining characters too: keep them
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


@lru_cache(maxsize=1)
def _foreign_index() -> dict[str, str]:
    return {fold(word): topic for topic, names in lexicon.FOREIGN_TOPICS.items() for word in names}


def foreign_topic(text: str) -> str:
    """The topic of a request written in another language, in English when the lexicon knows
    it and as written otherwise ("Donald Trump"); "" when `text` is no such request."""
    if lexicon.CJK.search(text):
        return _cjk_topic(text)
    if not lexicon.FOREIGN_REQUESTS.search(text):
        return ""
    rest = lexicon.FOREIGN_REQUESTS.sub(" ", text)
    previous = None
    while previous != rest:
        previous = rest
        rest = lexicon.FOREIGN_FILLERS.sub(" ", rest)
    rest = re.sub(r"[\s,.;:!?¡¿\"()]+", " ", rest).strip()
    if not rest:
        return ""
    words = rest.split()
    if len(words) > 1:
        words = [word for word in words if fold(word) not in lexicon.FOREIGN_KINDS] or words
        rest = " ".join(words)
    index = _foreign_index()
    if fold(rest) in index:
        return index[fold(rest)]
    translated = [index.get(fold(word)) for word in words]
    if all(translated):
        return " and ".join(dict.fromkeys(str(item) for item in translated))
    return rest


def _cjk_topic(text: str) -> str:
    rest, had_request = text, False
    for filler in sorted(lexicon.CJK_FILLERS, key=len, reverse=True):
        if filler in rest:
            had_request = True
            rest = rest.replace(filler, " ")
    index = _foreign_index()
    found: list[tuple[int, str]] = []
    for word in sorted(index, key=len, reverse=True):
        position = rest.find(word)
        if position >= 0 and lexicon.CJK.search(word):
            found.append((position, index[word]))
            rest = rest.replace(word, " " * len(word))
    if found:
        return " and ".join(dict.fromkeys(topic for _, topic in sorted(found)))
    rest = re.sub(r"[\s,.;:!?，。！？、]+", " ", rest).strip()
    return rest if had_request and rest else ""


# ---- typos ----------------------------------------------------------------------------------


def typos_correct(text: str) -> str:
    """Common misspellings and typos of the words requests are made of ("i dont wnat to see")."""
    for wrong, right in lexicon.MISSPELLINGS.items():
        text = re.sub(rf"(?<![\w']){re.escape(wrong)}(?![\w'])", right, text, flags=re.I)
    return _words_corrected(text, REQUEST)


def topic_typos_correct(topic: str) -> str:
    """A misspelt topic word corrected to the topic it is a typo of ("polotics")."""
    return _words_corrected(topic, TOPIC)


REQUEST, TOPIC = "request", "topic"  # which vocabulary a word is corrected towards


@lru_cache(maxsize=2)
def _vocabulary(kind: str) -> dict[int, frozenset[str]]:
    """The words of one vocabulary by length (a slip changes the length by one at most)."""
    if kind == REQUEST:
        names = set(lexicon.REQUEST_WORDS)
    else:
        names = set(lexicon.COMMON_TOPIC_WORDS)
        topics = [
            *lexicon.PHOBIA_ROOTS.values(),
            *lexicon.FOREIGN_TOPICS,
            *lexicon.EMOJI_TOPICS.values(),
        ]
        for topic in topics:
            names.update(word.lower() for word in topic.split() if len(word) > 3)
        names.update(word[:-1] for word in list(names) if word.endswith("s") and len(word) > 4)
    by_length: dict[int, set[str]] = {}
    for name in names:
        by_length.setdefault(len(name), set()).add(name)
    return {length: frozenset(group) for length, group in by_length.items()}


@lru_cache(maxsize=4096)
def _correction(lowered: str, kind: str) -> str:
    """The one word of the vocabulary `lowered` is a slip of, or "" (none, or several)."""
    vocabulary = _vocabulary(kind)
    if lowered in vocabulary.get(len(lowered), ()):
        return ""
    candidates = {
        known
        for length in (len(lowered) - 1, len(lowered), len(lowered) + 1)
        for known in vocabulary.get(length, ())
        if is_typo_of(lowered, known, vowel_swaps=kind == TOPIC)
    }
    return candidates.pop() if len(candidates) == 1 else ""


def _words_corrected(text: str, kind: str) -> str:
    def correct(found: re.Match[str]) -> str:
        word = found.group(0)
        # A capital is a name ("Moore"), not a typo, unless it starts a request ("Hidee").
        capital = word[0].isupper()
        if (capital and found.start() > 0) or len(word) < 4 or len(word) > 30:
            return word
        candidate = _correction(word.lower(), kind)
        if not candidate or (capital and candidate not in lexicon.OPENING_WORDS):
            return word
        return candidate

    return WORD.sub(correct, text)


def is_typo_of(word: str, known: str, *, vowel_swaps: bool) -> bool:
    """Whether `word` is `known` with one slip of the kind people make: two neighbouring
    letters swapped, a letter doubled or a double letter single, a vowel dropped, "ck" typed
    "k", "ing" typed "in", or (in longer words) one vowel typed for another."""
    if word == known or abs(len(word) - len(known)) > 1:
        return False
    if len(word) == len(known):
        diffs = [index for index, (a, b) in enumerate(zip(word, known, strict=True)) if a != b]
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
            first, second = diffs
            return word[first] == known[second] and word[second] == known[first]
        if len(diffs) == 1 and vowel_swaps and len(word) >= 7:
            # The vowels of unstressed syllables, which people confuse ("polotics", "spyders");
            # not "u" ("crushes" is not "crashes").
            return word[diffs[0]] in SCHWA_VOWELS and known[diffs[0]] in SCHWA_VOWELS
        return False
    longer, shorter = (word, known) if len(word) > len(known) else (known, word)
    for index in range(len(longer)):
        if longer[:index] + longer[index + 1 :] != shorter:
            continue
        extra = longer[index]
        doubled = (index > 0 and longer[index - 1] == extra) or (
            index + 1 < len(longer) and longer[index + 1] == extra
        )
        if doubled:
            return True
        if longer is known:  # a letter missing from what was typed
            return (
                extra in VOWELS
                or len(known) >= 7
                or (extra == "c" and longer[index + 1 : index + 2] == "k")
                or (extra == "g" and longer.endswith("ing") and index == len(longer) - 1)
            )
    return False
