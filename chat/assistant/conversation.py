"""The embedded assistant's conversation: a small state machine over rules.py's understanding.

Each message is read against what the last reply asked (`state.awaiting`), so a bare "a week"
or "yes" means something. The draft is completed from what the words imply, and only what
cannot be inferred is asked, one question per turn. Removing or changing an existing filter is
only proposed here; chat.services does it once the user said yes (Turn.actions).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from chat.assistant import existing, questions, rules, topics
from chat.assistant import replies as say
from chat.assistant.replies import Reply, Turn
from chat.assistant.rules import Understanding
from chat.assistant.state import (
    AWAITING_CHANGE_DETAIL,
    AWAITING_CONFIRM,
    AWAITING_DUPLICATE,
    AWAITING_DURATION,
    AWAITING_INTENSITY,
    AWAITING_SAVE,
    AWAITING_TOPIC,
    AWAITING_WHICH_FILTER,
    ConversationState,
    Draft,
    KnownFilter,
)


def conversation_advance(
    *, state: ConversationState, message: str, filters: Sequence[KnownFilter]
) -> Turn:
    state = copy.deepcopy(state)
    understanding = rules.message_understand(message)
    for handle in (_confirmation_answer, _command_answer, _awaited_answer, _request_answer):
        turn = handle(understanding, state, list(filters), message)
        if turn is not None:
            return turn
    return _not_understood(state, understanding)


def image_conversation_start(
    *, state: ConversationState, message: str, filters: Sequence[KnownFilter], facts: str
) -> Turn:
    """An example image without a vision model: we cannot see it, so we say so and ask."""
    fresh = ConversationState(from_image=True, transcript=state.transcript)
    fresh.draft.content_type = "image"
    if message.strip():
        turn = conversation_advance(state=fresh, message=message, filters=filters)
        if turn.state.draft.filter_text or turn.state.awaiting != AWAITING_TOPIC:
            return turn
    fresh.awaiting = AWAITING_TOPIC
    text = (
        f"I can't look inside images on this server (no vision model is set up), but I can "
        f"see it's {facts}. What in it would you like me to filter? Name it in a few words, "
        'for example "spiders", "blood" or "clowns", and I\'ll filter it in images.'
    )
    return Turn(reply=Reply(text=text, type=say.TYPE_CLARIFY), state=fresh)


# ---- handlers, tried in order ---------------------------------------------------------------


def _confirmation_answer(
    u: Understanding, state: ConversationState, filters: list[KnownFilter], message: str
) -> Turn | None:
    if state.awaiting != AWAITING_CONFIRM or state.pending is None:
        return None
    if u.intent == rules.INTENT_YES:
        return existing.action_confirmed(state, filters)
    if u.intent in (rules.INTENT_NO, rules.INTENT_DONE):
        return existing.action_declined(state)
    if (
        state.pending.kind == "change"
        and not u.topic
        and u.intent in (rules.INTENT_CHANGE, rules.INTENT_SETTINGS)
    ):
        # "Change it" answers "change it to ...?"; "make it a week" amends the proposal.
        if not u.settings.any():
            return existing.action_confirmed(state, filters)
        return existing.pending_change_amend(state, filters, u.settings)
    return None


def _command_answer(
    u: Understanding, state: ConversationState, filters: list[KnownFilter], message: str
) -> Turn | None:
    if u.intent == rules.INTENT_LIST:
        return _filters_listed(state, filters)
    if u.intent == rules.INTENT_DONE:
        text = "All set. Your filters apply from the next page your feed loads."
        return Turn(reply=Reply(text=text, type=say.TYPE_COMPLETE), state=_reset(state))
    if u.intent == rules.INTENT_ADD_ANOTHER:
        return _initial(_reset(state), "Sure. What else would you like to filter?")
    if u.intent == rules.INTENT_TRY_AGAIN:
        return _initial(_reset(state), "Let's start over. What would you like to filter?")
    if u.intent == rules.INTENT_SOMETHING_ELSE:
        return _initial(_reset(state), "Sure. What would you like to filter?")
    if u.intent in (rules.INTENT_GREETING, rules.INTENT_EMPTY):
        pending = question_pending(state, filters)
        if pending is not None:
            return Turn(reply=pending, state=state)
        return _initial(_reset(state), questions.GREETING, questions.EXAMPLE_OPTIONS)
    return None


def _awaited_answer(
    u: Understanding, state: ConversationState, filters: list[KnownFilter], message: str
) -> Turn | None:
    if _is_new_request(u):
        return None  # a fresh request always wins over the pending question
    if state.awaiting == AWAITING_TOPIC:
        return _topic_answer(u, state, filters, message)
    if state.awaiting in (AWAITING_INTENSITY, AWAITING_DURATION, AWAITING_SAVE):
        return _draft_adjustment(u, state, filters)
    if state.awaiting == AWAITING_WHICH_FILTER:
        return existing.which_filter_answer(u, state, filters, message)
    if state.awaiting in (AWAITING_CHANGE_DETAIL, AWAITING_DUPLICATE):
        return existing.change_detail_answer(u, state, filters)
    return None


def _request_answer(
    u: Understanding, state: ConversationState, filters: list[KnownFilter], message: str
) -> Turn | None:
    if u.intent == rules.INTENT_CREATE:
        if state.awaiting == AWAITING_SAVE:
            state.from_image = False  # the image's filter was proposed; this is a new one
        state.draft = _draft_from(u, from_image=state.from_image)
        state.pending = None
        return draft_next(state, filters)
    if u.intent == rules.INTENT_REMOVE:
        return existing.removal_start(u, _reset(state), filters)
    if u.intent == rules.INTENT_CHANGE:
        return existing.change_start(u, _reset(state), filters)
    if u.intent == rules.INTENT_SETTINGS:
        state.draft = _draft_from(u, from_image=state.from_image)
        return draft_next(state, filters)
    if u.intent in (rules.INTENT_YES, rules.INTENT_NO):
        return _initial(_reset(state), "What would you like to filter?", questions.EXAMPLE_OPTIONS)
    return None


def _is_new_request(u: Understanding) -> bool:
    if u.intent in (rules.INTENT_REMOVE, rules.INTENT_CHANGE) and u.topic:
        return True
    return u.intent == rules.INTENT_CREATE and u.has_request_verb and bool(u.topic)


# ---- the draft ------------------------------------------------------------------------------


def _draft_from(u: Understanding, *, from_image: bool) -> Draft:
    settings = u.settings
    context = topics.spoiler_context(u.spoiler_subject) if u.spoiler_subject else ""
    return Draft(
        filter_text=u.topic,
        content_type=settings.content_type or ("image" if from_image else None),
        intensity=settings.intensity,
        duration=settings.duration,
        duration_unclear=settings.duration_unclear,
        spoiler=u.spoiler,
        context=context,
        note=settings.duration_note,
        reading=u.reading,
    )


def _topic_answer(
    u: Understanding, state: ConversationState, filters: list[KnownFilter], message: str
) -> Turn | None:
    draft = state.draft
    _settings_merge(draft, u.settings)
    topic = _topic_from_answer(u, draft, message)
    if not topic:
        return draft_next(state, filters) if u.settings.any() else None
    draft.filter_text = topic
    draft.reading = u.reading if topic == u.topic else ""
    if u.spoiler and u.spoiler_subject:
        draft.spoiler, draft.context = True, topics.spoiler_context(u.spoiler_subject)
    return draft_next(state, filters)


def _topic_from_answer(u: Understanding, draft: Draft, message: str) -> str:
    """The reply to "what should I filter?" is the topic itself, even without a verb."""
    if draft.spoiler:
        subject = topics.spoiler_subject_from_answer(message)
        if subject:
            draft.context = topics.spoiler_context(subject)
            return f"{subject} spoilers"
        return ""
    if u.intent == rules.INTENT_CREATE and u.topic:
        return u.topic
    if u.intent not in (rules.INTENT_UNKNOWN,):
        return ""
    topic = topics.topic_clean(topics.message_normalize(message)).topic
    return topic if topics.topic_plausible(topic, has_verb=True) else ""


def _draft_adjustment(
    u: Understanding, state: ConversationState, filters: list[KnownFilter]
) -> Turn | None:
    """Answers to "how strongly?", "how long?" and changes to a draft already proposed."""
    settings = u.settings
    if u.intent == rules.INTENT_YES and state.awaiting == AWAITING_SAVE:
        return _ready(state, lead="It's ready: press Save Filter below to keep it.")
    if u.intent == rules.INTENT_NO and state.awaiting == AWAITING_SAVE:
        return _adjustment_question(state)
    if u.topic and u.intent == rules.INTENT_CREATE and not settings.any():
        return None
    if not settings.any():
        return _repeat(state, filters, "Sorry, I didn't catch that.")
    _settings_merge(state.draft, settings)
    return draft_next(state, filters)


def _settings_merge(draft: Draft, settings: rules.RequestedSettings) -> None:
    if settings.intensity is not None:
        draft.intensity = settings.intensity
    elif settings.intensity_shift:
        draft.intensity = existing.intensity_shifted(
            draft.intensity or 3, settings.intensity_shift
        )
    if settings.duration is not None:
        draft.duration, draft.duration_unclear = settings.duration, False
        draft.note = settings.duration_note
    elif settings.duration_unclear and draft.duration is None:
        draft.duration_unclear = True
    if settings.content_type is not None:
        draft.content_type = settings.content_type


def draft_next(state: ConversationState, filters: list[KnownFilter]) -> Turn:
    """Ask the one thing still missing, or hand the finished draft over for saving."""
    draft = state.draft
    if not draft.filter_text:
        state.awaiting = AWAITING_TOPIC
        return Turn(reply=questions.topic_question(draft), state=state)
    duplicate = existing.duplicate_find(draft.filter_text, filters)
    if duplicate is not None:
        return existing.duplicate_answer(state, duplicate)
    if draft.intensity is None:
        state.awaiting = AWAITING_INTENSITY
        reply = questions.intensity_question(draft)
        draft.reading = ""  # said once
        return Turn(reply=reply, state=state)
    if draft.duration is None and draft.duration_unclear:
        state.awaiting = AWAITING_DURATION
        return Turn(reply=questions.duration_question(draft), state=state)
    return _ready(state)


def _ready(state: ConversationState, lead: str = "") -> Turn:
    state.awaiting = AWAITING_SAVE
    reply = questions.ready_reply(state.draft, lead=lead)
    state.draft.note = state.draft.reading = ""  # said once
    return Turn(reply=reply, state=state)


def _adjustment_question(state: ConversationState) -> Turn:
    return Turn(reply=questions.adjustment_question(state.draft), state=state)


# ---- everything else ------------------------------------------------------------------------


def question_pending(state: ConversationState, filters: list[KnownFilter]) -> Reply | None:
    """The question the conversation is waiting on, asked again (None when nothing waits)."""
    if state.awaiting in (AWAITING_TOPIC, AWAITING_INTENSITY, AWAITING_DURATION):
        return draft_next(copy.deepcopy(state), filters).reply
    if state.awaiting == AWAITING_SAVE:
        return _ready(copy.deepcopy(state)).reply
    if state.awaiting in (
        AWAITING_CONFIRM,
        AWAITING_WHICH_FILTER,
        AWAITING_CHANGE_DETAIL,
        AWAITING_DUPLICATE,
    ):
        return existing.question_repeat(state, filters)
    return None


def _repeat(state: ConversationState, filters: list[KnownFilter], lead: str) -> Turn:
    pending = question_pending(state, filters)
    if pending is None:
        return _not_understood(state, rules.Understanding(rules.INTENT_UNKNOWN))
    reply = Reply(
        text=f"{lead} {pending.text}",
        type=pending.type,
        options=pending.options,
        filter_data=pending.filter_data,
    )
    return Turn(reply=reply, state=state)


def _filters_listed(state: ConversationState, filters: list[KnownFilter]) -> Turn:
    listing = say.filters_list_text(filters)
    pending = question_pending(state, filters)
    if pending is not None:
        reply = Reply(
            text=f"{listing}\n\nBack to where we were: {pending.text}",
            type=pending.type,
            options=pending.options,
            filter_data=pending.filter_data,
        )
        return Turn(reply=reply, state=state)
    options = (say.OPTION_ADD_ANOTHER, say.OPTION_DONE)
    tail = "\n\nTell me if you want to add, change or remove one."
    return Turn(
        reply=Reply(text=listing + tail, type=say.TYPE_INITIAL, options=options), state=state
    )


def _not_understood(state: ConversationState, u: Understanding) -> Turn:
    text = questions.TOO_LONG if u.too_long else questions.NOT_UNDERSTOOD
    if u.struggling and not u.too_long:
        text = questions.PERSONAL_UNCLEAR
    if u.too_long:
        _settings_merge(state.draft, u.settings)
        state.draft.filter_text = ""
        state.awaiting = AWAITING_TOPIC
    options = () if u.too_long else questions.EXAMPLE_OPTIONS + (say.OPTION_SHOW_FILTERS,)
    return Turn(reply=Reply(text=text, type=say.TYPE_CLARIFY, options=options), state=state)


def _initial(state: ConversationState, text: str, options: tuple[str, ...] = ()) -> Turn:
    return Turn(reply=Reply(text=text, type=say.TYPE_INITIAL, options=options), state=state)


def _reset(state: ConversationState) -> ConversationState:
    return ConversationState(transcript=state.transcript)
