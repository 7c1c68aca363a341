"""The model-backed assistant: one structured-output call per message, the user's filters in
context, the same reply shape as the embedded assistant, and the embedded assistant as the
fallback whenever the model fails or answers something unusable.

Commands with a fixed meaning ("I'm done", "Yes, show my filters"...) and yes/no answers to a
pending removal or change stay deterministic: a model never decides alone to delete a filter.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from chat.assistant import existing, rules
from chat.assistant import replies as say
from chat.assistant.base import Assistant, ChatImage
from chat.assistant.embedded import EmbeddedAssistant
from chat.assistant.prompts import IMAGE_PROMPT, REPLY_SCHEMA, SYSTEM_PROMPT
from chat.assistant.replies import FilterData, Reply, Turn
from chat.assistant.state import (
    AWAITING_CONFIRM,
    AWAITING_NOTHING,
    AWAITING_SAVE,
    CONTENT_TYPES,
    DURATIONS,
    ConversationState,
    Draft,
    KnownFilter,
    PendingAction,
)
from chat.assistant.vocabulary import VAGUE_TOPICS
from diymod.openai_client import ModelError, chat_json_reply

logger = logging.getLogger(__name__)

MAX_OPTIONS = 6
MAX_OPTION_CHARS = 80
MAX_FILTER_TEXT_CHARS = 100
MAX_TEXT_CHARS = 2000
DETERMINISTIC_INTENTS = {
    rules.INTENT_LIST,
    rules.INTENT_DONE,
    rules.INTENT_ADD_ANOTHER,
    rules.INTENT_TRY_AGAIN,
    rules.INTENT_SOMETHING_ELSE,
}


class OpenAIAssistant(Assistant):
    name = "openai"

    def __init__(self) -> None:
        self.fallback = EmbeddedAssistant()

    def respond(
        self,
        *,
        state: ConversationState,
        message: str,
        filters: Sequence[KnownFilter],
        image: ChatImage | None = None,
    ) -> Turn:
        if image is None and deterministic_message(state, message):
            turn = self.fallback.respond(state=state, message=message, filters=filters)
            turn.assistant = self.name
            return turn
        try:
            output = self.model_ask(state=state, message=message, filters=filters, image=image)
            return turn_from_output(output, state=state, filters=list(filters), image=image)
        except ModelError as error:
            logger.warning(
                "chat model failed (%s): %s; embedded assistant answers", error.reason, error
            )
            turn = self.fallback.respond(
                state=state, message=message, filters=filters, image=image
            )
            turn.degraded_reason = error.reason
            return turn

    def model_ask(
        self,
        *,
        state: ConversationState,
        message: str,
        filters: Sequence[KnownFilter],
        image: ChatImage | None,
    ) -> dict[str, Any]:
        model = settings.DIYMOD_OPENAI_VISION_MODEL if image else settings.DIYMOD_OPENAI_MODEL
        reply = chat_json_reply(
            messages=model_messages(state=state, message=message, filters=filters, image=image),
            schema=REPLY_SCHEMA,
            schema_name="chat_reply",
            model=model,
        )
        return reply.data


def deterministic_message(state: ConversationState, message: str) -> bool:
    understanding = rules.message_understand(message)
    if understanding.intent in DETERMINISTIC_INTENTS:
        return True
    return state.awaiting == AWAITING_CONFIRM and (
        understanding.intent in (rules.INTENT_YES, rules.INTENT_NO, rules.INTENT_DONE)
    )


def model_messages(
    *,
    state: ConversationState,
    message: str,
    filters: Sequence[KnownFilter],
    image: ChatImage | None,
) -> list[dict[str, Any]]:
    context = {
        "existing_filters": [
            {
                "id": known.id,
                "filter_text": known.filter_text,
                "content_type": known.content_type,
                "intensity": known.intensity,
                "duration": known.duration,
            }
            for known in filters
        ],
        "draft_in_progress": _draft_json(state.draft),
        "started_from_image": state.from_image or image is not None,
    }
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "system", "content": "Context: " + json.dumps(context)},
    ]
    if image is not None:
        messages.append({"role": "system", "content": IMAGE_PROMPT})
    messages += [{"role": item["role"], "content": item["content"]} for item in state.transcript]
    messages.append({"role": "user", "content": _user_content(message, image)})
    return messages


def _draft_json(draft: Draft) -> dict[str, Any] | None:
    if not draft.filter_text:
        return None
    return {
        "filter_text": draft.filter_text,
        "content_type": draft.content_type,
        "intensity": draft.intensity,
        "duration": draft.duration,
    }


def _user_content(message: str, image: ChatImage | None) -> Any:
    if image is None:
        return message
    encoded = base64.b64encode(image.content).decode("ascii")
    return [
        {"type": "text", "text": message or "I'd like to create a filter for this image."},
        {"type": "image_url", "image_url": {"url": f"data:{image.mime_type};base64,{encoded}"}},
    ]


# ---- the model's answer, checked ------------------------------------------------------------


def turn_from_output(
    output: dict[str, Any],
    *,
    state: ConversationState,
    filters: list[KnownFilter],
    image: ChatImage | None,
) -> Turn:
    """A Turn from the model's JSON; anything outside the contract raises ModelError."""
    state = ConversationState(
        draft=state.draft,
        from_image=state.from_image or image is not None,
        transcript=state.transcript,
    )
    text = _text_checked(output.get("text"))
    reply_type = output.get("type")
    if reply_type not in say.REPLY_TYPES:
        raise _invalid(f"type {reply_type!r}")
    options = _options_checked(output.get("options"))
    action = _action_checked(output.get("action"), filters)
    if action is not None:
        return _action_turn(state, action, filters)
    if reply_type == say.TYPE_READY:
        return _ready_turn(
            state, _filter_data_checked(output.get("filter_data")), text, options, filters
        )
    if reply_type in (say.TYPE_COMPLETE, say.TYPE_INITIAL):
        state.draft = Draft()
    state.awaiting = AWAITING_NOTHING
    return Turn(
        reply=Reply(text=text, type=str(reply_type), options=options),
        state=state,
        assistant=OpenAIAssistant.name,
    )


