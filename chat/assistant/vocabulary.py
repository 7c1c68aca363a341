"""The phrasings the embedded assistant understands, as data. rules.py reads them in order:
the first pattern of a list that matches wins, so longer and more specific phrasings come first.

Intensities follow CONTRACT.md section 4: 1-2 blur, 3 warning overlay, 4-5 rewrite/remove.
"""

from __future__ import annotations

import re
from typing import TypeVar

FLAGS = re.IGNORECASE
Value = TypeVar("Value")


def _compile(patterns: list[tuple[str, Value]]) -> list[tuple[re.Pattern[str], Value]]:
    return [(re.compile(pattern, FLAGS), value) for pattern, value in patterns]


# Whole-message commands, compared after lower-casing and dropping punctuation.
LIST_COMMANDS = {
    "yes show my filters",
    "show my filters",
    "show filters",
    "list my filters",
    "my filters",
    "show me my filters",
    "what filters do i have",
    "which filters do i have",
    "list filters",
    "what are my filters",
    "see my filters",
    "view my filters",
    "show all my filters",
}
DONE_COMMANDS = {
    "im done",
    "i am done",
    "done",
    "thats all",
    "that is all",
    "thats it",
    "nothing else",
    "no thanks",
    "no thank you",
    "all done",
    "finished",
    "bye",
    "goodbye",
    "all set",
    "im finished",
    "i am finished",
    "thats all thanks",
    "im good",
    "i'm good",
}
ADD_ANOTHER_COMMANDS = {
    "add another filter",
    "add another",
    "another filter",
    "another one",
    "one more",
    "new filter",
    "add a new filter",
    "another",
    "add more",
    "one more filter",
}
TRY_AGAIN_COMMANDS = {
    "try again",
    "start over",
    "restart",
    "reset",
    "start again",
    "lets start over",
    "never mind",
    "nevermind",
    "scratch that",
    "forget it",
    "begin again",
}
GREETING_COMMANDS = {
    "hi",
    "hello",
    "hey",
    "hiya",
    "hey there",
    "hi there",
    "hello there",
    "good morning",
    "good afternoon",
    "good evening",
    "yo",
    "help",
    "what can you do",
    "how does this work",
    "what do you do",
    "how do i use this",
    "start",
    "menu",
}
SOMETHING_ELSE_COMMANDS = {
    "no something else",
    "something else",
    "not now",
    "no something different",
}
YES_WORDS = {
    "yes",
    "yeah",
    "yep",
    "yup",
    "sure",
    "ok",
    "okay",
    "confirm",
    "do it",
    "go ahead",
    "please do",
    "correct",
    "right",
    "sounds good",
    "looks good",
    "perfect",
    "great",
    "yes please",
    "save",
    "save it",
    "thats right",
    "exactly",
    "agreed",
    "fine",
}
NO_WORDS = {
    "no",
    "nope",
    "nah",
    "no keep it",
    "keep it",
    "dont",
    "do not",
    "cancel",
    "no thanks",
    "no thank you",
    "leave it",
    "keep it as it is",
    "no leave it",
    "not really",
    "no way",
}

# Intensity said outright. The option labels of replies.py must all match here.
INTENSITY_PATTERNS = _compile(
    [
        (r"\b(?:intensity|level|strength)(?: of| to| at|:)? ?([1-5])\b", "number"),
        (r"\b([1-5]) ?(?:/|out of) ?5\b", "number"),
        (
            r"\b(?:lightly|slightly|gently|barely|softly) blur\w*(?: (?:it|them|out|the words?))?",
            1,
        ),
        (r"\bblur\w*(?: (?:it|them|out|the words?))? (?:a (?:little|bit)|slightly|lightly)", 1),
        (r"\b(?:rewrite|rewrit\w+|reword\w*|rephrase\w*|paraphrase\w*)(?: (?:it|them))?\b", 4),
        (r"\btone (?:it |them )?down\b", 4),
        (
            r"\b(?:remove|hide|block|delete|erase) (?:it |them )?(?:completely|entirely|fully|"
            r"altogether|totally)\b",
            5,
        ),
        (r"\b(?:completely|entirely|fully|totally) (?:remove|hide|block|erase|get rid of)\w*", 5),
        (r"\bget rid of (?:it|them)\b", 5),
        (r"\b(?:wipe|scrub)\w* (?:it |them )?out\b", 5),
        (r"\b(?:trigger|content) warnings?(?: for| about| on)?\b", 3),
        (r"\bwarn(?:ing)?(?: me)?(?: first| before(?:hand)?)?(?: about)?\b", 3),
        (r"\b(?:give me )?a heads[- ]up(?: first| before(?:hand)?)?(?: about| for| on)?\b", 3),
        (r"\b(?:behind|under|with) a (?:warning|card|cover)\b", 3),
        (r"\bclick to (?:reveal|see|show)\b|\blet me (?:choose|decide)(?: to see)?\b", 3),
        (r"\b(?:just |only |simply )?blur\w*(?: (?:it|them|out|the words?))?\b", 2),
        (r"\b(?:just |only )?(?:mask|soften|fuzz)\w*(?: (?:it|them|out|the words?))?\b", 2),
    ]
)
SOFTLY = re.compile(r"\b(?:lightly|slightly|gently|softly|a little|a bit)\b", FLAGS)
INTENSITY_SHIFT_PATTERNS = _compile(
    [
        (r"\b(?:stronger|stricter|more strict|harsher|more aggressive|tougher|harder)\b", 1),
        (
            r"\b(?:weaker|softer|gentler|less strict|lighter|milder|less aggressive|less harsh)\b",
            -1,
        ),
    ]
)

NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "a couple of": 2,
    "couple of": 2,
    "a couple": 2,
    "a few": 3,
    "few": 3,
    "several": 4,
}
UNIT_DAYS = {"hour": 1 / 24, "day": 1, "night": 1, "week": 7, "month": 30, "year": 365}
_NUMBER = (
    r"(?P<count>\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"a couple(?: of)?|couple of|a few|few|several)"
)
_UNIT = r"(?P<unit>hour|day|night|week|month|year)s?"
DURATION_PATTERNS = _compile(
    [
        (
            r"\buntil (?:i|i've|i have|i'm|i am) (?:finish\w*|catch(?:es)? up|caught up|watch\w*|"
            r"see|seen|read|get (?:to|around to|caught up)|done|through)\b[^,.!?]*",
            "unclear",
        ),
        (
            r"\b(?:for a (?:while|bit)|for some time|for now|temporarily|for the time being)\b",
            "unclear",
        ),
        (
            r"\b(?:forever|permanent(?:ly)?|always|for good|from now on|indefinitely|"
            r"(?:with )?no expiry|never expire\w*|for ever)\b",
            "permanent",
        ),
        (
            r"\b(?:today(?: only)?|for (?:the rest of )?(?:today|the day)|tonight|"
            r"until tomorrow|till tomorrow|(?:for )?24 ?h(?:ours?|rs?)?)\b",
            "day",
        ),
        (
            r"\b(?:this week(?:end)?|for the week(?:end)?|over the weekend|until next week|"
            r"till next week|for (?:the )?next week)\b",
            "week",
        ),
        (
            r"\b(?:this month|for the month|until next month|till next month|"
            r"for (?:the )?next month)\b",
            "month",
        ),
        (
            rf"\b(?:for|during|over|next|coming|to|until|till|it|just|only) (?:the )?"
            rf"(?:next |coming )?{_NUMBER} {_UNIT}\b",
            "count",
        ),
        (rf"^{_NUMBER} {_UNIT}$", "count"),
    ]
)

CONTENT_TYPE_PATTERNS = _compile(
    [
        (r"\b(?:only|just) (?:in |on )?(?:the )?(?:images?|pictures?|photos?|pics)\b", "image"),
        (r"\b(?:images?|pictures?|photos?|pics)(?: only| alone)\b", "image"),
        (r"\b(?:only|just) (?:in |on )?(?:the )?(?:text|words|writing)\b", "text"),
        (r"\btext(?: only| alone)\b", "text"),
        (
            r"\b(?:both|everywhere|text and (?:images?|pictures?|photos?)|"
            r"(?:images?|pictures?|photos?) and text)\b",
            "all",
        ),
        (
            r"\b(?:images?|pictures?|photos?|photographs?|pics|gifs?|memes?) (?:of|showing|with|"
            r"featuring|containing|depicting|about)\b",
            "image",
        ),
        (
            r"\b(?:headlines?|comments?|articles?|text|words?|mentions?) (?:about|on|of|like|"
            r"regarding|mentioning)\b",
            "text",
        ),
    ]
)

