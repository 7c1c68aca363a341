"""The general readings behind implied topics, other languages, emoji and typos
(chat/assistant/implied.py over lexicon.py), on words that are in neither first-message table."""

from __future__ import annotations

import pytest

from chat.assistant import implied, rules
from chat.assistant import replies as say
from chat.assistant.embedded import EmbeddedAssistant
from chat.assistant.rules import message_understand
from chat.assistant.state import ConversationState


@pytest.mark.parametrize(
    ("word", "topic"),
    [
        ("ichthyophobia", "fish"),
        ("astraphobia", "thunderstorms"),
        ("scoleciphobia", "worms"),
        ("mysophobic", "germs"),
        ("batrachophobia", "frogs"),
        ("apiphobia", "bees"),
        ("trypanophobic", "needles"),  # the longest root wins over "tryp"
        ("trypophobic", "clusters of holes"),
        ("Haematophobia", "blood"),
        ("arachnaphobe", "spiders"),  # the common misspelling keeps the root
    ],
)
def test_a_phobia_is_read_from_the_root_of_its_name(word: str, topic: str) -> None:
    assert implied.phobia_topic(f"I think I have {word}") == topic


def test_an_unknown_phobia_root_implies_nothing() -> None:
    assert implied.phobia_topic("zzyzxphobia") == ""


@pytest.mark.parametrize(
    ("message", "topic"),
    [
        ("my parrot passed away on Sunday", "pet loss"),
        ("our old tabby cat was put to sleep", "pet loss"),
        ("my uncle died in the summer", "death"),
        ("clean off meth for 3 months now", "meth"),
        ("I'm addicted to gambling", "gambling"),
        ("recovering from bulimia", "eating disorders"),
        ("I was diagnosed with breast cancer", "breast cancer"),
        ("we are doing IVF", "pregnancy and babies"),
        ("I gave up the booze", "alcohol"),
        ("made redundant at work", "layoffs"),
    ],
)
def test_a_situation_implies_its_topic(message: str, topic: str) -> None:
    understanding = message_understand(message)

    assert understanding.intent == rules.INTENT_CREATE
    assert understanding.topic == topic
    assert topic in understanding.reading


def test_a_named_topic_wins_over_the_situation() -> None:
    assert message_understand("my dog died, please hide posts about vets").topic == "vets"
    assert message_understand("miscarriage").topic == "miscarriage"


def test_how_long_someone_has_been_sober_is_no_filter_duration() -> None:
    understanding = message_understand("I've been clean from cocaine for a year")

    assert understanding.topic == "cocaine"
    assert understanding.settings.duration is None


@pytest.mark.parametrize(
    "message",
    ["what is ophidiophobia?", "I like cats", "hi there, I need help", "I love football"],
)
def test_no_filter_is_read_into_messages_that_ask_for_none(message: str) -> None:
    assert message_understand(message).intent == rules.INTENT_UNKNOWN


@pytest.mark.parametrize(
    ("message", "topic"),
    [
        ("我不想看到小丑", "clowns"),
        ("ピエロの動画は見たくない", "clowns"),
        ("no quiero ver nada sobre la guerra", "war"),
        ("je ne veux plus voir de chiens", "dogs"),
        ("ich möchte keine Nachrichten über Krieg sehen", "war"),
        ("não quero ver nada sobre gatos", "cats"),
        ("no quiero ver nada sobre Shakira", "Shakira"),  # a name stays as written
    ],
)
def test_requests_in_other_languages_give_the_english_topic(message: str, topic: str) -> None:
    understanding = message_understand(message)

    assert understanding.intent == rules.INTENT_CREATE
    assert understanding.topic == topic


def test_folding_ignores_accents_and_sharp_s_but_keeps_kana_voicing() -> None:
    assert implied.fold("Fútbol") == implied.fold("futbol")
    assert implied.fold("Fußball") == "fussball"
    assert implied.fold("ヘビ") != implied.fold("ヘヒ")


def test_english_words_that_look_like_french_verbs_stay_english() -> None:
    assert message_understand("hide the cache").topic == "cache"


