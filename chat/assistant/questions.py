"""The embedded assistant's wording: its questions and the proposal of a finished filter."""

from __future__ import annotations

from chat.assistant import replies as say
from chat.assistant.replies import Reply
from chat.assistant.state import Draft
from chat.assistant.topics import MAX_TOPIC_WORDS

GREETING = (
    "Hi! Tell me what you'd rather not see in your feed, in your own words: a topic, a "
    'person, a show you haven\'t caught up on. For example "hide spiders" or "no spoilers '
    'for Severance".'
)
EXAMPLE_OPTIONS = ("Hide spiders", "No spoilers for a show")
NOT_UNDERSTOOD = (
    "Sorry, I didn't understand that. What would you like me to filter? Name it in a few "
    'words, for example "spiders", "election news" or "spoilers for Severance".'
)
# Said about oneself without a topic ("I'm having a rough week"): ask gently, once.
PERSONAL_UNCLEAR = (
    "I'm sorry it's hard right now. Is there something you'd rather not see in your feed while "
    'it is? Name it in a few words, for example "hospitals", "breakups" or "bad news".'
)
TOO_LONG = (
    "That's more than a filter can hold. What is the topic in a few words (at most "
    f'{MAX_TOPIC_WORDS})? For example "car accidents" rather than a whole sentence.'
)

_INTENSITY_LABELS = ((say.OPTION_BLUR, 2), (say.OPTION_WARN, 3), (say.OPTION_REMOVE, 5))


def topic_question(draft: Draft) -> Reply:
    if draft.spoiler:
        text = "Spoilers for what? Tell me the show, film, book or game."
        return Reply(text=text, type=say.TYPE_CLARIFY)
    text = 'What would you like me to filter? Name it in a few words, like "spiders".'
    return Reply(text=text, type=say.TYPE_CLARIFY, options=EXAMPLE_OPTIONS)


def intensity_question(draft: Draft) -> Reply:
    text = (
        f'How should I handle posts about "{draft.filter_text}"? I can blur the words, cover '
        "the post with a warning you can click through, or remove the passages completely."
    )
    if draft.reading:
        text = f"{draft.reading} {text}"
    return Reply(text=text, type=say.TYPE_CLARIFY, options=say.INTENSITY_OPTIONS)


def duration_question(draft: Draft) -> Reply:
    text = (
        f'How long should the "{draft.filter_text}" filter last? I can keep it for a day, a '
        "week, a month, or until you remove it."
    )
    return Reply(text=text, type=say.TYPE_CLARIFY, options=say.DURATION_OPTIONS)


def adjustment_question(draft: Draft) -> Reply:
    text = (
        f'What should I change about "{draft.filter_text}": how strongly it filters, '
        "how long it lasts, or text versus images?"
    )
    options = say.INTENSITY_OPTIONS + ("For a week", "Images only", "Text only")
    return Reply(text=text, type=say.TYPE_CLARIFY, options=options)


def ready_reply(draft: Draft, *, lead: str = "") -> Reply:
    """The finished filter for the client's confirmation card (type ready_for_config)."""
    data = say.FilterData(
        filter_text=draft.filter_text,
        content_type=draft.content_type or "all",
        intensity=draft.intensity or 3,
        duration=draft.duration or "permanent",
        context=draft.context,
    )
    settings = say.settings_describe(
        intensity=data.intensity, duration=data.duration, content_type=data.content_type
    )
    text = lead or (
        f'Here is your filter: "{data.filter_text}". I\'ll {settings}. Check it below and '
        "save it, or tell me what to change."
    )
    if draft.note and not lead:
        text = f"{text} {draft.note}"
    if draft.reading and not lead:
        text = f"{draft.reading} {text}"
    options = tuple(label for label, level in _INTENSITY_LABELS if level != data.intensity)
    return Reply(text=text, type=say.TYPE_READY, options=options, filter_data=data)