# Requests to stop filtering something (checked before anything that creates a filter).
REMOVE_PATTERNS = _compile(
    [
        (
            r"\b(?:remove|delete|drop|cancel|disable|turn off|switch off|get rid of|clear|undo|"
            r"deactivate)\b(?=.*\bfilters?\b)",
            True,
        ),
        (
            r"\b(?:stop|quit|no longer) (?:filtering|blocking|hiding|blurring|muting|censoring|"
            r"removing|rewriting|warning me about)\b",
            True,
        ),
        (r"\bun(?:block|hide|mute|filter|blur)\b", True),
        (r"\bi(?:'m| am) (?:ok|okay|fine|good|alright|all right) with\b", True),
        (r"\bi (?:don't|do not) mind\b", True),
        (r"\b(?:show me|let me see|i want to see|i'd like to see)\b(?=.*\bagain\b)", True),
    ]
)
# Requests to change an existing filter.
CHANGE_PATTERNS = _compile(
    [
        (r"\b(?:change|update|edit|modify|adjust|switch|alter|tweak)\b", True),
        (r"\b(?:make|set|turn)\b(?=.*\bfilters?\b)", True),
    ]
)
# Leftover words of remove/change requests that are not part of the filter's name.
REQUEST_LEFTOVERS = re.compile(
    r"\b(?:my|the|that|this|those|these|filters?|for|about|on|to|into|so (?:that )?it(?:'s| is)?|"
    r"so|it|please|now|anymore|any more|again|seeing|reading|them|make|set|turn|be|is|one|"
    r"instead|with)\b",
    FLAGS,
)

