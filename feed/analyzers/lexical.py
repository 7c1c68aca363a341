"""The text side of the embedded analyzer: sentence spans and the exact word/phrase leg.

A filter such as "weight loss and dieting" is read as alternatives ("weight loss" | "dieting"),
each a list of key words with the generic ones dropped ("spoilers for Severance" -> Severance).
A sentence hits an alternative when it holds all of its words, allowing simple inflections
(spider/spiders/spider's, crash/crashes/crashed, diet/dieting).

Two sense guards decide when a word that looks like the keyword is NOT the filter's topic:
- a word written with a capital in the filter ("Severance", "US", "Taylor Swift") is a name:
  only capitalised occurrences count ("a severance package" is something else);
- a hyphenated compound ("Spider-Man", "Spider-Verse") is a different thing from its parts.
Occurrences that fail a guard are masked out before the sentence is embedded, so the keyword
cannot lend the sentence a similarity it does not have (calibration: tests/feed/labelled_pairs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# A sentence: a run up to terminal punctuation or a line break (titles are their own line).
SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"')\]]*|(?=\n)|$)")
_SHORT_CVC = re.compile(r"[^aeiou][aeiou][^aeiouwxy]")
TOKEN = re.compile(r"[A-Za-z][A-Za-z']*(?:-[A-Za-z][A-Za-z']*)*")
ALTERNATIVE_SPLIT = re.compile(r"\s*(?:,|;|/|&|\+|\band\b|\bor\b)\s*", re.IGNORECASE)
GENERIC_WORDS = frozenset(
    "a an the of for to in on at about with without any all my me your our their posts post "
    "content news stuff things thing related spoilers spoiler announcements announcement "
    "pictures picture images image photos photo videos video anything everything mentions "
    "mention talk talking discussion discussions topic topics no not please stop seeing see "
    "show hide don't dont want".split()
)


@dataclass(frozen=True)
class Keyword:
    stem: str
    is_name: bool  # written capitalised in the filter: match capitalised occurrences only


@dataclass(frozen=True)
class WordHits:
    matched: tuple[tuple[int, int], ...]  # spans (in the sentence) of right-sense hits
    masked: tuple[tuple[int, int], ...]  # spans of look-alikes in another sense


NO_HITS = WordHits((), ())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, stripped, so text[start:end] is an exact substring."""
    spans = []
    for found in SENTENCE.finditer(text):
        start, end = found.span()
        chunk = text[start:end]
        stripped = chunk.strip()
        if not any(character.isalnum() for character in stripped):
            continue
        offset = start + len(chunk) - len(chunk.lstrip())
        spans.append((offset, offset + len(stripped)))
    return spans


@lru_cache(maxsize=65536)  # a feed repeats its words; stemming is the lexical leg's hot spot
def word_stem(word: str) -> str:
    """A crude inflection stripper: plurals, possessives, -ing, -ed (good enough for names)."""
    word = word.lower()
    if word.endswith("'s") or word.endswith("s'"):
        word = word[:-2] if word.endswith("'s") else word[:-1]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if re.search(r"(?:s|x|z|ch|sh)es$", word):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    if word.endswith("ing") and len(word) > 5:
        return _suffix_stem(word[:-3])
    if word.endswith("ed") and len(word) > 4:
        return _suffix_stem(word[:-2])
    return word


def _suffix_stem(stem: str) -> str:
    # "stopped" -> "stopp" -> "stop": a doubled final consonant comes from the suffix.
    if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
        return stem[:-1]
    # "coding" -> "cod" -> "code": a short consonant-vowel-consonant stem lost its silent e
    # (else "coding" would read as the fish, and never as "code").
    if _SHORT_CVC.fullmatch(stem):
        return stem + "e"
    return stem


def keywords_for(filter_text: str) -> list[list[Keyword]]:
    """The filter's alternatives, each a list of key words (empty when all are generic)."""
    alternatives = []
    parts = ALTERNATIVE_SPLIT.split(filter_text.strip())
    for part_index, part in enumerate(parts):
        tokens = TOKEN.findall(part)
        words = [word for word in tokens if word.lower() not in GENERIC_WORDS]
        # "Taylor Swift": a capital that merely starts the filter still marks a name when
        # another word of the same alternative is capitalised too.
        names_nearby = sum(word[0].isupper() for word in words) > 1
        first_word = tokens[0] if part_index == 0 and tokens else None
        keywords = [
            Keyword(
                word_stem(word),
                _is_name(word, at_start=word is first_word, names_nearby=names_nearby),
            )
            for word in words
        ]
        if keywords:
            alternatives.append(keywords)
    return alternatives


def _is_name(word: str, *, at_start: bool, names_nearby: bool) -> bool:
    # Acronyms ("US") and capitalised words not merely starting the filter ("for Severance").
    if len(word) >= 2 and word.isupper():
        return True
    return word[0].isupper() and (not at_start or names_nearby)


def word_hits(sentence: str, alternatives: list[list[Keyword]]) -> WordHits:
    lowered = sentence.lower()
    # Cheap rejection first: most sentences share no letters-run with any key word.
    if not any(keyword.stem[:4] in lowered for keywords in alternatives for keyword in keywords):
        return NO_HITS
    tokens = [(found.group(0), found.span()) for found in TOKEN.finditer(sentence)]
    matched: list[tuple[int, int]] = []
    masked: list[tuple[int, int]] = []
    for keywords in alternatives:
        spans = [_keyword_span(keyword, tokens, masked) for keyword in keywords]
        if all(span is not None for span in spans):
            matched.extend(span for span in spans if span is not None)
    return WordHits(tuple(sorted(set(matched))), tuple(sorted(set(masked))))


def _keyword_span(
    keyword: Keyword, tokens: list[tuple[str, tuple[int, int]]], masked: list[tuple[int, int]]
) -> tuple[int, int] | None:
    found = None
    for token, span in tokens:
        if "-" in token:
            if any(word_stem(part) == keyword.stem for part in token.split("-")):
                masked.append(span)  # Spider-Man is not a spider
            continue
        if word_stem(token) != keyword.stem and token.lower() != keyword.stem:
            continue
        if keyword.is_name and not token[0].isupper():
            masked.append(span)  # "severance pay" is not "Severance"
            continue
        found = found or span
    return found


def text_without(sentence: str, spans: tuple[tuple[int, int], ...]) -> str:
    for start, end in sorted(spans, reverse=True):
        sentence = sentence[:start] + sentence[end:]
    return " ".join(sentence.split())
