"""The embedded assistant's understanding of single messages (chat/assistant/rules.py)."""

from __future__ import annotations

import pytest

from chat.assistant import rules, topics
from chat.assistant.rules import message_understand

# (message, topic, intensity, duration, content_type): None means "not said, not implied".
CREATE_PHRASINGS = [
    ("I never want to see anything about spiders", "spiders", 5, "permanent", None),
    ("hide spiders", "spiders", 3, None, None),
    ("block posts about crypto", "crypto", 5, None, None),
    ("don't show me anything about politics", "politics", 5, None, None),
    (
        "I'm triggered by videos of people getting hurt in car accidents",
        "people getting hurt in car accidents",
        3,
        None,
        None,
    ),
    ("avoid election news for a week", "election news", 3, "week", None),
    ("warn me about snakes", "snakes", 3, None, None),
    ("just blur gore", "gore", 2, None, None),
    ("remove completely anything about my ex", "my ex", 5, None, None),
    ("please hide pictures of clowns today only", "clowns", 3, "day", "image"),
    ("I'm scared of needles", "needles", 3, None, None),
    ("spiders", "spiders", None, None, None),
    ("can you filter out football for 3 days", "football", None, "week", None),
    ("mute Elon Musk for a month", "Elon Musk", 4, "month", None),
    ("I'm sick of seeing crypto", "crypto", None, None, None),
    ("I'd rather not read about diets", "diets", 4, None, None),
    ("keep politics out of my feed", "politics", 4, None, None),
    ("trigger warning for self harm", "self harm", 3, None, None),
    ("I don't want to see images of spiders", "spiders", 4, None, "image"),
    ("blur the words about weight loss", "weight loss", 2, None, None),
    ("blur blood and gore lightly", "blood and gore", 1, None, None),
    ("hide spider pics", "spider", 3, None, "image"),
    ("get rid of clown posts", "clown", 5, None, None),
    ("I have a phobia of birds", "birds", 3, None, None),
    (
        "hey, could you please block anything related to cryptocurrency?",
        "cryptocurrency",
        5,
        None,
        None,
    ),
    (
        "I don't want to see posts about pregnancy announcements",
        "pregnancy announcements",
        4,
        None,
        None,
    ),
    ("rewrite posts about diet culture", "diet culture", 4, None, None),
    ("no politics please", "politics", 4, None, None),
    ("create a filter for snakes", "snakes", None, None, None),
    ("hide clowns forever", "clowns", 3, "permanent", None),
    ("intensity 1 spiders", "spiders", 1, None, None),
    ("Only text: hide mentions of my ex for 24 hours", "my ex", 3, "day", "text"),
    ("Hide wasps, give me a heads up first", "wasps", 3, None, None),
    ("I'm grieving, please hide posts about dogs", "dogs", 3, None, None),
    ("Clowns, hide them please", "Clowns", 3, None, None),
    ("spiders trigger me", "spiders", 3, None, None),
    ("I want to see less politics", "politics", None, None, None),
    ("Can you make sure I don't see anything about dieting", "dieting", 4, None, None),
    ("I'm not ready to see baby announcements", "baby announcements", 3, None, None),
    ("Please stop showing me posts about the election", "election", 5, None, None),
]


@pytest.mark.parametrize(
    ("message", "topic", "intensity", "duration", "content_type"), CREATE_PHRASINGS
)
def test_a_request_to_filter_gives_its_topic_and_implied_settings(
    message: str,
    topic: str,
    intensity: int | None,
    duration: str | None,
    content_type: str | None,
) -> None:
    understanding = message_understand(message)

    assert understanding.intent == rules.INTENT_CREATE
    assert understanding.topic == topic
    assert understanding.settings.intensity == intensity
    assert understanding.settings.duration == duration
    assert understanding.settings.content_type == content_type


SPOILER_PHRASINGS = [
    ("no spoilers for Severance please", "Severance", 3, None),
    ("Severance spoilers", "Severance", 3, None),
    ("don't spoil The Last of Us for me", "The Last of Us", 3, None),
    ("block Severance spoilers for a month", "Severance", 5, "month"),
    ("I never want to see spoilers for Dune", "Dune", 5, "permanent"),
]


@pytest.mark.parametrize(("message", "subject", "intensity", "duration"), SPOILER_PHRASINGS)
def test_spoiler_requests_name_the_work_and_keep_its_capitals(
    message: str, subject: str, intensity: int, duration: str | None
) -> None:
    understanding = message_understand(message)

    assert understanding.spoiler
    assert understanding.topic == f"{subject} spoilers"
    assert understanding.spoiler_subject == subject
    assert understanding.settings.intensity == intensity
    assert understanding.settings.duration == duration


def test_until_i_catch_up_is_a_duration_the_assistant_must_ask_about() -> None:
    understanding = message_understand("hide spoilers about House of the Dragon until I catch up")

    assert understanding.topic == "House of the Dragon spoilers"
    assert understanding.settings.duration is None
    assert understanding.settings.duration_unclear


def test_spoilers_without_a_named_work_have_no_topic() -> None:
    understanding = message_understand("no spoilers")

    assert understanding.spoiler
    assert understanding.topic == ""


