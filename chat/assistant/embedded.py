"""The assistant that needs nothing: rule-based, deterministic, runs in the request."""

from __future__ import annotations

from collections.abc import Sequence

from chat.assistant.base import Assistant, ChatImage
from chat.assistant.conversation import conversation_advance, image_conversation_start
from chat.assistant.replies import Turn
from chat.assistant.state import ConversationState, KnownFilter


class EmbeddedAssistant(Assistant):
    name = "embedded"

    def respond(
        self,
        *,
        state: ConversationState,
        message: str,
        filters: Sequence[KnownFilter],
        image: ChatImage | None = None,
    ) -> Turn:
        if image is not None:
            return image_conversation_start(
                state=state, message=message, filters=filters, facts=image.facts_describe()
            )
        return conversation_advance(state=state, message=message, filters=filters)
