"""The assistant's answer in the shape the extension reads (CONTRACT.md section 2, chat), and
the plain-language wording of filter settings shared by both assistants."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from chat.assistant.state import ConversationState, KnownFilter, PendingAction

TYPE_INITIAL = "initial"
TYPE_CLARIFY = "clarify"
TYPE_READY = "ready_for_config"
TYPE_COMPLETE = "complete"
REPLY_TYPES = (TYPE_INITIAL, TYPE_CLARIFY, TYPE_READY, TYPE_COMPLETE)

# Labels the extension gives special meaning to (CONTRACT.md section 2): keep them verbatim.
OPTION_SHOW_FILTERS = "Yes, show my filters"
OPTION_ADD_ANOTHER = "Add another filter"
OPTION_DONE = "I'm done"

# Quick answers of our own; rules.py understands each of them when clicked.
OPTION_BLUR = "Just blur it"
OPTION_WARN = "Warn me first"
OPTION_REWRITE = "Rewrite it"
OPTION_REMOVE = "Remove completely"
INTENSITY_OPTIONS = (OPTION_BLUR, OPTION_WARN, OPTION_REMOVE)
DURATION_OPTIONS = ("For a day", "For a week", "For a month", "Permanently")
CONFIRM_REMOVE_OPTIONS = ("Yes, remove it", "No, keep it")
CONFIRM_CHANGE_OPTIONS = ("Yes, change it", "No, keep it")
AFTER_ACTION_OPTIONS = (OPTION_SHOW_FILTERS, OPTION_ADD_ANOTHER, OPTION_DONE)

# CONTRACT.md section 4: 1-2 blur, 3 warning overlay, 4-5 rewrite.
INTENSITY_WORDING = {
    1: "lightly blur the matching words",
    2: "blur the matching words",
    3: "cover matching posts with a warning you can click through",
    4: "rewrite the matching passages",
    5: "remove the matching passages completely",
}
DURATION_WORDING = {
    "permanent": "until you remove it",
    "day": "for 24 hours",
    "week": "for a week",
    "month": "for a month",
}
CONTENT_TYPE_WORDING = {
    "all": "in text and images",
    "text": "in text only",
    "image": "in images only",
}


# The extension puts some of these strings into the popup with innerHTML (the filter text in
# its config card): a reply must never carry markup, whether it came from the user's own words,
# a stored filter or a model that read text inside an uploaded image.
MARKUP_CHARACTERS = re.compile(r"[<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text_safe(text: str) -> str:
    return MARKUP_CHARACTERS.sub("", text)


@dataclass(frozen=True)
class FilterData:
    filter_text: str
    content_type: str
    intensity: int
    duration: str
    context: str = ""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "filter_text": text_safe(self.filter_text),
            "content_type": self.content_type,
            "intensity": self.intensity,
            "duration": self.duration,
        }
        if self.context:
            data["context"] = text_safe(self.context)
        return data


@dataclass(frozen=True)
class Reply:
    text: str
    type: str
    options: tuple[str, ...] = ()
    filter_data: FilterData | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "success",
            "text": text_safe(self.text),
            "type": self.type,
            "options": [text_safe(option) for option in self.options],
            "filter_data": self.filter_data.as_json() if self.filter_data else None,
        }


@dataclass
class Turn:
    """One step of a conversation: the reply, the state to keep, and what to do once the user
    confirmed (a removal or change of existing filters, run by chat.services)."""

    reply: Reply
    state: ConversationState
    actions: list[PendingAction] = field(default_factory=list)
    assistant: str = "embedded"
    degraded_reason: str = ""


def settings_describe(*, intensity: int, duration: str, content_type: str) -> str:
    return (
        f"{INTENSITY_WORDING[intensity]}, {CONTENT_TYPE_WORDING[content_type]}, "
        f"{DURATION_WORDING[duration]}"
    )


def known_filter_describe(known: KnownFilter) -> str:
    settings = settings_describe(
        intensity=known.intensity, duration=known.duration, content_type=known.content_type
    )
    return f'"{known.filter_text}" ({settings})'


def filters_list_text(filters: list[KnownFilter]) -> str:
    if not filters:
        return "You don't have any active filters yet."
    lines = [
        f"{number}. {known_filter_describe(known)}"
        for number, known in enumerate(filters, start=1)
    ]
    return "Your active filters:\n" + "\n".join(lines)
