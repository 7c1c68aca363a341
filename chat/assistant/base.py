"""The one interface both assistants implement (STYLE.md: embedded default and model-backed
production are two implementations of the same thing)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from chat.assistant.replies import Turn
from chat.assistant.state import ConversationState, KnownFilter


@dataclass(frozen=True)
class ChatImage:
    """An uploaded example image, already decoded and checked by chat.services."""

    content: bytes
    format: str  # Pillow's name: "JPEG", "PNG", "WEBP", "GIF"...
    mime_type: str
    width: int
    height: int

    def facts_describe(self) -> str:
        size_kb = max(1, round(len(self.content) / 1024))
        return f"a {self.width}\u00d7{self.height} {self.format} image ({size_kb} KB)"


class Assistant(ABC):
    name: str

    @abstractmethod
    def respond(
        self,
        *,
        state: ConversationState,
        message: str,
        filters: Sequence[KnownFilter],
        image: ChatImage | None = None,
    ) -> Turn:
        """Answer one message. Never mutates `state`: the returned Turn holds the next one."""