def test_emoji_naming_a_topic_become_it_and_decoration_goes() -> None:
    assert implied.emoji_read("no \U0001f988\U0001f988 \U0001f64f") == "no sharks"
    assert implied.emoji_read("\U0001f37a no alcohol please") == "no alcohol please"


@pytest.mark.parametrize(
    ("typed", "known", "vowel_swaps", "slip"),
    [
        ("wnat", "want", False, True),  # swapped neighbours
        ("hidee", "hide", False, True),  # a doubled letter
        ("seing", "seeing", False, True),  # a double letter typed once
        ("plese", "please", False, True),  # a dropped vowel
        ("blok", "block", False, True),  # "ck" typed "k"
        ("showin", "showing", False, True),
        ("anyting", "anything", False, True),  # a dropped letter in a long word
        ("polotics", "politics", True, True),  # a vowel for another
        ("black", "block", True, False),  # a real word, too short for vowel swaps
        ("crushes", "crashes", True, False),  # "u" is not confused like the others
        ("went", "want", False, False),
        ("spot", "stop", False, False),
    ],
)
def test_the_typo_model_accepts_only_the_slips_people_make(
    typed: str, known: str, vowel_swaps: bool, slip: bool
) -> None:
    assert implied.is_typo_of(typed, known, vowel_swaps=vowel_swaps) is slip


def test_typos_are_corrected_but_names_are_left_alone() -> None:
    assert message_understand("Hidee spiders").topic == "spiders"
    assert message_understand("Moore spoilers").topic == "Moore spoilers"
    assert message_understand("hide celebrity crushes").topic == "celebrity crushes"
    assert message_understand("block violance").topic == "violence"


def test_the_implied_reading_is_said_once_and_can_be_corrected() -> None:
    assistant = EmbeddedAssistant()
    first = assistant.respond(state=ConversationState(), message="I'm musophobic", filters=[])
    second = assistant.respond(state=first.state, message="no, I meant hamsters", filters=[])
    third = assistant.respond(state=second.state, message="Warn me first", filters=[])

    assert first.reply.type == say.TYPE_CLARIFY
    assert 'I understood that as "mice"' in first.reply.text
    assert "understood" not in second.reply.text
    assert third.reply.filter_data is not None
    assert third.reply.filter_data.filter_text == "hamsters"


@pytest.mark.parametrize("message", ["\u8bf7" * 300, "phob" * 200, "hide " + "banana" * 30])
def test_a_single_word_of_hundreds_of_characters_is_no_topic(message: str) -> None:
    assert message_understand(message).topic == ""


def test_a_hard_time_without_a_topic_gets_one_gentle_question() -> None:
    assistant = EmbeddedAssistant()
    first = assistant.respond(
        state=ConversationState(), message="I'm having a rough week", filters=[]
    )
    plain = assistant.respond(state=ConversationState(), message="I like cats", filters=[])

    assert first.reply.type == say.TYPE_CLARIFY
    assert first.reply.text.startswith("I'm sorry it's hard right now.")
    assert first.reply.text.count("?") == 1
    assert "didn't understand" in plain.reply.text


@pytest.mark.parametrize(
    ("message", "topic"),
    [
        ("please stop with the crypto", "crypto"),
        ("I need a break from politics", "politics"),
        ("could you maybe not show me anything to do with pregnancy", "pregnancy"),
        ("i get panic attacks from seeing car accidents", "car accidents"),
        ("my son is in the hospital, no medical stuff please", "medical"),
        ("I'm a Jets fan, so no Patriots content", "Patriots"),
        ("spiders = no", "spiders"),
        ("clowns are terrifying", "clowns"),
        ("snakes give me nightmares", "snakes"),
        ("keine Werbung bitte", "ads"),
        ("je déteste les araignées", "spiders"),
    ],
)
def test_phrasings_beyond_the_tables_give_their_topic(message: str, topic: str) -> None:
    understanding = message_understand(message)

    assert understanding.intent == rules.INTENT_CREATE
    assert understanding.topic == topic
