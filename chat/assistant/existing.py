"""The part of the conversation about filters the user already has: duplicates, removals and
changes. Nothing here touches the database: a confirmed request comes back as Turn.actions."""

from __future__ import annotations

import re

from chat.assistant import replies as say
from chat.assistant import rules, topics
from chat.assistant.replies import Reply, Turn
from chat.assistant.rules import RequestedSettings, Understanding
from chat.assistant.state import (
    AWAITING_CHANGE_DETAIL,
    AWAITING_CONFIRM,
    AWAITING_DUPLICATE,
    AWAITING_WHICH_FILTER,
    ConversationState,
    KnownFilter,
    PendingAction,
)

CHANGE_IT = "Change it"
KEEP_IT = "Keep it"
MAX_FILTER_OPTIONS = 6
CHANGE_DETAIL_OPTIONS = say.INTENSITY_OPTIONS + ("For a week", "Permanently")


def intensity_shifted(current: int, shift: int) -> int:
    return min(5, max(1, current + shift))


def filter_matches(topic: str, filters: list[KnownFilter]) -> list[KnownFilter]:
    """Filters a user's words name: same words first, else ones sharing all of the fewer words
    ("spiders" finds "spider pictures")."""
    key = topics.topic_key(topic)
    if not key:
        return []
    exact = [known for known in filters if topics.topic_key(known.filter_text) == key]
    if exact:
        return exact
    return [
        known
        for known in filters
        if (other := topics.topic_key(known.filter_text)) and (key <= other or other <= key)
    ]


def duplicate_find(filter_text: str, filters: list[KnownFilter]) -> KnownFilter | None:
    key = topics.topic_key(filter_text)
    return next((known for known in filters if topics.topic_key(known.filter_text) == key), None)


def duplicate_answer(state: ConversationState, duplicate: KnownFilter) -> Turn:
    draft = state.draft
    state.pending = _change_to(
        duplicate,
        intensity=draft.intensity,
        duration=draft.duration,
        content_type=draft.content_type,
    )
    if not change_is_empty(state.pending):
        state.awaiting = AWAITING_CONFIRM
        reply = _confirm_question(state.pending, [duplicate], lead="You already have a filter for")
        return Turn(reply=reply, state=state)
    state.awaiting = AWAITING_DUPLICATE
    return Turn(reply=_duplicate_question(duplicate), state=state)


def _duplicate_question(duplicate: KnownFilter) -> Reply:
    text = (
        f"You already have this filter: {say.known_filter_describe(duplicate)}. "
        "Do you want to change it?"
    )
    return Reply(
        text=text, type=say.TYPE_CLARIFY, options=(CHANGE_IT, KEEP_IT, say.OPTION_SHOW_FILTERS)
    )


# ---- starting a removal or a change ---------------------------------------------------------


def removal_start(u: Understanding, state: ConversationState, filters: list[KnownFilter]) -> Turn:
    if not filters:
        return _nothing_to_touch(state, "remove")
    if u.everything:
        state.pending = PendingAction(kind="remove", filter_ids=[known.id for known in filters])
        return confirm(state, filters)
    matches = filter_matches(u.topic, filters)
    if len(matches) == 1:
        state.pending = PendingAction(kind="remove", filter_ids=[matches[0].id])
        return confirm(state, filters)
    state.pending = PendingAction(kind="remove", filter_ids=[k.id for k in matches or filters])
    return _which_filter(state, filters, not_found=u.topic if not matches else "")


def change_start(u: Understanding, state: ConversationState, filters: list[KnownFilter]) -> Turn:
    if not filters:
        return _nothing_to_touch(state, "change")
    matches = filter_matches(u.topic, filters)
    if len(matches) == 1:
        return change_target(state, matches[0], u.settings)
    settings = u.settings
    state.pending = PendingAction(
        kind="change",
        filter_ids=[k.id for k in matches or filters],
        intensity=settings.intensity,
        duration=settings.duration,
        content_type=settings.content_type,
    )
    return _which_filter(state, filters, not_found=u.topic if not matches else "")


