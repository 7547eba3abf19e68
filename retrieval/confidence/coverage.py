"""Refusal before any calibration: are the question's words in the documents at all?

A new index has no calibrated confidence, and a reader's own score says little about whether
the documents cover a question ("What is the office wifi password?" reads "Passwords" well
enough). What an uncalibrated index can check is plainer: the documents cannot state a fact
in words they never use. A question is refused when the retrieved passages hold fewer than
half of its content words, a word that no chunk of the whole index holds counting twice
(the passages at hand may miss a word; the documents never using it says more). The
explanation names the missing words, and the closest sources are still shown. Once
`qa calibrate` (or `qa train-reader`) has run, the calibrated confidence decides instead
(coverage is among its signals, weighed against the others on the index's own questions).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import redis

from retrieval.index.chunks import ChunkIndex
from retrieval.query.retriever import Retrieval
from retrieval.redis.replies import parse_search, reachable
from retrieval.redis.syntax import escape_text
from retrieval.text import content_words, stem

# The word after "how" asks for a kind of answer ("how long", "how many"): the documents say
# "three weeks", not "long", so it is no content word of the question.
QUESTION_SCAFFOLD = frozenset(
    "long many much often old far big large tall high wide deep soon late early".split()
)
MIN_SHARE = 0.5  # of the question's content words, held by the retrieved passages together
# (measured: refuses 0.013 of COVID-QA's and 0.087 of a 3-article encyclopedic index's
# answerable questions, BENCHMARKS.md "refusal before calibration")
MAX_WORDS = 12  # words checked against the whole index, one pipelined round trip


@dataclass(frozen=True)
class Coverage:
    words: tuple[str, ...]  # the question's content words
    unknown: tuple[str, ...]  # in no chunk of the index
    missing: tuple[str, ...]  # in none of the retrieved passages

    @property
    def share(self) -> float:
        """The share of the question's words the passages hold, unknown words counted twice."""
        if not self.words:
            return 1.0
        return max(0.0, 1.0 - (len(self.missing) + len(self.unknown)) / len(self.words))

    @property
    def covered(self) -> bool:
        return self.share >= MIN_SHARE

    def to_dict(self) -> dict[str, object]:
        return {
            "share": round(self.share, 4),
            "missing": list(self.missing),
            "unknown": list(self.unknown),
            "min_share": MIN_SHARE,
        }


def question_words(question: str) -> tuple[str, ...]:
    """Content words of the question, in order, without the kind-of-answer word after 'how'."""
    raw = question.lower().split()
    scaffold = {w for prev, w in itertools.pairwise(raw) if prev == "how"}
    kept = [w for w in content_words(question) if not (w in scaffold and w in QUESTION_SCAFFOLD)]
    return tuple(dict.fromkeys(kept))


def coverage(index: ChunkIndex, retrieval: Retrieval) -> Coverage:
    """Which of the question's words the passages, and the index, hold."""
    asked = question_words(retrieval.question)
    texts = [f"{h.title} {h.heading} {h.text}".lower() for h in retrieval.hits]
    # A stem's substring test finds a word's forms ("rotate" in "rotating"), as signals do.
    missing = tuple(w for w in asked if not any(stem(w) in t for t in texts))
    return Coverage(asked, _unknown(index, missing[:MAX_WORDS]), missing)


def _unknown(index: ChunkIndex, candidates: tuple[str, ...]) -> tuple[str, ...]:
    """The words no chunk holds (RediSearch stems them as it stemmed the documents)."""
    if not candidates:
        return ()
    pipe = index.client.pipeline(transaction=False)
    for word in candidates:
        query = f"@text|title|heading:({escape_text(word)})"
        pipe.execute_command(
            "FT.SEARCH", index.schema.name, query, "NOCONTENT", "LIMIT", 0, 0, "DIALECT", 2
        )
    try:
        with reachable("cannot check the question's words"):
            replies = pipe.execute()
    except redis.ResponseError:  # a word the query syntax rejects: no verdict, no refusal
        return ()
    totals = (parse_search(reply, scores=False, content=False).total for reply in replies)
    return tuple(w for w, total in zip(candidates, totals, strict=True) if total == 0)