# Opening phrases of a request to filter something, with the intensity they imply
# (None: the phrase says nothing about how strongly, so the assistant asks).
CREATE_FILTER_LEAD = re.compile(
    r"\b(?:create|make|add|set up|setup|start|build|want|need)(?: me)?(?: a| an| another| one "
    r"more| new| a new)*(?: new)? filter(?: for| on| about| against| to (?:hide|block))?\b",
    FLAGS,
)
LEAD_PATTERNS: list[tuple[re.Pattern[str], tuple[int | None, str | None]]] = _compile(
    [
        (
            r"\bi (?:never|don't ever|do not ever|dont ever) (?:ever )?(?:want|wish|need) to "
            r"(?:see|read|hear)(?: anything)?(?: about)?",
            (5, "permanent"),
        ),
        (
            r"\b(?:i )?(?:don't|do not|dont) (?:ever )?(?:want|wish|need) to (?:see|read|hear)"
            r"(?: anything)?(?: about)?",
            (4, None),
        ),
        (
            r"\bi(?:'d| would) rather not (?:see|read|hear|have|get)(?: about)?|"
            r"\bi(?:'d| would)? prefer not to (?:see|read|hear|have|get)(?: about)?",
            (4, None),
        ),
        (
            r"\bno longer (?:want|wish|need|care) to (?:see|read|hear)(?: anything)?(?: about)?",
            (4, None),
        ),
        (
            r"\b(?:i )?(?:want to |would like to |'d like to )?(?:stop|quit) (?:seeing|reading|"
            r"hearing(?: about)?|getting|being shown)\b",
            (4, None),
        ),
        (
            r"\b(?:don't|do not|dont|never) let me (?:see|read|hear)(?: anything)?(?: about)?",
            (5, None),
        ),
        (
            r"\bstop (?:recommending|suggesting|giving|sending|pushing|feeding)(?: me)?\b",
            (5, None),
        ),
        (
            r"\bi want nothing to do with\b|\bnothing (?:connected|related|relating|linked) to\b|"
            r"\bnothing (?:to do with|about|on|regarding|involving|concerning)\b",
            (4, None),
        ),
        (
            r"\b(?:i'm |i am )?not (?:at all |really |even )?(?:interested in|into|keen on|"
            r"a (?:big )?fan of|fond of)\b|\b(?:anything|everything) (?:but|except)\b|"
            r"\b(?:no|zero|little) interest (?:in|for)\b",
            (None, None),
        ),
        (
            r"\b(?:don't|do not|dont|never) (?:put|include|add|push|recommend|suggest|post)\b|"
            r"\b(?:free of|free from|clear of)\b",
            (4, None),
        ),
        (
            r"\bi (?:can't|cannot|can not|don't want to) (?:deal|cope) with\b|"
            r"\bi (?:can't|cannot|can not) (?:handle|take|bear|stomach)\b",
            (3, None),
        ),
        (
            r"\b(?:i )?(?:couldn't|could not|don't|do not|dont) care (?:less )?about\b|"
            r"\bwho cares about\b",
            (None, None),
        ),
        (r"\b(?:can|could) (?:we|you|i) not (?:have|show|see|get)\b", (4, None)),
        (r"\b(?:never|don't|do not|dont|not|stop|quit) (?:ever )?show(?:ing)? me\b", (5, None)),
        (
            r"\bnever (?:want to |have to |again )?(?:see|read|hear)(?: another| any| anything)?"
            r"(?: about)?\b",
            (5, None),
        ),
        (
            r"\b(?:panic attacks?|anxiety|nightmares|flashbacks) (?:from|when|about|over|after)"
            r"(?: i see| seeing| reading(?: about)?| hearing(?: about)?)?\b",
            (3, None),
        ),
        (r"\b(?:need|want|take|taking|give me|have) a break from\b", (None, None)),
        (r"\b(?:stop|enough) with\b|\b(?:say )?(?:nope|no) to\b", (4, None)),
        (r"\s(?:=|->|\u2192)\s*(?:no|nope|never|hide|block)\b.*$", (4, None)),
        (r"\bi(?:'m| am| get)? (?:easily |really |very |so )?triggered by\b", (3, None)),
        (r"^(?:no,? )?i (?:meant|mean)\b", (None, None)),
        (
            # "clowns are terrifying", "snakes give me nightmares": the topic comes first.
            r"\b(?:is|are) (?:so |really |very |super |just |kind of |kinda |honestly )?"
            r"(?:terrifying|scary|creepy|gross|disgusting|triggering|upsetting|awful|horrible|"
            r"unbearable|nauseating|boring|annoying|exhausting|depressing|toxic|cringe|cringey|"
            r"the worst|too much|my (?:worst |biggest |greatest )?(?:fear|phobia|trigger|"
            r"nightmare))\b.*$|"
            r"\b(?:gives?|makes?) me (?:nightmares|anxiety|the creeps|panic attacks|sick|"
            r"anxious|uncomfortable|queasy)\b.*$|"
            r"\b(?:scares?|freaks?|creeps?|grosses?|upsets?|disgusts?|terrif(?:y|ies)) me\b.*$",
            (3, None),
        ),
        (
            r"\b(?:is|are) (?:a |really |very )?(?:big )?triggers? for me\b|\btriggers? me\b",
            (3, None),
        ),
        (
            r"\bi(?:'m| am)? (?:really |very |so )?(?:scared|afraid|terrified|frightened) of\b|"
            r"\bi have (?:a |an )?(?:phobia|fear) of\b|\bphobia of\b",
            (3, None),
        ),
        (r"\bprotect me from\b|\bspare me(?: from)?\b|\bshield me from\b", (3, None)),
        (r"\bi(?:'m| am) not ready (?:to see|to read about|for)\b", (3, None)),
        (r"\b(?:make sure )?i (?:don't|do not|never) (?:see|read about|hear about)\b", (4, None)),
        (r"\b(?:show me |see |i want |i'd like )?(?:less|fewer)(?: of)?\b", (None, None)),
        (
            r"\bi(?:'m| am) (?:so |really |totally |completely |just )?(?:sick|tired|bored|"
            r"fed up|over|done|finished|exhausted|annoyed)(?: of| with| by)?"
            r"(?: seeing| reading(?: about)?| hearing(?: about)?)?(?=\s|$)|"
            r"\b(?:sick|tired|bored) of(?: seeing| reading(?: about)?| hearing(?: about)?)?|"
            r"\ballergic to\b|"
            r"\bfed up (?:with|of)(?: seeing| reading(?: about)?| hearing(?: about)?)?|"
            r"\b(?:had|have had) enough of\b|"
            r"\bi (?:really )?(?:hate|can't stand|cannot stand|dislike|don't like|do not like)"
            r"(?: seeing| reading about)?\b|\benough (?:with|of)\b",
            (None, None),
        ),
        (r"\b(?:don't|do not|dont|please don't|never)\b(?= spoil)", (3, None)),
        (r"\bkeep\b", (4, None)),
        (r"\b(?:hide|hiding)\b", (3, None)),
        (r"\b(?:block|blocking)\b", (5, None)),
        (r"\b(?:mute|muting)\b", (4, None)),
        (r"\b(?:censor|censoring)\b", (4, None)),
        (r"\bget rid of\b", (5, None)),
        (r"\b(?:remove|removing|eliminate|exclude|drop)\b", (5, None)),
        (r"\bavoid(?:ing)?\b", (3, None)),
        (r"\bskip(?:ping)?\b", (4, None)),
        (r"\bfilter(?:ing)?(?: out)?\b", (None, None)),
        (
            r"\b(?:get|take|move|put)\b(?=.*\b(?:away from me|"
            r"out of (?:my|the) (?:feeds?|timelines?)|off (?:my|the) (?:feeds?|timelines?))\b)",
            (5, None),
        ),
        (r"\bi (?:don't|do not|dont) want(?: any| to have)?\b", (4, None)),
        # At the start of the message or of a clause ("my son is in hospital, no medical stuff").
        (r"(?:^|[,.;:!?]\s+(?:so |and |but |just |please )?)no (?:more )?\b", (4, None)),
        (
            r"(?:^|[,.;:!?]\s+(?:so |and |but |just |please )?)(?:not|nothing|none|zero|without)"
            r"(?: of)?(?: more| any more)?\b",
            (4, None),
        ),
        (r"\b(?:way |far |just )?too (?:much|many)\b", (None, None)),
    ]
)
POLITE_OPENING = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay|so|um|uh|well|please|pls|plz|maybe|just|can you|could you|"
    r"would you|"
    r"will you|can i|could i|i want you to|i'd like you to|i would like you to|help me|"
    r"i want to|i'd like to|i would like to|i need to|i need you to|let's|lets|i wanna|make sure)"
    r"[ ,]+)+",
    FLAGS,
)
# Words around a topic that are not part of it.
FILLER_ANYWHERE = re.compile(
    r"\b(?:(?:in|on|from|out of|off|away from) (?:my|the) (?:feeds?|timelines?|home ?page|"
    r"screen|front ?page|dashboard)|away from me|on (?:reddit|twitter|x)|please|pls|plz|"
    r"thanks|thank you|thx|any ?more|ever again|at all|whatsoever|filters?|ugh+|u+rgh|meh|lol|"
    r"lmao|omg|ffs|smh|sigh|e+w+|yikes|"
    r"(?:in|from) (?:this|that|the) (?:image|picture|photo|pic)|"
    r"like (?:this|that|these|those|the one)(?: one)?(?: here)?)\b",
    FLAGS,
)
LEADING_FILLER = re.compile(
    r"^(?:about|of|on|for|regarding|re|with|related to|relating to|to do with|involving|like|"
    r"connected to|linked to|concerning|discussing|discuss|discusses|in|from|by|so many|"
    r"so much|too many|too much|all the|all these|"
    r"such as|including|anything|everything|something|any|all|every|the|a|an|some|those|"
    r"these|this|another|posts?|content|stuff|things?|news|stories|videos?|clips?|footage|mentions?|talk|"
    r"pictures?|images?|photos?|photographs?|pics|memes?|gifs?|"
    r"discussions?|topics?|articles?|threads?|that|which|who|mention(?:s|ing)?|shows?|"
    r"showing|is|are|has|have|contains?|containing|involves?|includes?|talks? about|"
    r"seeing|reading|hearing|see|read|hear|people posting)\s+",
    FLAGS,
)
TRAILING_FILLER = re.compile(
    r"\s+(?:posts?|content|stuff|things|related|related posts|related content|related stuff|"
    r"for me|ever|again|now|first|too|as well|in general|here|there|it|them|then|and|or|but|"
    r"thing|whole thing|so much|so bad|a lot|very much|everything|in general|"
    r"to|"
    r"out|so|pls|right now|at the moment|lately|these days|recently|anyway|nonsense|crap|"
    r"garbage|rubbish|junk|bs|bullshit|here|please)$",
    FLAGS,
)
TRAILING_IMAGE_WORDS = re.compile(r"\s+(?:pics|pictures|images|photos|photographs|memes)$", FLAGS)
ARTICLE_OPENING = re.compile(r"^(?:the|a|an)\s+", FLAGS)
EDGE_PUNCTUATION = re.compile(r"^[\s,.;:!?\"'()\-\u2013\u2014*]+|[\s,.;:!?\"'()\-\u2013\u2014*]+$")
SETTINGS_LEFTOVERS = re.compile(
    r"\b(?:make|set|keep|do|let's|lets|i want|i'd like|i would like|it|that|this|one|them|"
    r"instead|rather|actually|but|and|then|no|yes|yeah|ok|okay|please|pls|just|only|be|is|"
    r"should|can|you|to|so|change|switch|for|a|the|filter|how about|what about|maybe|"
    r"better|on)\b",
    FLAGS,
)

