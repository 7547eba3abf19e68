"""Follow-ups in a thread: when a reply builds on the thread's question, and the query it makes.

The rule, cheap enough to add nothing to an answer's latency (docs/slack.md):
- A follow-up *stands on its own* when it has at least STANDALONE_WORDS content words, does not
  open with a continuation ("and ...", "what about ...") and does not point back with a
  pronoun ("it", "that", "they"...). It is searched as typed.
- Otherwise it is searched with the earlier question's key terms: the follow-up whole, its
  content words once more (so they weigh double), then the CONTEXT_TERMS longest content words
  of the earlier question that it lacks (long words are the specific ones).
A thread reply that does not mention the bot is taken as a question only if it looks like one
(`looks_like_a_question`), so "thanks!" in a thread gets no answer.
"""

from __future__ import annotations

import re

from retrieval.text import content_words, words

STANDALONE_WORDS = 3
CONTEXT_TERMS = 3
_OPENERS = (
    "and",
    "but",
    "or",
    "also",
    "so",
    "then",
    "what about",
    "how about",
    "same for",
    "same question",
    "what if",
)
_BACK_REFERENCES = frozenset("it its that this these those they them their there same".split())
_QUESTION_WORDS = frozenset(
    "what how why when where who whom whose which can could do does did is are was were should "
    "would will may must any anything".split()
)
_OTHER_PERSON = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def needs_context(followup: str) -> bool:
    """True when the follow-up leans on the earlier question (see the module's rule)."""
    said = words(followup)
    if _continues(said):
        return True
    if _BACK_REFERENCES.intersection(said):
        return True
    return len(content_words(followup)) < STANDALONE_WORDS


def with_context(followup: str, earlier: str) -> str:
    """The query for a follow-up that leans on `earlier`: the follow-up, then earlier key terms."""
    own = list(dict.fromkeys(content_words(followup)))
    extra = [w for w in dict.fromkeys(content_words(earlier)) if w not in own]
    keep = set(sorted(extra, key=len, reverse=True)[:CONTEXT_TERMS])
    return " ".join([followup, *own, *(w for w in extra if w in keep)])


def looks_like_a_question(raw_text: str, bot_user_id: str | None) -> bool:
    """A thread reply meant for the bot: it asks something and is not addressed to someone else."""
    mentioned = {m[0] for m in _OTHER_PERSON.finditer(raw_text)}
    if mentioned and not any(bot_user_id and bot_user_id in m for m in mentioned):
        return False  # talking to a colleague
    said = words(_OTHER_PERSON.sub(" ", raw_text))
    if not said:
        return False
    return "?" in raw_text or said[0] in _QUESTION_WORDS or _continues(said)


def _continues(said: list[str]) -> bool:
    text = " ".join(said)
    return any(text == o or text.startswith(o + " ") for o in _OPENERS)
