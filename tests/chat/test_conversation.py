"""Multi-turn conversations with the embedded assistant, without Django
(chat/assistant/conversation.py and existing.py)."""

from __future__ import annotations

from chat.assistant import replies as say
from chat.assistant.base import ChatImage
from chat.assistant.embedded import EmbeddedAssistant
from chat.assistant.replies import Turn
from chat.assistant.state import (
    ConversationState,
    KnownFilter,
    PendingAction,
    state_from_dict,
    state_to_dict,
)

SPIDERS = KnownFilter(
    id=11, filter_text="spiders", content_type="all", intensity=2, duration="permanent"
)
SEVERANCE = KnownFilter(
    id=12, filter_text="Severance spoilers", content_type="all", intensity=3, duration="week"
)
CRYPTO = KnownFilter(
    id=13, filter_text="crypto", content_type="text", intensity=5, duration="permanent"
)


def talk(messages: list[str], filters: list[KnownFilter] | None = None) -> list[Turn]:
    """Send each message in turn, carrying the state through a dict as the cache would."""
    assistant = EmbeddedAssistant()
    state = ConversationState()
    turns = []
    for message in messages:
        turn = assistant.respond(state=state, message=message, filters=filters or [])
        turns.append(turn)
        state = state_from_dict(state_to_dict(turn.state))
    return turns


def test_never_want_to_see_spiders_is_ready_in_one_turn() -> None:
    [turn] = talk(["I never want to see anything about spiders"])

    assert turn.reply.type == say.TYPE_READY
    assert turn.reply.filter_data is not None
    assert turn.reply.filter_data.as_json() == {
        "filter_text": "spiders",
        "content_type": "all",
        "intensity": 5,
        "duration": "permanent",
    }


def test_no_spoilers_for_severance_is_ready_in_one_turn_with_context() -> None:
    [turn] = talk(["no spoilers for Severance please"])

    assert turn.reply.type == say.TYPE_READY
    data = turn.reply.filter_data
    assert data is not None
    assert (data.filter_text, data.intensity, data.duration) == (
        "Severance spoilers",
        3,
        "permanent",
    )
    assert "Severance" in data.context


def test_a_bare_topic_gets_one_question_about_intensity_then_is_ready() -> None:
    first, second = talk(["clowns", "Warn me first"])

    assert first.reply.type == say.TYPE_CLARIFY
    assert first.reply.options == say.INTENSITY_OPTIONS
    assert second.reply.type == say.TYPE_READY
    assert second.reply.filter_data is not None
    assert second.reply.filter_data.intensity == 3
    assert second.reply.filter_data.filter_text == "clowns"


def test_every_quick_answer_offered_for_intensity_is_understood() -> None:
    for label, intensity in [
        (say.OPTION_BLUR, 2),
        (say.OPTION_WARN, 3),
        (say.OPTION_REWRITE, 4),
        (say.OPTION_REMOVE, 5),
    ]:
        _, answer = talk(["clowns", label])

        assert answer.reply.filter_data is not None
        assert answer.reply.filter_data.intensity == intensity


def test_settings_said_after_the_proposal_amend_the_same_filter() -> None:
    turns = talk(["hide clowns", "for a week", "actually make it images only", "just blur"])

    data = [turn.reply.filter_data for turn in turns]
    assert all(turn.reply.type == say.TYPE_READY for turn in turns)
    assert data[-1] is not None
    assert data[-1].as_json() == {
        "filter_text": "clowns",
        "content_type": "image",
        "intensity": 2,
        "duration": "week",
    }


def test_spoilers_without_a_title_ask_for_it_and_keep_the_title_as_written() -> None:
    first, second = talk(["no spoilers", "The Bear"])

    assert first.reply.type == say.TYPE_CLARIFY
    assert "Spoilers for what" in first.reply.text
    assert second.reply.filter_data is not None
    assert second.reply.filter_data.filter_text == "The Bear spoilers"


def test_until_i_catch_up_asks_how_long_with_quick_answers() -> None:
    first, second = talk(
        ["hide spoilers about House of the Dragon until I catch up", "For a month"]
    )

    assert first.reply.type == say.TYPE_CLARIFY
    assert first.reply.options == say.DURATION_OPTIONS
    assert second.reply.filter_data is not None
    assert second.reply.filter_data.duration == "month"


def test_a_vague_request_asks_what_to_filter_then_uses_the_answer() -> None:
    first, second = talk(["hide stuff", "gore"])

    assert first.reply.type == say.TYPE_CLARIFY
    assert second.reply.type == say.TYPE_READY
    assert second.reply.filter_data is not None
    assert (second.reply.filter_data.filter_text, second.reply.filter_data.intensity) == (
        "gore",
        3,
    )


