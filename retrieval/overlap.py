"""How much of a question's meaningful vocabulary a piece of text contains, IDF-weighted.

Rare question words (a drug name, a number) count for more than common ones, with the
rarity measured over the candidates at hand, so no corpus statistics are needed.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence

from retrieval.text import CONTENT_STOPWORDS, content_words, stem, words


def terms(text: str) -> set[str]:
    return {stem(w) for w in content_words(text)}


def overlap_scores(question: str, candidates: Sequence[set[str]]) -> list[float]:
    """For each candidate's term set, the IDF-weighted share of the question's terms it holds."""
    q_terms = terms(question)
    if not q_terms or not candidates:
        return [0.0] * len(candidates)
    df = Counter(t for c in candidates for t in c & q_terms)
    n = len(candidates)
    weight = {t: math.log(1 + n / (1 + df[t])) for t in q_terms}
    total = sum(weight.values())
    return [sum(weight[t] for t in c & q_terms) / total for c in candidates]


def bigrams(text: str) -> set[tuple[str, str]]:
    """Adjacent word pairs (stemmed), except pairs of two stop words."""
    ws = [stem(w) for w in words(text)]
    return {
        (a, b)
        for a, b in itertools.pairwise(ws)
        if a not in CONTENT_STOPWORDS or b not in CONTENT_STOPWORDS
    }