def change_target(
    state: ConversationState, target: KnownFilter, settings: RequestedSettings
) -> Turn:
    """A change of `target` with what the user asked so far: confirm it, or ask what."""
    intensity = settings.intensity
    if intensity is None and settings.intensity_shift:
        intensity = intensity_shifted(target.intensity, settings.intensity_shift)
    state.pending = _change_to(
        target, intensity=intensity, duration=settings.duration, content_type=settings.content_type
    )
    if not change_is_empty(state.pending):
        state.awaiting = AWAITING_CONFIRM
        return Turn(reply=_confirm_question(state.pending, [target]), state=state)
    if settings.any():
        text = f"That's how it works already: {say.known_filter_describe(target)}."
        return _finished(text)
    state.awaiting = AWAITING_CHANGE_DETAIL
    return Turn(reply=_change_detail_question(target), state=state)


def _change_to(
    known: KnownFilter, *, intensity: int | None, duration: str | None, content_type: str | None
) -> PendingAction:
    """A change of `known` keeping only the settings that differ from what it has now."""
    return PendingAction(
        kind="change",
        filter_ids=[known.id],
        intensity=intensity if intensity != known.intensity else None,
        duration=duration if duration != known.duration else None,
        content_type=content_type if content_type != known.content_type else None,
    )


def change_is_empty(action: PendingAction) -> bool:
    return action.intensity is None and action.duration is None and action.content_type is None


# ---- answers to our questions ---------------------------------------------------------------


def which_filter_answer(
    u: Understanding, state: ConversationState, filters: list[KnownFilter], message: str
) -> Turn | None:
    pending = state.pending
    if pending is None:
        return None
    candidates = [known for known in filters if known.id in pending.filter_ids] or filters
    chosen = _filter_chosen(u, candidates, message)
    if chosen is None:
        if u.intent in (rules.INTENT_NO, rules.INTENT_DONE):
            return action_declined(state)
        reply = _which_filter_question(candidates, lead="I couldn't tell which one you mean.")
        return Turn(reply=reply, state=state)
    if pending.kind == "remove":
        state.pending = PendingAction(kind="remove", filter_ids=[chosen.id])
        return confirm(state, filters)
    settings = RequestedSettings(
        intensity=pending.intensity, duration=pending.duration, content_type=pending.content_type
    )
    return change_target(state, chosen, settings)


def _filter_chosen(
    u: Understanding, candidates: list[KnownFilter], message: str
) -> KnownFilter | None:
    number = re.fullmatch(r"\s*#?(\d{1,2})[.)]?\s*", message)
    if number and 1 <= int(number.group(1)) <= len(candidates):
        return candidates[int(number.group(1)) - 1]
    for words in (message, u.topic):
        matches = filter_matches(words, candidates)
        if len(matches) == 1:
            return matches[0]
    return None


def change_detail_answer(
    u: Understanding, state: ConversationState, filters: list[KnownFilter]
) -> Turn | None:
    target = _pending_target(state, filters)
    if target is None:
        return None
    if u.intent in (rules.INTENT_NO, rules.INTENT_DONE):
        return _finished(f'Okay, "{target.filter_text}" stays as it is.')
    if u.settings.any():
        return change_target(state, target, u.settings)
    if u.intent in (rules.INTENT_CHANGE, rules.INTENT_YES):
        state.awaiting = AWAITING_CHANGE_DETAIL
        return Turn(reply=_change_detail_question(target), state=state)
    return None


def action_confirmed(state: ConversationState, filters: list[KnownFilter]) -> Turn:
    action = state.pending
    assert action is not None  # only called while a confirmation is pending
    known = {item.id: item for item in filters}
    targets = [known[filter_id] for filter_id in action.filter_ids if filter_id in known]
    if not targets:
        return _finished("That filter is already gone, so there's nothing to do.")
    action.filter_ids = [target.id for target in targets]
    turn = _finished(_done_text(action, targets))
    turn.actions.append(action)
    return turn


def pending_change_amend(
    state: ConversationState, filters: list[KnownFilter], settings: RequestedSettings
) -> Turn | None:
    target = _pending_target(state, filters)
    if target is None:
        return None
    pending = state.pending
    assert pending is not None
    merged = RequestedSettings(
        intensity=settings.intensity if settings.intensity is not None else pending.intensity,
        intensity_shift=settings.intensity_shift,
        duration=settings.duration or pending.duration,
        content_type=settings.content_type or pending.content_type,
    )
    return change_target(state, target, merged)


def action_declined(state: ConversationState) -> Turn:
    return _finished("Okay, I left your filters as they are.")


