"""The sentence reader: picks the sentence of the retrieved chunks that best answers.

Needs only the embedding model. A sentence's score blends its meaning (cosine to the
question), the question's rarer words and word pairs it contains (IDF-weighted overlap),
and how well its chunk was retrieved. Only the most promising sentences are embedded,
which keeps a query to one small batch.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.embedding.embedder import Embedder
from retrieval.lru import ByteLRU
from retrieval.readers import Reading, dedupe
from retrieval.readers.headings import not_an_answer
from retrieval.sentences import sentences_of
from retrieval.settings import Settings
from retrieval.text import bigrams, overlap_scores, terms
from retrieval.types import Hit, Span

MAX_EMBEDDED = 10  # sentences embedded per question: the latency budget
WEIGHTS = {"cosine": 0.35, "overlap": 0.35, "bigram": 0.15, "chunk": 0.15}


@dataclass
class _Candidate:
    hit: Hit
    rank: int
    start: int
    end: int
    terms: frozenset[str]
    pairs: frozenset[tuple[str, str]]
    chunk: float = 0.0  # the chunk's retrieval score relative to the best chunk
    overlap: float = 0.0
    bigram: float = 0.0
    cosine: float = 0.0

    @property
    def text(self) -> str:
        return self.hit.text[self.start : self.end]


class SentenceReader:
    name = "sentence"
    version = ""

    def __init__(
        self, embedder: Embedder, threshold: float = 0.35, cache_mb: float = Settings.cache_mb
    ) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self._vectors: ByteLRU[str, np.ndarray] = ByteLRU(int(cache_mb * 2**20), _vector_size)

    def warm_up(self) -> SentenceReader:
        """Load the embedding model it scores sentences with (the retriever's own)."""
        self.embedder.warm_up()
        return self

    def embed(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Sentence vectors, each embedded once per process while it stays among those used
        lately (QA_CACHE_MB of them): the model runs only on sentences not seen lately."""
        found = {t: self._vectors.get(t) for t in texts}
        # One sentence per call: the quantized model's vector depends on the batch it shares
        # (cosine 0.993 with another batch), so a cached vector must not depend on which
        # question embedded it first; alone is also no slower (no padding: 75 vs 99 ms per 10).
        for t in [t for t, v in found.items() if v is None]:
            found[t] = self.embedder.embed([t])[0]
            self._vectors.put(t, found[t])
        return [found[t] for t in texts]

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
            id(c): WEIGHTS["overlap"] * c.overlap
            + WEIGHTS["bigram"] * c.bigram
            + WEIGHTS["chunk"] * c.chunk
            for c in candidates
        }
        shortlist = sorted(candidates, key=lambda c: prior[id(c)], reverse=True)[:MAX_EMBEDDED]
        vectors = self.embed([c.text for c in shortlist])
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
        if not spans:
            return Reading(threshold=self.threshold)
        best = next(c for c in shortlist if c.hit is spans[0].hit and c.start == spans[0].start)
        signals = {"cosine": best.cosine, "overlap": best.overlap, "bigram": best.bigram}
        return Reading(spans, spans[0].score, self.threshold, signals=signals)

    def _candidates(self, hits: list[Hit]) -> list[_Candidate]:
        out = []
        top = max(h.score for h in hits) or 1.0
        for rank, hit in enumerate(hits):
            for s, e in sentences_of(hit.text):
                if e - s >= 3 and not not_an_answer(hit, s, e):
                    text = hit.text[s:e]
                    out.append(
                        _Candidate(hit, rank, s, e, terms(text), bigrams(text), hit.score / top)
                    )
        return out

    def _score_overlap(self, question: str, candidates: list[_Candidate]) -> None:
        q_pairs = bigrams(question)
        scores = overlap_scores(question, [c.terms for c in candidates])
        for c, score in zip(candidates, scores, strict=True):
            c.overlap = score
            c.bigram = len(c.pairs & q_pairs) / len(q_pairs) if q_pairs else 0.0


def _vector_size(text: str, vector: np.ndarray) -> int:
    return sys.getsizeof(text) + vector.nbytes + 112  # the array object itself
