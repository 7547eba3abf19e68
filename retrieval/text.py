"""Word-level helpers shared by keyword search and the sentence reader."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)

# Words that carry no content for matching a question to a passage: function words, question
# words and a few verbs and numerals that every passage has. Not RediSearch's own list, which
# is the filter language's concern (filters.REDISEARCH_STOPWORDS).
CONTENT_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t don shall may might must also known used use using called one two three""".split()
)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def content_words(text: str) -> list[str]:
    """Lower-cased words that are not stop words, in order, duplicates kept."""
    return [w for w in words(text) if w not in CONTENT_STOPWORDS]


def stem(word: str) -> str:
    """A light suffix strip so 'infections' meets 'infection' (no dictionary, no download)."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "ed", "ly", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word
