"""Rule-based understanding of one chat message: what the user asks for (create, remove or
change a filter, list them, finish...) and the filter settings the words imply.

Deterministic: the same message always gives the same Understanding. The phrasings themselves
live in vocabulary.py; this module only applies them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from chat.assistant import implied
from chat.assistant import vocabulary as words
from chat.assistant.topics import (
    MAX_TOPIC_CHARS,
    MAX_TOPIC_WORDS,
    CleanTopic,
    edges_strip,
    message_normalize,
    topic_clean,
    topic_plausible,
)

INTENT_CREATE = "create"
INTENT_REMOVE = "remove"
INTENT_CHANGE = "change"
INTENT_LIST = "list"
INTENT_DONE = "done"
INTENT_ADD_ANOTHER = "add_another"
INTENT_TRY_AGAIN = "try_again"
INTENT_GREETING = "greeting"
INTENT_SOMETHING_ELSE = "something_else"
INTENT_YES = "yes"
INTENT_NO = "no"
INTENT_SETTINGS = "settings"  # only settings ("for a week", "just blur"), no topic
INTENT_UNKNOWN = "unknown"
INTENT_EMPTY = "empty"

Value = TypeVar("Value")


@dataclass(frozen=True)
class RequestedSettings:
    """The filter settings a message asks for (unset: not said); not Django's settings."""

    intensity: int | None = None
    intensity_shift: int = 0  # "stronger" +1, "weaker" -1
    duration: str | None = None
    duration_unclear: bool = False
    duration_note: str = ""  # said when the asked duration was rounded to one we offer
    content_type: str | None = None

    def any(self) -> bool:
        return bool(
            self.intensity
            or self.intensity_shift
            or self.duration
            or self.duration_unclear
            or self.content_type
        )


@dataclass(frozen=True)
class Understanding:
    intent: str
    topic: str = ""
    settings: RequestedSettings = field(default_factory=RequestedSettings)
    spoiler: bool = False
    spoiler_subject: str = ""
    has_request_verb: bool = False
    everything: bool = False  # "remove all my filters"
    too_long: bool = False  # a request whose topic is a whole sentence
    reading: str = ""  # how a topic the words only imply was understood, to tell the user
    struggling: bool = False  # no topic, but the person says they are having a hard time


def command_key(text: str) -> str:
    """Lower-case words only, so "I'm done!" and "im done" compare equal."""
    key = text.lower().replace("'", "")
    key = re.sub(r"[^a-z0-9]+", " ", key).strip()
    return re.sub(r"\s+(?:please|thanks|thank you|thx)$", "", key)


def message_understand(message: str) -> Understanding:
    text = message_normalize(message)
    if not text:
        return Understanding(INTENT_EMPTY)
    command = command_intent(command_key(text))
    if command:
        return Understanding(command)
    foreign = implied.foreign_topic(text)
    if foreign and topic_plausible(foreign, has_verb=True):
        return Understanding(INTENT_CREATE, topic=foreign, has_request_verb=True)
    settings, rest = settings_extract(implied.typos_correct(text))
    for understand in (removal_understand, change_understand, creation_understand):
        understanding = understand(rest, settings)
        if understanding is not None:
            return understanding
    struggling = bool(words.SELF_WORDS.search(rest) and words.HARD_TIME.search(rest))
    return Understanding(INTENT_UNKNOWN, settings=settings, struggling=struggling)


def command_intent(key: str) -> str:
    commands = (
        (words.LIST_COMMANDS, INTENT_LIST),
        (words.DONE_COMMANDS, INTENT_DONE),
        (words.ADD_ANOTHER_COMMANDS, INTENT_ADD_ANOTHER),
        (words.TRY_AGAIN_COMMANDS, INTENT_TRY_AGAIN),
        (words.GREETING_COMMANDS, INTENT_GREETING),
        (words.SOMETHING_ELSE_COMMANDS, INTENT_SOMETHING_ELSE),
        (words.YES_WORDS, INTENT_YES),
        (words.NO_WORDS, INTENT_NO),
    )
    for phrases, intent in commands:
        if key in phrases:
            return intent
    if re.match(r"^(?:yes|yeah|yep|ok|okay|sure)\b", key) and not _has_substance(key):
        return INTENT_YES
    if re.search(r"\b(?:show|list|see|view|what are|which are)\b.*\bfilters\b", key):
        return INTENT_LIST
    return ""


def _has_substance(key: str) -> bool:
    """True when a "yes ..." message carries more than assent ("yes, for a week")."""
    rest = re.sub(r"^(?:yes|yeah|yep|ok|okay|sure)\s*", "", key)
    rest = re.sub(
        r"\b(?:please|remove it|change it|do it|go ahead|that|thats right|thanks)\b", "", rest
    )
    return bool(rest.strip())


# ---- settings -------------------------------------------------------------------------------


