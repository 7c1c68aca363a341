"""Conversational filter creation (CONTRACT.md section 2, /chat and /chat/image).

The server keeps each user's conversation itself, in the cache under the user's primary key,
for DIYMOD_CHAT_TTL_SECONDS after the last message: the client's `history` may hold only the
last message. Which assistant answers is chosen by settings (OpenAI when a key is set).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from PIL import Image

from chat.assistant.base import Assistant, ChatImage
from chat.assistant.embedded import EmbeddedAssistant
from chat.assistant.replies import AFTER_ACTION_OPTIONS, TYPE_COMPLETE, Reply, Turn
from chat.assistant.state import (
    ConversationState,
    KnownFilter,
    PendingAction,
    state_from_dict,
    state_to_dict,
)
from chat.uploads import CHAT_IMAGE_MAX_BYTES
from diymod.errors import ApplicationError, NotFound
from diymod.openai_client import openai_configured
from filters.models import Filter, User
from filters.selectors import filter_get, filter_list_active
from filters.services import filter_delete, filter_update
from imaging.fetching import FetchRefused, image_decode

logger = logging.getLogger(__name__)

MESSAGE_MAX_CHARS = 2000
HISTORY_ROLES = ("user", "assistant")


def chat_state_key(*, user: User) -> str:
    return f"chat:state:{user.pk}"


def chat_state_get(*, user: User) -> ConversationState:
    try:
        return state_from_dict(cache.get(chat_state_key(user=user)))
    except Exception as error:  # a cache outage restarts the conversation, never fails it
        logger.warning("chat state unreadable for user %s: %s", user.pk, error)
        return ConversationState()


def chat_state_save(*, user: User, state: ConversationState) -> None:
    try:
        cache.set(
            chat_state_key(user=user),
            state_to_dict(state),
            timeout=settings.DIYMOD_CHAT_TTL_SECONDS,
        )
    except Exception as error:
        logger.warning("chat state not saved for user %s: %s", user.pk, error)


def chat_assistant() -> Assistant:
    if openai_configured():
        from chat.assistant.openai import OpenAIAssistant

        return OpenAIAssistant()
    return EmbeddedAssistant()


def known_filters(*, user: User) -> list[KnownFilter]:
    return [_known_filter_from(item) for item in filter_list_active(user=user).order_by("id")]


def _known_filter_from(item: Filter) -> KnownFilter:
    return KnownFilter(
        id=item.id,
        filter_text=item.filter_text,
        content_type=item.content_type,
        intensity=item.intensity,
        duration=item.duration,
    )


def chat_reply(
    *, user: User, message: str, history: Any = None, image: ChatImage | None = None
) -> dict[str, Any]:
    """Answer one chat message (and example image) for `user`; returns the response body."""
    state = chat_state_get(user=user)
    if not state.transcript:
        state.transcript = history_transcript(history=history)
    turn = chat_assistant().respond(
        state=state, message=message, filters=known_filters(user=user), image=image
    )
    if turn.actions:
        turn.reply = chat_actions_apply(user=user, actions=turn.actions, reply=turn.reply)
    turn.state.transcript = list(state.transcript)
    turn.state.transcript_append("user", message or ("[example image]" if image else ""))
    turn.state.transcript_append("assistant", turn.reply.text)
    chat_state_save(user=user, state=turn.state)
    return chat_response_body(turn=turn)


def chat_response_body(*, turn: Turn) -> dict[str, Any]:
    body = turn.reply.as_json()
    body["assistant"] = turn.assistant
    if turn.degraded_reason:
        # The model failed and the embedded assistant answered instead (DESIGN.md: never silent).
        body["degraded"] = True
        body["degraded_reason"] = turn.degraded_reason
    return body


def history_transcript(*, history: Any) -> list[dict[str, str]]:
    """The client's history as a transcript seed, used only when the server has none; anything
    malformed in it is skipped (the client's history is known to be unreliable)."""
    if not isinstance(history, list):
        return []
    state = ConversationState()
    for item in history:
        if (
            isinstance(item, dict)
            and item.get("role") in HISTORY_ROLES
            and isinstance(item.get("content"), str)
        ):
            state.transcript_append(item["role"], item["content"])
    return state.transcript


def chat_actions_apply(*, user: User, actions: list[PendingAction], reply: Reply) -> Reply:
    """Do the removals and changes the user confirmed; only the user's own filters are found."""
    done = 0
    for action in actions:
        for filter_id in action.filter_ids:
            try:
                target = filter_get(user=user, filter_id=filter_id)
            except NotFound:
                continue
            pending_action_apply(action=action, target=target)
            done += 1
    if done:
        return reply
    text = "That filter is already gone, so there's nothing to do."
    return Reply(text=text, type=TYPE_COMPLETE, options=AFTER_ACTION_OPTIONS)


def pending_action_apply(*, action: PendingAction, target: Filter) -> None:
    if action.kind == "remove":
        filter_delete(filter=target)
        return
    changes = {
        name: value
        for name, value in (
            ("intensity", action.intensity),
            ("duration", action.duration),
            ("content_type", action.content_type),
        )
        if value is not None
    }
    filter_update(filter=target, changes=changes)


def chat_image_read(*, upload: UploadedFile | None, oversized: bool = False) -> ChatImage:
    """The uploaded example image, decoded to prove it is one; 400 for anything else."""
    if oversized or (upload is not None and (upload.size or 0) > CHAT_IMAGE_MAX_BYTES):
        raise ApplicationError("image: the file is larger than 5 MB.")
    if upload is None:
        raise ApplicationError("image: an image file is required.")
    data = upload.read()
    try:
        decoded, image_format = image_decode(data, settings.DIYMOD_IMAGE_MAX_PIXELS)
    except FetchRefused as refused:
        raise ApplicationError(f"image: not an acceptable image ({refused}).") from None
    finally:
        upload.close()
    width, height = decoded.size
    decoded.close()
    mime_type = Image.MIME.get(image_format, "application/octet-stream")
    return ChatImage(
        content=data, format=image_format, mime_type=mime_type, width=width, height=height
    )