SPOILER_WORD = re.compile(r"\bspoil(?:er|ers|ing|s|t|ed)?\b", FLAGS)
SPOILER_SUBJECT_PATTERNS = [
    re.compile(r"\bspoilers? (?:for|about|of|from|on|in|to|regarding)\s+(?P<subject>.+)", FLAGS),
    re.compile(r"\bspoil(?:ing|s)?\s+(?P<subject>.+?)(?:\s+for me)?$", FLAGS),
    re.compile(r"^(?P<subject>.+?)\s+spoilers?\b", FLAGS),
]
VAGUE_TOPICS = {
    "",
    "i",
    "it",
    "them",
    "this",
    "that",
    "these",
    "those",
    "stuff",
    "things",
    "something",
    "anything",
    "everything",
    "content",
    "posts",
    "some stuff",
    "some things",
    "certain things",
    "certain topics",
    "topics",
    "a topic",
    "show",
    "a show",
    "movie",
    "a movie",
    "film",
    "a film",
    "book",
    "a book",
    "game",
    "a game",
    "series",
    "a series",
    "tv show",
    "a tv show",
    "things i don't like",
    "stuff i don't like",
    "bad stuff",
    "bad things",
    "filter",
    "a filter",
    "new filter",
    "a new filter",
    "one",
    "some",
    "all",
    "stuff like that",
    "things like that",
    "what",
    "him",
    "her",
    "he",
    "she",
    "they",
    "me",
    "upsetting stuff",
    "upsetting things",
    "triggering stuff",
    "triggering content",
    "the show",
    "the movie",
    "the book",
    "the game",
    "the series",
    "my show",
    "my feed",
    "feed",
    "the feed",
    "my timeline",
    "it's",
    "its",
    "it is",
    "that's",
    "there",
    "here",
    "no",
    "yes",
    "nope",
    "ok",
    "okay",
    "yeah",
}
# A "topic" that is only the feed itself ("clean up my feed"): there is nothing to filter yet.
FEED_ONLY = re.compile(
    r"^(?:\w+(?: up)? )?(?:my|the|this) (?:feeds?|timelines?|home ?page|front ?page)$", FLAGS
)
# Words that make a clause a remark about the topic rather than a topic ("Crypto stuff,
# honestly I've had enough"); see topics.topic_clauses.
REMARK_WORDS = frozenset(
    "i i'm im i've ive i'd id me my mine myself you your you're we we're our us they they're "
    "them their it it's its that's this he she his her is are was were am be been being do "
    "does did have has had can could would will make makes made really so nobody everyone "
    "everybody someone anybody anymore cares care hate love ruins ruin freak scam".split()
)
CLAUSE_BREAK = re.compile(
    r"(?<!\bmr)(?<!\bmrs)(?<!\bdr)(?<!\bst)(?<!\bvs)(?:[.!?;]+(?=\s|$)|\u2026)|,|:(?=\s)|"
    r"\s[-\u2013\u2014]+\s|[\u2013\u2014]|"
    r"\b(?:because|cause|cuz|coz|since|honestly|tbh|seriously|frankly|anyway)\b",
    FLAGS,
)
# How a further topic is joined on ("spiders, and no snakes", "blood. also needles").
LIST_JOINER = re.compile(
    r"^(?:(?:and|or|also|plus|as well as|and also|&)\s+)?(?:(?:no|not|nothing about|"
    r"never|zero)\s+(?:more\s+)?)?",
    FLAGS,
)
NEGATED_JOIN = re.compile(
    r"\b(and|or)\s+(?:no|not|nothing about|never|zero)\s+(?:more\s+)?", FLAGS
)
VAGUE_SPOILER_SUBJECTS = VAGUE_TOPICS | {"it", "anything", "things", "shows", "movies"}
QUESTION_OPENING = re.compile(
    r"^(?:what|why|how|when|who|where|which|is|are|can|could|do|does|did|will|would|should|"
    r"tell me)\b",
    FLAGS,
)
PERSONAL_WORDS = re.compile(r"\b(?:i|i'm|i've|you|you're|we|we're|us|me)\b", FLAGS)
HARD_TIME = re.compile(
    r"\b(?:rough|hard|tough|difficult|bad|awful|terrible|sad|sadder|depress\w*|anxious|anxiety|"
    r"upset\w*|struggl\w*|overwhelm\w*|stress\w*|lonely|hurting|down|not (?:ok|okay|well|"
    r"good)|miserable|exhausted|burn(?:ed|t) out|heartbroken|grieving|scared|afraid)\b",
    FLAGS,
)
SELF_WORDS = re.compile(r"\b(?:i|i'm|i've|i'd|im|ive|we|we're|we've|us|me|my|our)\b", FLAGS)
KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