def settings_extract(text: str) -> tuple[RequestedSettings, str]:
    """The settings the message states, and the message without the words that stated them."""
    intensity, text = intensity_find(text)
    shift, text = _first_match(words.INTENSITY_SHIFT_PATTERNS, text)
    duration, unclear, note, text = duration_find(text)
    content_type, text = _first_match(words.CONTENT_TYPE_PATTERNS, text)
    settings = RequestedSettings(
        intensity=intensity,
        intensity_shift=int(shift or 0),
        duration=duration,
        duration_unclear=unclear,
        duration_note=note,
        content_type=str(content_type) if content_type else None,
    )
    return settings, text


def intensity_find(text: str) -> tuple[int | None, str]:
    for pattern, value in words.INTENSITY_PATTERNS:
        found = pattern.search(text)
        if found:
            number = int(found.group(1)) if value == "number" else int(str(value))
            rest = _cut(text, found)
            softly = words.SOFTLY.search(rest)
            if number == 2 and softly:  # "blur blood lightly"
                return 1, _cut(rest, softly)
            return number, rest
    return None, text


def duration_find(text: str) -> tuple[str | None, bool, str, str]:
    """(duration, unclear, note, rest): a count like "3 days" rounds up to a choice we have."""
    for pattern, value in words.DURATION_PATTERNS:
        found = pattern.search(text)
        if not found:
            continue
        rest = _cut(text, found)
        if value == "unclear":
            return None, True, "", rest
        if value != "count":
            return str(value), False, "", rest
        duration, note = duration_from_count(found.group("count"), found.group("unit"))
        return duration, False, note, rest
    return None, False, "", text


def duration_from_count(count: str, unit: str) -> tuple[str, str]:
    number = int(count) if count.isdigit() else words.NUMBER_WORDS.get(count.lower(), 1)
    days = number * words.UNIT_DAYS[unit.lower()]
    asked = f"{count} {unit}{'' if number == 1 else 's'}"
    if days <= 1:
        return "day", "" if days == 1 or number == 24 else _rounded_note(asked, "a day")
    if days <= 7:
        return "week", "" if days == 7 else _rounded_note(asked, "a week")
    if days <= 31:
        return "month", "" if days in (28, 30, 31) else _rounded_note(asked, "a month")
    return "month", (
        f"The longest a temporary filter lasts is a month, so I set it to a month instead of "
        f"{asked}; choose permanent if you want it for longer."
    )


def _rounded_note(asked: str, chosen: str) -> str:
    return (
        f"Filters last a day, a week, a month or until you remove them, so I picked {chosen} "
        f"for {asked}."
    )


def _first_match(
    patterns: Sequence[tuple[re.Pattern[str], Value]], text: str
) -> tuple[Value | None, str]:
    for pattern, value in patterns:
        found = pattern.search(text)
        if found:
            return value, _cut(text, found)
    return None, text


def _cut(text: str, found: re.Match[str]) -> str:
    return re.sub(r"\s+", " ", f"{text[: found.start()]} {text[found.end() :]}").strip()


# ---- requests about existing filters ---------------------------------------------------------


def removal_understand(text: str, settings: RequestedSettings) -> Understanding | None:
    for pattern, _ in words.REMOVE_PATTERNS:
        found = pattern.search(text)
        if found:
            topic, everything = _request_target(_cut(text, found))
            return Understanding(
                INTENT_REMOVE, topic=topic, settings=settings, everything=everything
            )
    return None


def change_understand(text: str, settings: RequestedSettings) -> Understanding | None:
    if words.CREATE_FILTER_LEAD.search(text):
        return None
    for pattern, _ in words.CHANGE_PATTERNS:
        found = pattern.search(text)
        if found:
            topic, _everything = _request_target(_cut(text, found))
            return Understanding(INTENT_CHANGE, topic=topic, settings=settings)
    if settings.intensity_shift and re.search(r"\bmake\b", text, re.IGNORECASE):
        topic, _everything = _request_target(re.sub(r"\bmake\b", " ", text, flags=re.I))
        return Understanding(INTENT_CHANGE, topic=topic, settings=settings)
    return None


def _request_target(text: str) -> tuple[str, bool]:
    """The filter a remove/change request names ("my spiders filter" -> "spiders")."""
    everything = bool(re.search(r"\b(?:all|every|everything)\b", text, re.IGNORECASE))
    text = re.sub(r"\b(?:all|every|everything|of)\b", " ", text, flags=re.IGNORECASE)
    text = words.REQUEST_LEFTOVERS.sub(" ", text)
    cleaned = topic_clean(text)
    topic = cleaned.topic
    return topic, everything and not topic


# ---- new filters ----------------------------------------------------------------------------


