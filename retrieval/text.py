"""Words of a question and of a passage, and how much of the question a passage holds.

Shared by keyword search, reranking and the sentence reader. Overlap is IDF-weighted: rare
question words (a drug name, a number) count for more than common ones, with the rarity
measured over the candidates at hand, so no corpus statistics are needed.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import string
from collections import Counter
from collections.abc import Sequence

from retrieval.lru import cached, text_and_pairs_size, text_size
from retrieval.settings import Settings

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


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix strip so 'infections' meets 'infection' (no dictionary, no download)."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "ed", "ly", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def set_cache_mb(mb: float) -> None:
    """Bound each of the caches of terms and word pairs (QA_CACHE_MB, per process)."""
    for fn in (terms, bigrams):
        fn.cache.resize(int(mb * 2**20))  # type: ignore[attr-defined]


# The same chunks come back question after question: their sentences' terms and word pairs
# are computed once per process, not ~10,000 stems per question (BENCHMARKS.md, profile).
@cached(int(Settings.cache_mb * 2**20), text_size)
def terms(text: str) -> frozenset[str]:
    return frozenset(stem(w) for w in content_words(text))


def overlap_scores(question: str, candidates: Sequence[frozenset[str]]) -> list[float]:
    """For each candidate's term set, the IDF-weighted share of the question's terms it holds."""
    q_terms = terms(question)
    if not q_terms or not candidates:
        return [0.0] * len(candidates)
    df = Counter(t for c in candidates for t in c & q_terms)
    n = len(candidates)
    weight = {t: math.log(1 + n / (1 + df[t])) for t in q_terms}
    total = sum(weight.values())
    return [sum(weight[t] for t in c & q_terms) / total for c in candidates]


@cached(int(Settings.cache_mb * 2**20), text_and_pairs_size)
def bigrams(text: str) -> frozenset[tuple[str, str]]:
    """Adjacent word pairs (stemmed), except pairs of two stop words."""
    ws = [stem(w) for w in words(text)]
    return frozenset(
        (a, b)
        for a, b in itertools.pairwise(ws)
        if a not in CONTENT_STOPWORDS or b not in CONTENT_STOPWORDS
    )


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces.

    The evaluation scores answers with it, and the trained reader compares its spans by it."""
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())