def question_repeat(state: ConversationState, filters: list[KnownFilter]) -> Reply | None:
    pending = state.pending
    if pending is None:
        return None
    targets = [known for known in filters if known.id in pending.filter_ids]
    if not targets:
        return None
    if state.awaiting == AWAITING_CONFIRM:
        return _confirm_question(pending, targets)
    if state.awaiting == AWAITING_WHICH_FILTER:
        return _which_filter_question(targets)
    if state.awaiting == AWAITING_DUPLICATE:
        return _duplicate_question(targets[0])
    return _change_detail_question(targets[0])


# ---- wording --------------------------------------------------------------------------------


def confirm(state: ConversationState, filters: list[KnownFilter]) -> Turn:
    assert state.pending is not None
    targets = [known for known in filters if known.id in state.pending.filter_ids]
    state.awaiting = AWAITING_CONFIRM
    return Turn(reply=_confirm_question(state.pending, targets), state=state)


def _confirm_question(
    action: PendingAction, targets: list[KnownFilter], lead: str = "You have a filter for"
) -> Reply:
    if action.kind == "remove":
        names = "; ".join(say.known_filter_describe(target) for target in targets)
        what = f"all {len(targets)} of your filters ({names})" if len(targets) > 1 else names
        text = f"Remove {what}? Matching posts will show normally again."
        return Reply(text=text, type=say.TYPE_CLARIFY, options=say.CONFIRM_REMOVE_OPTIONS)
    target = targets[0]
    text = f"{lead} {say.known_filter_describe(target)}. Change it to {_changes_describe(action)}?"
    return Reply(text=text, type=say.TYPE_CLARIFY, options=say.CONFIRM_CHANGE_OPTIONS)


def _changes_describe(action: PendingAction) -> str:
    parts = []
    if action.intensity is not None:
        parts.append(say.INTENSITY_WORDING[action.intensity])
    if action.content_type is not None:
        parts.append(say.CONTENT_TYPE_WORDING[action.content_type])
    if action.duration is not None:
        parts.append(f"last {say.DURATION_WORDING[action.duration]}")
    return ", ".join(parts)


def _done_text(action: PendingAction, targets: list[KnownFilter]) -> str:
    if action.kind == "remove":
        names = ", ".join(f'"{target.filter_text}"' for target in targets)
        return f"Done: I removed {names}. Those posts will show normally from the next page."
    return f'Done: "{targets[0].filter_text}" will now {_changes_describe(action)}.'


def _which_filter(state: ConversationState, filters: list[KnownFilter], *, not_found: str) -> Turn:
    assert state.pending is not None
    candidates = [known for known in filters if known.id in state.pending.filter_ids]
    state.awaiting = AWAITING_WHICH_FILTER
    lead = f'I couldn\'t find a filter for "{not_found}".' if not_found else ""
    return Turn(reply=_which_filter_question(candidates, lead=lead), state=state)


def _which_filter_question(candidates: list[KnownFilter], lead: str = "") -> Reply:
    listing = "\n".join(
        f"{number}. {say.known_filter_describe(known)}"
        for number, known in enumerate(candidates, start=1)
    )
    text = f"{lead} Which filter do you mean?\n{listing}".strip()
    options = tuple(known.filter_text for known in candidates[:MAX_FILTER_OPTIONS])
    return Reply(text=text, type=say.TYPE_CLARIFY, options=options)


def _change_detail_question(target: KnownFilter) -> Reply:
    text = (
        f"What should change? Right now you have {say.known_filter_describe(target)}. "
        "I can change how strongly it filters, how long it lasts, or text versus images."
    )
    return Reply(text=text, type=say.TYPE_CLARIFY, options=CHANGE_DETAIL_OPTIONS)


def _pending_target(state: ConversationState, filters: list[KnownFilter]) -> KnownFilter | None:
    if state.pending is None or not state.pending.filter_ids:
        return None
    return next((k for k in filters if k.id == state.pending.filter_ids[0]), None)


def _nothing_to_touch(state: ConversationState, verb: str) -> Turn:
    text = (
        f"You don't have any filters yet, so there's nothing to {verb}. What would you like "
        "to filter?"
    )
    return Turn(
        reply=Reply(text=text, type=say.TYPE_INITIAL),
        state=ConversationState(transcript=state.transcript),
    )


def _finished(text: str) -> Turn:
    reply = Reply(text=text, type=say.TYPE_COMPLETE, options=say.AFTER_ACTION_OPTIONS)
    return Turn(reply=reply, state=ConversationState())