def creation_understand(text: str, settings: RequestedSettings) -> Understanding | None:
    lead = request_lead_find(words.POLITE_OPENING.sub("", text))
    rest = f"{lead.before} {lead.after}"
    if (
        not lead.found
        and settings.any()
        and not edges_strip(words.SETTINGS_LEFTOVERS.sub("", rest))
    ):
        return Understanding(INTENT_SETTINGS, settings=settings)
    cleaned = lead_topic(lead)
    settings = _settings_with_lead(settings, lead.intensity, lead.duration, cleaned)
    if cleaned.spoiler:
        return _spoiler_understanding(cleaned, settings)
    topic, has_verb = cleaned.topic, lead.found
    if len(topic.split()) <= MAX_TOPIC_WORDS:
        topic = implied.topic_typos_correct(topic)
    reading = _implied_reading(topic, text, has_verb=has_verb)
    if reading:
        if not has_verb:  # "clean for a year" tells the situation, not how long to filter
            settings = _replace_settings(settings, duration=None, duration_note="")
        return Understanding(
            INTENT_CREATE,
            topic=reading,
            settings=settings,
            has_request_verb=True,
            reading=_reading_said(reading),
        )
    if topic.lower() in words.VAGUE_TOPICS or words.FEED_ONLY.search(topic):
        if has_verb:
            return Understanding(INTENT_CREATE, settings=settings, has_request_verb=True)
        return Understanding(INTENT_SETTINGS, settings=settings) if settings.any() else None
    if has_verb and (len(topic.split()) > MAX_TOPIC_WORDS or len(topic) > MAX_TOPIC_CHARS):
        return Understanding(INTENT_UNKNOWN, settings=settings, too_long=True)
    if not topic_plausible(topic, has_verb=has_verb):
        return None
    return Understanding(INTENT_CREATE, topic=topic, settings=settings, has_request_verb=has_verb)


def lead_topic(lead: Lead) -> CleanTopic:
    """The topic follows the request verb ("I'm grieving, please hide dogs"), unless nothing
    does ("Clowns, hide them"): then it is what came before, itself maybe after a request
    ("I don't care about the Super Bowl, hide it")."""
    after = topic_clean(lead.after)
    if after.spoiler or after.topic.lower() not in words.VAGUE_TOPICS:
        return after
    inner = request_lead_find(lead.before) if lead.found else lead
    if inner.found:
        inner_topic = topic_clean(inner.after)
        if inner_topic.topic.lower() not in words.VAGUE_TOPICS:
            return inner_topic
    return topic_clean(lead.before)


def _reading_said(topic: str) -> str:
    return f'I understood that as "{topic}"; tell me if you meant something else.'


def _implied_reading(topic: str, text: str, *, has_verb: bool) -> str:
    """The topic a condition or situation implies, when the words name none themselves
    ("I have ophidiophobia", "my cat died last week"); a named topic always wins."""
    if not has_verb and words.QUESTION_OPENING.search(text):
        return ""  # a question ("what is ophidiophobia?") asks for no filter
    named = implied.phobia_topic(topic)
    if named:
        return named  # "hide arachnophobia stuff": the clinical word names the topic
    plausible = (
        topic.lower() not in words.VAGUE_TOPICS
        and len(topic.split()) <= MAX_TOPIC_WORDS
        and topic_plausible(topic, has_verb=has_verb)
    )
    # Without a request, a noun or two is the topic ("miscarriage"); more words, or words
    # about oneself, tell a situation ("my cat died last week").
    told = not has_verb and (len(topic.split()) > 2 or words.SELF_WORDS.search(topic))
    return "" if plausible and not told else implied.implied_topic(text)


def _spoiler_understanding(cleaned: CleanTopic, settings: RequestedSettings) -> Understanding:
    if settings.intensity is None:
        # A spoiler is best hidden under a card the user can open once caught up (section 4).
        settings = _replace_settings(settings, intensity=3)
    return Understanding(
        INTENT_CREATE,
        topic=cleaned.topic,
        settings=settings,
        spoiler=True,
        spoiler_subject=cleaned.spoiler_subject,
        has_request_verb=True,
    )


def _settings_with_lead(
    settings: RequestedSettings,
    lead_intensity: int | None,
    lead_duration: str | None,
    cleaned: CleanTopic,
) -> RequestedSettings:
    changes: dict[str, object] = {}
    if settings.intensity is None and lead_intensity is not None:
        # "no spoilers" asks for a card to open later, "block spoilers" for their removal.
        spoiler_default = 5 if lead_intensity == 5 else 3
        changes["intensity"] = spoiler_default if cleaned.spoiler else lead_intensity
    if settings.duration is None and lead_duration and not settings.duration_unclear:
        changes["duration"] = lead_duration
    if settings.content_type is None and cleaned.image_hint:
        changes["content_type"] = "image"
    return _replace_settings(settings, **changes) if changes else settings


def _replace_settings(settings: RequestedSettings, **changes: object) -> RequestedSettings:
    return replace(settings, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Lead:
    """The opening verb of a request and the words either side of it."""

    found: bool
    intensity: int | None  # what the verb implies ("block" = 5), None when it says nothing
    duration: str | None
    before: str
    after: str


def request_lead_find(text: str) -> Lead:
    found = words.CREATE_FILTER_LEAD.search(text)
    if found:
        return Lead(True, None, None, text[: found.start()], text[found.end() :])
    for pattern, (intensity, duration) in words.LEAD_PATTERNS:
        found = pattern.search(text)
        if found:
            return Lead(True, intensity, duration, text[: found.start()], text[found.end() :])
    return Lead(False, None, None, text, "")
