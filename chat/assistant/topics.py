"""The words that name what to filter: fillers stripped ("anything about", "on my feed"),
spoiler requests turned into "<work> spoilers", and a key for spotting duplicates."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chat.assistant import vocabulary as words
from chat.assistant.implied import emoji_read
from chat.assistant.replies import text_safe

MAX_TOPIC_WORDS = 8  # a filter text is a few words; longer means we did not find the topic
MAX_BARE_TOPIC_WORDS = 5  # without a request verb, only a short noun phrase counts as a topic
MAX_TOPIC_CHARS = 100  # the same bound the model's filter_text has (chat/assistant/openai.py)


def message_normalize(message: str) -> str:
    text = text_safe(message).replace("\u2019", "'").replace("\u2018", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    return emoji_read(re.sub(r"\s+", " ", text).strip())


@dataclass(frozen=True)
class CleanTopic:
    topic: str
    spoiler: bool = False
    spoiler_subject: str = ""
    image_hint: bool = False  # "spider pics": the user spoke of images


def topic_clean(text: str) -> CleanTopic:
    """The words naming what to filter, without fillers ("anything about", "on my feed"), and
    without the remarks that follow them ("crypto stuff, honestly I've had enough")."""
    text = words.FILLER_ANYWHERE.sub(" ", text)
    text = edges_strip(text)
    if words.SPOILER_WORD.search(text):
        return _spoiler_topic(text)
    parts = [_part_clean(clause) for clause in topic_clauses(text)]
    parts = [part for part in parts if part.topic]
    if len(parts) <= 1:
        return parts[0] if parts else CleanTopic(topic="")
    topics = list(dict.fromkeys(part.topic for part in parts))
    joined = ", ".join(topics[:-1]) + " and " + topics[-1] if len(topics) > 1 else topics[0]
    return CleanTopic(topic=joined, image_hint=any(part.image_hint for part in parts))


def _part_clean(text: str) -> CleanTopic:
    text = _leading_fillers_strip(edges_strip(text))
    image_hint = bool(words.TRAILING_IMAGE_WORDS.search(text)) and " " in text
    if image_hint:
        text = words.TRAILING_IMAGE_WORDS.sub("", text)
    text = _trailing_fillers_strip(text)
    return CleanTopic(topic=edges_strip(text), image_hint=image_hint)


def topic_clauses(text: str) -> list[str]:
    """The clauses of `text` that name topics: the first one, then each further one that is a
    short list item ("spiders, wasps and no bees"), up to the first remark ("they freak me
    out", "honestly I've had enough")."""
    text = words.NEGATED_JOIN.sub(r"\1 ", text)
    pieces = [edges_strip(piece) for piece in words.CLAUSE_BREAK.split(text)]
    pieces = [piece for piece in pieces if piece]
    if not pieces:
        return []
    kept = [pieces[0]]
    for piece in pieces[1:]:
        item = edges_strip(words.LIST_JOINER.sub("", piece))
        tokens = item.lower().split()
        if not tokens or len(tokens) > MAX_BARE_TOPIC_WORDS or set(tokens) & words.REMARK_WORDS:
            break
        kept.append(item)
    return kept


def _spoiler_topic(text: str) -> CleanTopic:
    subject = ""
    for pattern in words.SPOILER_SUBJECT_PATTERNS:
        found = pattern.search(text)
        if found:
            subject = edges_strip(_trailing_fillers_strip(found.group("subject")))
            break
    subject = re.sub(r"^(?:any|all|the latest|latest|new)\s+", "", subject, flags=re.I)
    subject = words.SPOILER_WORD.sub(" ", subject)
    subject = edges_strip(re.sub(r"\s+", " ", subject))
    if subject.lower() in words.VAGUE_SPOILER_SUBJECTS:
        return CleanTopic(topic="", spoiler=True)
    return CleanTopic(topic=f"{subject} spoilers", spoiler=True, spoiler_subject=subject)


def spoiler_context(subject: str) -> str:
    return f"Spoilers for {subject}: plot details, twists, deaths and endings."


def _leading_fillers_strip(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = words.LEADING_FILLER.sub("", text)
    if len(text.split()) > 1:
        text = words.ARTICLE_OPENING.sub("", text)
    return text


def _trailing_fillers_strip(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = edges_strip(words.TRAILING_FILLER.sub("", text))
    return text


def edges_strip(text: str) -> str:
    return words.EDGE_PUNCTUATION.sub("", re.sub(r"\s+", " ", text)).strip()


def topic_plausible(topic: str, *, has_verb: bool) -> bool:
    """Whether `topic` can name a filter: short, not a question, not a keyboard mash."""
    count = len(topic.split())
    if count == 0 or count > MAX_TOPIC_WORDS or len(topic) > MAX_TOPIC_CHARS:
        return False
    if text_is_gibberish(topic):
        return False
    if has_verb:
        return True
    return (
        count <= MAX_BARE_TOPIC_WORDS
        and not words.QUESTION_OPENING.search(topic)
        and not words.PERSONAL_WORDS.search(topic)
    )


def text_is_gibberish(text: str) -> bool:
    # Acronyms ("NFTs", "MLM") are written with capitals and need no vowels.
    letters = [
        word.lower()
        for word in re.findall(r"[A-Za-z]+", text)
        if len(word) >= 4 and sum(char.isupper() for char in word) < 2
    ]
    if not letters and not re.search(r"[^\W_]", text):
        return True  # letters of any script count ("ヘビ"), punctuation alone does not
    return any(_word_is_gibberish(word) for word in letters)


def _word_is_gibberish(word: str) -> bool:
    if re.search(r"[^aeiouy]{5,}", word) or not re.search(r"[aeiouy]", word):
        return True
    return any(word[:4] in row for row in words.KEYBOARD_ROWS)


def topic_key(topic: str) -> frozenset[str]:
    """Words of a filter text for duplicate detection: case, order, plurals and fillers ignored
    ("Spider" = "spiders"; "spoilers for Severance" = "Severance spoilers")."""
    tokens = re.findall(r"[a-z0-9]+", topic.lower())
    stop = {"the", "a", "an", "of", "for", "about", "and", "on", "in", "to", "any", "all"}
    return frozenset(_singular(token) for token in tokens if token not in stop)


def _singular(token: str) -> str:
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def spoiler_subject_from_answer(message: str) -> str:
    """The work named in answer to "spoilers for what?" ("The Bear", "it's Dune")."""
    text = words.FILLER_ANYWHERE.sub(" ", message_normalize(message))
    text = re.sub(
        r"^(?:it's|it is|its|for|the show|the movie|the film|the book|the game)\s+",
        "",
        edges_strip(text),
        flags=re.IGNORECASE,
    )
    text = edges_strip(words.SPOILER_WORD.sub(" ", text))
    if text.lower() in words.VAGUE_SPOILER_SUBJECTS:
        return ""
    return text if topic_plausible(text, has_verb=True) else ""