def test_gibberish_is_answered_honestly_with_a_concrete_question() -> None:
    [turn] = talk(["asdfgh"])

    assert turn.reply.type == say.TYPE_CLARIFY
    assert "didn't understand" in turn.reply.text
    assert "?" in turn.reply.text
    assert turn.reply.filter_data is None


def test_a_nonsense_answer_to_a_question_repeats_the_question() -> None:
    _, second = talk(["clowns", "qwerty"])

    assert second.reply.type == say.TYPE_CLARIFY
    assert "didn't catch" in second.reply.text
    assert second.reply.options == say.INTENSITY_OPTIONS


def test_a_new_request_while_a_question_waits_starts_a_new_draft() -> None:
    _, second = talk(["clowns", "block posts about crypto"])

    assert second.reply.filter_data is not None
    assert second.reply.filter_data.filter_text == "crypto"


def test_special_option_labels_reset_or_finish_the_conversation() -> None:
    turns = talk(["clowns", "Try again", "hide wasps", "Add another filter", "I'm done"])

    assert turns[1].reply.type == say.TYPE_INITIAL
    assert turns[1].state.draft.filter_text == ""
    assert turns[2].reply.filter_data is not None
    assert turns[3].reply.type == say.TYPE_INITIAL
    assert turns[4].reply.type == say.TYPE_COMPLETE


def test_show_my_filters_lists_them_and_keeps_a_draft_in_progress() -> None:
    _, listing, answer = talk(
        ["clowns", "Yes, show my filters", "just blur"], [SPIDERS, SEVERANCE]
    )

    assert '"spiders"' in listing.reply.text
    assert '"Severance spoilers"' in listing.reply.text
    assert listing.reply.type == say.TYPE_CLARIFY  # still asking about clowns
    assert answer.reply.filter_data is not None
    assert answer.reply.filter_data.filter_text == "clowns"


def test_show_my_filters_without_filters_says_there_are_none() -> None:
    [turn] = talk(["Yes, show my filters"])

    assert "don't have any" in turn.reply.text


def test_a_duplicate_with_the_same_settings_is_pointed_out_not_proposed_again() -> None:
    [turn] = talk(["blur spiders"], [SPIDERS])

    assert turn.reply.type == say.TYPE_CLARIFY
    assert turn.reply.filter_data is None
    assert "already have" in turn.reply.text
    assert turn.actions == []


def test_a_duplicate_with_other_settings_offers_to_change_the_existing_filter() -> None:
    first, second = talk(["I never want to see spider posts", "Yes, change it"], [SPIDERS])

    assert "already have" in first.reply.text
    assert first.reply.options == say.CONFIRM_CHANGE_OPTIONS
    assert second.reply.type == say.TYPE_COMPLETE
    assert second.actions == [PendingAction(kind="change", filter_ids=[SPIDERS.id], intensity=5)]


def test_removal_is_only_done_after_the_user_confirms() -> None:
    first, second = talk(["remove my spiders filter", "yes, remove it"], [SPIDERS, CRYPTO])

    assert first.reply.options == say.CONFIRM_REMOVE_OPTIONS
    assert '"spiders"' in first.reply.text
    assert first.actions == []
    assert second.actions == [PendingAction(kind="remove", filter_ids=[SPIDERS.id])]
    assert second.reply.options == say.AFTER_ACTION_OPTIONS


def test_declining_a_removal_changes_nothing() -> None:
    _, second = talk(["stop hiding spiders", "No, keep it"], [SPIDERS])

    assert second.actions == []
    assert second.reply.type == say.TYPE_COMPLETE


def test_removing_an_unknown_filter_asks_which_one_and_accepts_its_number() -> None:
    first, second, third = talk(
        ["delete the filter for cats", "2", "yes"], [SPIDERS, SEVERANCE, CRYPTO]
    )

    assert 'couldn\'t find a filter for "cats"' in first.reply.text
    assert first.reply.options == ("spiders", "Severance spoilers", "crypto")
    assert '"Severance spoilers"' in second.reply.text
    assert third.actions == [PendingAction(kind="remove", filter_ids=[SEVERANCE.id])]


def test_a_change_request_states_before_and_after_and_waits_for_yes() -> None:
    first, second = talk(["change crypto to just blur", "yes"], [SPIDERS, CRYPTO])

    assert "remove the matching passages completely" in first.reply.text
    assert "blur the matching words" in first.reply.text
    assert second.actions == [PendingAction(kind="change", filter_ids=[CRYPTO.id], intensity=2)]