@pytest.mark.parametrize(
    ("message", "intent"),
    [
        ("Yes, show my filters", rules.INTENT_LIST),
        ("what filters do I have?", rules.INTENT_LIST),
        ("I'm done", rules.INTENT_DONE),
        ("Add another filter", rules.INTENT_ADD_ANOTHER),
        ("Try again", rules.INTENT_TRY_AGAIN),
        ("No, something else", rules.INTENT_SOMETHING_ELSE),
        ("yes, remove it", rules.INTENT_YES),
        ("No, keep it", rules.INTENT_NO),
        ("hello", rules.INTENT_GREETING),
        ("   ", rules.INTENT_EMPTY),
    ],
)
def test_commands_and_option_labels_are_recognised(message: str, intent: str) -> None:
    assert message_understand(message).intent == intent


@pytest.mark.parametrize(
    ("message", "topic"),
    [
        ("remove my spiders filter", "spiders"),
        ("delete the filter for spiders", "spiders"),
        ("stop hiding spiders", "spiders"),
        ("I'm fine with spiders now", "spiders"),
        ("unblock dogs", "dogs"),
        ("show me cats again", "cats"),
        ("I don't mind snakes anymore", "snakes"),
    ],
)
def test_requests_to_stop_filtering_are_removals_not_new_filters(message: str, topic: str) -> None:
    understanding = message_understand(message)

    assert understanding.intent == rules.INTENT_REMOVE
    assert understanding.topic == topic


def test_remove_completely_is_an_intensity_but_remove_my_filter_is_a_removal() -> None:
    assert message_understand("Remove completely").settings.intensity == 5
    assert message_understand("Remove completely").intent == rules.INTENT_SETTINGS
    assert message_understand("remove my crypto filter").intent == rules.INTENT_REMOVE


def test_delete_all_my_filters_names_every_filter() -> None:
    understanding = message_understand("delete all my filters")

    assert understanding.intent == rules.INTENT_REMOVE
    assert understanding.everything


@pytest.mark.parametrize(
    ("message", "topic", "intensity", "shift", "duration"),
    [
        ("change my spiders filter to just blur", "spiders", 2, 0, None),
        ("make the spiders filter weaker", "spiders", None, -1, None),
        ("update spiders to a week", "spiders", None, 0, "week"),
    ],
)
def test_requests_to_change_a_filter_name_it_and_the_new_settings(
    message: str, topic: str, intensity: int | None, shift: int, duration: str | None
) -> None:
    understanding = message_understand(message)

    assert understanding.intent == rules.INTENT_CHANGE
    assert understanding.topic == topic
    assert understanding.settings.intensity == intensity
    assert understanding.settings.intensity_shift == shift
    assert understanding.settings.duration == duration


@pytest.mark.parametrize(
    ("message", "intensity", "duration", "content_type"),
    [
        ("Just blur it", 2, None, None),
        ("Warn me first", 3, None, None),
        ("Rewrite it", 4, None, None),
        ("Remove completely", 5, None, None),
        ("For a day", None, "day", None),
        ("For a week", None, "week", None),
        ("For a month", None, "month", None),
        ("Permanently", None, "permanent", None),
        ("make it a week", None, "week", None),
        ("ok for a month then", None, "month", None),
        ("Actually make it text only", None, None, "text"),
        ("Images only", None, None, "image"),
        ("level 4", 4, None, None),
    ],
)
def test_answers_that_only_carry_settings_are_understood_as_such(
    message: str, intensity: int | None, duration: str | None, content_type: str | None
) -> None:
    understanding = message_understand(message)

    assert understanding.intent == rules.INTENT_SETTINGS
    assert understanding.settings.intensity == intensity
    assert understanding.settings.duration == duration
    assert understanding.settings.content_type == content_type


@pytest.mark.parametrize(
    ("count", "unit", "duration", "rounded"),
    [
        ("24", "hours", "day", False),
        ("2", "days", "week", True),
        ("7", "days", "week", False),
        ("2", "weeks", "month", True),
        ("30", "days", "month", False),
        ("3", "months", "month", True),
    ],
)
def test_a_counted_duration_rounds_up_to_one_a_filter_can_have_and_says_so(
    count: str, unit: str, duration: str, rounded: bool
) -> None:
    settings = message_understand(f"hide wasps for {count} {unit}").settings

    assert settings.duration == duration
    assert bool(settings.duration_note) == rounded


@pytest.mark.parametrize(
    "message",
    [
        "asdfgh",
        "what's the weather?",
        "I like cats",
        "Why is the sky blue",
        "???",
    ],
)
def test_messages_naming_nothing_to_filter_are_not_understood(message: str) -> None:
    assert message_understand(message).intent == rules.INTENT_UNKNOWN


def test_a_whole_sentence_as_topic_is_flagged_too_long() -> None:
    understanding = message_understand(
        "please hide anything that has to do with the horrible things that happened in my "
        "hometown last summer"
    )

    assert understanding.intent == rules.INTENT_UNKNOWN
    assert understanding.too_long


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("spiders", "Spider", True),
        ("Severance spoilers", "spoilers for severance", True),
        ("puppies", "puppy", True),
        ("spiders", "spider pictures", False),
        ("crypto", "cryptocurrency", False),
    ],
)
def test_topic_keys_ignore_case_plurals_and_word_order(
    first: str, second: str, same: bool
) -> None:
    assert (topics.topic_key(first) == topics.topic_key(second)) is same