def _action_turn(
    state: ConversationState, action: PendingAction, filters: list[KnownFilter]
) -> Turn:
    # The confirmation is worded by the server from the action itself, so what the user says
    # yes to is exactly what will be done.
    state.pending = action
    turn = existing.confirm(state, filters)
    turn.assistant = OpenAIAssistant.name
    return turn


def _ready_turn(
    state: ConversationState,
    data: FilterData,
    text: str,
    options: tuple[str, ...],
    filters: list[KnownFilter],
) -> Turn:
    state.draft = Draft(
        filter_text=data.filter_text,
        content_type=data.content_type,
        intensity=data.intensity,
        duration=data.duration,
        context=data.context,
    )
    duplicate = existing.duplicate_find(data.filter_text, filters)
    if duplicate is not None:
        # The model was told about the user's filters; the server makes sure all the same.
        turn = existing.duplicate_answer(state, duplicate)
    else:
        state.awaiting = AWAITING_SAVE
        reply = Reply(text=text, type=say.TYPE_READY, options=options, filter_data=data)
        turn = Turn(reply=reply, state=state)
    turn.assistant = OpenAIAssistant.name
    return turn


def _text_checked(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid("empty text")
    return value.strip()[:MAX_TEXT_CHARS]


def _options_checked(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid("options are not a list of strings")
    cleaned = [item.strip()[:MAX_OPTION_CHARS] for item in value if item.strip()]
    return tuple(dict.fromkeys(cleaned))[:MAX_OPTIONS]


def _filter_data_checked(value: Any) -> FilterData:
    if not isinstance(value, dict):
        raise _invalid("ready_for_config without filter_data")
    filter_text = value.get("filter_text")
    intensity = value.get("intensity")
    if not isinstance(filter_text, str) or not filter_text.strip():
        raise _invalid("empty filter_text")
    if len(filter_text) > MAX_FILTER_TEXT_CHARS:
        raise _invalid("filter_text too long")
    if filter_text.strip().lower() in VAGUE_TOPICS:
        raise _invalid(f"vague filter_text {filter_text!r}")  # "posts", "stuff", "anything"
    if type(intensity) is not int or not 1 <= intensity <= 5:
        raise _invalid(f"intensity {intensity!r}")
    if value.get("content_type") not in CONTENT_TYPES or value.get("duration") not in DURATIONS:
        raise _invalid("content_type or duration outside the contract")
    context = value.get("context")
    return FilterData(
        filter_text=filter_text.strip(),
        content_type=value["content_type"],
        intensity=intensity,
        duration=value["duration"],
        context=context.strip() if isinstance(context, str) else "",
    )


def _action_checked(value: Any, filters: list[KnownFilter]) -> PendingAction | None:
    """A proposed removal or change, limited to the user's own filters (ids the model was
    shown); a proposal naming anything else is dropped, not trusted."""
    if not isinstance(value, dict) or value.get("kind") not in ("remove", "change"):
        return None
    known = {item.id for item in filters}
    ids = [item for item in value.get("filter_ids") or [] if type(item) is int and item in known]
    if not ids:
        return None
    if value["kind"] == "remove":
        return PendingAction(kind="remove", filter_ids=ids)
    intensity = value.get("intensity")
    change = PendingAction(
        kind="change",
        filter_ids=ids[:1],
        intensity=intensity if type(intensity) is int and 1 <= intensity <= 5 else None,
        duration=value.get("duration") if value.get("duration") in DURATIONS else None,
        content_type=value.get("content_type")
        if value.get("content_type") in CONTENT_TYPES
        else None,
    )
    return None if existing.change_is_empty(change) else change


def _invalid(what: str) -> ModelError:
    return ModelError(f"The model's chat reply is unusable: {what}", reason="invalid_output")