def test_make_it_stronger_moves_one_intensity_step() -> None:
    _, second = talk(["make the spiders filter stronger", "yes"], [SPIDERS])

    assert second.actions == [
        PendingAction(kind="change", filter_ids=[SPIDERS.id], intensity=SPIDERS.intensity + 1)
    ]


def test_a_change_without_details_asks_what_to_change() -> None:
    first, second, third = talk(["edit the crypto filter", "for a week", "yes"], [CRYPTO])

    assert "What should change" in first.reply.text
    assert second.reply.options == say.CONFIRM_CHANGE_OPTIONS
    assert third.actions == [PendingAction(kind="change", filter_ids=[CRYPTO.id], duration="week")]


def test_delete_all_my_filters_lists_them_all_before_confirming() -> None:
    first, second = talk(["delete all my filters", "yes"], [SPIDERS, CRYPTO])

    assert "all 2 of your filters" in first.reply.text
    assert second.actions == [PendingAction(kind="remove", filter_ids=[SPIDERS.id, CRYPTO.id])]


def test_a_confirmation_for_a_filter_deleted_meanwhile_does_nothing() -> None:
    assistant = EmbeddedAssistant()
    first = assistant.respond(
        state=ConversationState(), message="remove my spiders filter", filters=[SPIDERS]
    )
    second = assistant.respond(state=first.state, message="yes", filters=[])

    assert second.actions == []
    assert "already gone" in second.reply.text


def test_removing_without_any_filters_says_so() -> None:
    [turn] = talk(["remove my spiders filter"])

    assert turn.reply.type == say.TYPE_INITIAL
    assert "don't have any filters" in turn.reply.text


def test_an_image_without_a_vision_model_is_answered_honestly_with_its_facts() -> None:
    image = ChatImage(
        content=b"x" * 2048, format="PNG", mime_type="image/png", width=640, height=480
    )
    assistant = EmbeddedAssistant()
    first = assistant.respond(state=ConversationState(), message="", filters=[], image=image)
    second = assistant.respond(state=first.state, message="spiders", filters=[])
    third = assistant.respond(state=second.state, message="Remove completely", filters=[])

    assert first.reply.type == say.TYPE_CLARIFY
    assert "can't look inside images" in first.reply.text
    assert "640\u00d7480 PNG" in first.reply.text
    assert third.reply.filter_data is not None
    assert third.reply.filter_data.as_json() == {
        "filter_text": "spiders",
        "content_type": "image",
        "intensity": 5,
        "duration": "permanent",
    }


def test_an_image_with_a_request_in_the_message_goes_straight_to_the_filter() -> None:
    image = ChatImage(content=b"x", format="JPEG", mime_type="image/jpeg", width=1, height=1)
    turn = EmbeddedAssistant().respond(
        state=ConversationState(),
        message="block pictures like this of clowns",
        filters=[],
        image=image,
    )

    assert turn.reply.filter_data is not None
    assert turn.reply.filter_data.filter_text == "clowns"
    assert turn.reply.filter_data.content_type == "image"


def test_the_assistant_never_changes_the_state_it_was_given() -> None:
    state = ConversationState()
    EmbeddedAssistant().respond(state=state, message="clowns", filters=[])

    assert state == ConversationState()


def test_a_malformed_cached_state_gives_a_fresh_conversation() -> None:
    for cached in (
        {"draft": {"intensity": "x"}},
        {"draft": {"duration": "forever"}},
        {"pending": 5},
        {"transcript": [{"role": "user"}]},
        "garbage",
        None,
    ):
        assert state_from_dict(cached) == ConversationState()


def test_a_state_survives_the_round_trip_through_the_cache() -> None:
    [turn] = talk(["remove my spiders filter"], [SPIDERS])

    assert state_from_dict(state_to_dict(turn.state)) == turn.state


def test_a_rounded_duration_is_said_once_with_the_proposal() -> None:
    first, second = talk(["hide wasps for 2 days", "just blur"])

    assert first.reply.filter_data is not None
    assert first.reply.filter_data.duration == "week"
    assert "I picked a week for 2 days" in first.reply.text
    assert "picked" not in second.reply.text


def test_after_the_images_filter_a_new_request_is_no_longer_about_images() -> None:
    image = ChatImage(content=b"x", format="PNG", mime_type="image/png", width=1, height=1)
    assistant = EmbeddedAssistant()
    first = assistant.respond(
        state=ConversationState(), message="block spiders", filters=[], image=image
    )
    second = assistant.respond(state=first.state, message="block crypto", filters=[])

    assert first.reply.filter_data is not None
    assert first.reply.filter_data.content_type == "image"
    assert second.reply.filter_data is not None
    assert second.reply.filter_data.content_type == "all"
