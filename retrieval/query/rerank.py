"""Reranking fused candidates by where the question's words meet inside a chunk.

BM25 scores a whole chunk; an answer usually sits in one sentence that holds most of the
question's rare words, often in the question's own word order. A chunk's rerank score
blends four features: its fused retrieval score (relative to the best), its best sentence's
IDF-weighted word overlap and word-pair (bigram) overlap, and the chunk's overall overlap.
No model call: ~5 ms for 30.

The weights are the index's own once `qa train` has fitted them on questions generated from
its chunks (retrieval/query/rerank_weights.py); until then, `WEIGHTS`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from retrieval.sentences import sentences_of
from retrieval.text import bigrams, overlap_scores, terms
from retrieval.types import Hit

FEATURES = ("fused", "sentence", "bigram", "chunk")
# Equal weights until `qa train` fits the index's own. Not chosen on any benchmark (the
# weights before were chosen on COVID-QA); weights fitted on the bundled sample's real
# questions (`.venv/bin/python -m bench.rerank_bench --fit-defaults`: fused 0.55, sentence
# 0.25, bigram 0.2, chunk 0) measured worse on COVID-QA (hit@5 0.741 vs 0.768) and barely
# better on the sample's held-out articles (0.923 vs 0.913): BENCHMARKS.md, rerank-bench.
WEIGHTS: dict[str, float] = dict.fromkeys(FEATURES, 0.25)
DEPTH = 30  # fused candidates reranked


def features(question: str, hits: list[Hit]) -> np.ndarray:
    """One row per hit, one column per name in FEATURES, each in 0..1."""
    owners: list[int] = []
    sentence_terms: list[frozenset[str]] = []
    sentence_pairs: list[frozenset[tuple[str, str]]] = []
    for i, hit in enumerate(hits):
        for s, e in sentences_of(hit.text):
            owners.append(i)
            sentence_terms.append(terms(hit.text[s:e]))
            sentence_pairs.append(bigrams(hit.text[s:e]))
    q_pairs = bigrams(question)
    rows = np.zeros((len(hits), len(FEATURES)), dtype=np.float64)
    scores = overlap_scores(question, sentence_terms)
    for owner, score, pairs in zip(owners, scores, sentence_pairs, strict=True):
        rows[owner, 1] = max(rows[owner, 1], score)
        if q_pairs:
            rows[owner, 2] = max(rows[owner, 2], len(pairs & q_pairs) / len(q_pairs))
    rows[:, 3] = overlap_scores(question, [terms(h.text + " " + h.heading) for h in hits])
    top = max((h.score for h in hits), default=0.0) or 1.0
    rows[:, 0] = [h.score / top for h in hits]
    return rows


def vector_of(weights: Mapping[str, float]) -> np.ndarray:
    return np.array([float(weights[name]) for name in FEATURES])


def rerank(question: str, hits: list[Hit], weights: Mapping[str, float] | None = None) -> list[Hit]:
    """Hits reordered best first; `hit.score` becomes the blended score."""
    if len(hits) < 2:
        return hits
    blended = features(question, hits) @ vector_of(weights or WEIGHTS)
    for hit, score in zip(hits, blended, strict=True):
        hit.score = float(score)
    return sorted(hits, key=lambda h: h.score, reverse=True)
