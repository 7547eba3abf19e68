"""The sentence reader: picks the sentence of the retrieved chunks that best answers.

Needs only the embedding model. A sentence's score blends its meaning (cosine to the
question), the question's rarer words it contains (IDF-weighted overlap), and how well its
chunk was retrieved. Only the most promising sentences are embedded, which keeps a query
to one small batch.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from retrieval.embedder import Embedder
from retrieval.readers import Reading, dedupe
from retrieval.sentences import sentence_spans
from retrieval.text import content_words, stem
from retrieval.types import Hit, Span

MAX_EMBEDDED = 16
WEIGHTS = {"cosine": 0.45, "overlap": 0.40, "chunk": 0.15}


@dataclass
class _Candidate:
    hit: Hit
    rank: int
    start: int
    end: int
    terms: set[str]
    overlap: float = 0.0
    cosine: float = 0.0

    @property
    def text(self) -> str:
        return self.hit.text[self.start : self.end]


class SentenceReader:
    name = "sentence"

    def __init__(self, embedder: Embedder, threshold: float = 0.35) -> None:
        self.embedder = embedder
        self.threshold = threshold

    def read(
        self, question: str, hits: list[Hit], n: int, question_vector: np.ndarray | None = None
    ) -> Reading:
        if question_vector is None:
            question_vector = self.embedder.embed_query(question)
        candidates = self._candidates(hits)
        if not candidates:
            return Reading(threshold=self.threshold)
        self._score_overlap(question, candidates)
        prior = {
            id(c): WEIGHTS["overlap"] * c.overlap + WEIGHTS["chunk"] * _chunk_prior(c.rank)
            for c in candidates
        }
        shortlist = sorted(candidates, key=lambda c: prior[id(c)], reverse=True)[:MAX_EMBEDDED]
        vectors = self.embedder.embed([c.text for c in shortlist])
        for c, v in zip(shortlist, vectors, strict=True):
            c.cosine = float(np.dot(v, question_vector))
        spans = [
            Span(
                text=c.text,
                score=prior[id(c)] + WEIGHTS["cosine"] * c.cosine,
                hit=c.hit,
                start=c.start,
                end=c.end,
                context_start=c.start,
                context_end=c.end,
            )
            for c in shortlist
        ]
        spans = dedupe(spans, n)
        return Reading(spans, spans[0].score if spans else 0.0, self.threshold)

    def _candidates(self, hits: list[Hit]) -> list[_Candidate]:
        out = []
        for rank, hit in enumerate(hits):
            for s, e in sentence_spans(hit.text):
                if e - s >= 3:
                    out.append(
                        _Candidate(hit, rank, s, e, {stem(w) for w in content_words(hit.text[s:e])})
                    )
        return out

    def _score_overlap(self, question: str, candidates: list[_Candidate]) -> None:
        q_terms = {stem(w) for w in content_words(question)}
        if not q_terms:
            return
        df = Counter(t for c in candidates for t in c.terms & q_terms)
        n = len(candidates)
        weight = {t: math.log(1 + n / (1 + df[t])) for t in q_terms}
        total = sum(weight.values())
        for c in candidates:
            c.overlap = sum(weight[t] for t in c.terms & q_terms) / total


def _chunk_prior(rank: int) -> float:
    return 1.0 / (1.0 + rank)
