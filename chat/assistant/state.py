"""What the server remembers of one user's chat between requests (the client's history is
unreliable, CONTRACT.md section 2), and the user's filters as the assistant sees them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

CONTENT_TYPES = ("text", "image", "all")
DURATIONS = ("permanent", "day", "week", "month")
TRANSCRIPT_KEEP = 12  # enough context for a model; the cache entry stays small

# What the last reply asked, so a bare answer ("a week", "yes") can be read against it.
AWAITING_NOTHING = ""
AWAITING_TOPIC = "topic"
AWAITING_INTENSITY = "intensity"
AWAITING_DURATION = "duration"
AWAITING_SAVE = "save"  # a ready_for_config was sent; the user may still adjust it
AWAITING_CONFIRM = "confirm"  # a removal or change waits for "yes"
AWAITING_WHICH_FILTER = "which_filter"
AWAITING_CHANGE_DETAIL = "change_detail"
AWAITING_DUPLICATE = "duplicate"


@dataclass
class Draft:
    """The filter being put together; None means the user has not said (nor implied) it."""

    filter_text: str = ""
    content_type: str | None = None
    intensity: int | None = None
    duration: str | None = None
    duration_unclear: bool = False  # "until I catch up": we must ask how long
    spoiler: bool = False  # the topic is spoilers for a named work
    context: str = ""
    note: str = ""  # said with the next proposal (a duration rounded to one we offer)
    reading: str = ""  # said with the next reply: how an implied topic was understood


@dataclass
class PendingAction:
    """A removal or change of existing filters proposed to the user, done only after "yes"."""

    kind: str  # "remove" | "change"
    filter_ids: list[int] = field(default_factory=list)
    intensity: int | None = None
    duration: str | None = None
    content_type: str | None = None


@dataclass
class ConversationState:
    draft: Draft = field(default_factory=Draft)
    awaiting: str = AWAITING_NOTHING
    pending: PendingAction | None = None
    from_image: bool = False  # the conversation started from an uploaded example image
    transcript: list[dict[str, str]] = field(default_factory=list)

    def transcript_append(self, role: str, content: str) -> None:
        self.transcript.append({"role": role, "content": content[:2000]})
        del self.transcript[:-TRANSCRIPT_KEEP]


@dataclass(frozen=True)
class KnownFilter:
    """One of the user's active filters, as the assistant needs it."""

    id: int
    filter_text: str
    content_type: str
    intensity: int
    duration: str


def state_to_dict(state: ConversationState) -> dict[str, Any]:
    return asdict(state)


def state_from_dict(data: object) -> ConversationState:
    """Rebuild a state from the cache; anything malformed gives a fresh conversation."""
    if not isinstance(data, dict):
        return ConversationState()
    try:
        draft = Draft(**_known_fields(Draft, data.get("draft") or {}))
        if not draft_valid(draft):
            return ConversationState()
        pending_data = data.get("pending")
        pending = (
            PendingAction(**_known_fields(PendingAction, pending_data)) if pending_data else None
        )
        transcript = [
            {"role": str(item["role"]), "content": str(item["content"])}
            for item in data.get("transcript") or []
        ]
        return ConversationState(
            draft=draft,
            awaiting=str(data.get("awaiting") or ""),
            pending=pending,
            from_image=bool(data.get("from_image")),
            transcript=transcript[-TRANSCRIPT_KEEP:],
        )
    except (TypeError, KeyError, AttributeError):
        return ConversationState()


def draft_valid(draft: Draft) -> bool:
    return (
        isinstance(draft.filter_text, str)
        and isinstance(draft.note, str)
        and isinstance(draft.reading, str)
        and draft.intensity in (None, 1, 2, 3, 4, 5)
        and draft.duration in (None, *DURATIONS)
        and draft.content_type in (None, *CONTENT_TYPES)
    )


def _known_fields(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {item.name for item in fields(cls)}
    return {key: value for key, value in data.items() if key in names}
