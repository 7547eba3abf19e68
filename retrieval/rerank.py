"""Reranking fused candidates by where the question's words meet inside a chunk.

BM25 scores a whole chunk; an answer usually sits in one sentence that holds most of the
question's rare words, often in the question's own word order. A chunk's rerank score
blends its fused retrieval score with its best sentence's IDF-weighted word overlap and
word-pair (bigram) overlap, and the chunk's overall overlap. No model call: ~5 ms for 30.
Weights were chosen on COVID-QA (see BENCHMARKS.md).
"""

from __future__ import annotations

from retrieval.sentences import sentences_of
from retrieval.text import bigrams, overlap_scores, terms
from retrieval.types import Hit

WEIGHTS = {"fused": 0.5, "sentence": 0.35, "chunk": 0.15, "bigram": 0.15}


def rerank(question: str, hits: list[Hit], weights: dict[str, float] = WEIGHTS) -> list[Hit]:
    """Hits reordered best first; `hit.score` becomes the blended score."""
    if len(hits) < 2:
        return hits
    owners: list[int] = []
    sentence_terms: list[set[str]] = []
    sentence_pairs: list[set[tuple[str, str]]] = []
    for i, hit in enumerate(hits):
        for s, e in sentences_of(hit.text):
            owners.append(i)
            sentence_terms.append(terms(hit.text[s:e]))
            sentence_pairs.append(bigrams(hit.text[s:e]))
    q_pairs = bigrams(question)
    best_terms = [0.0] * len(hits)
    best_pairs = [0.0] * len(hits)
    scores = overlap_scores(question, sentence_terms)
    for owner, score, pairs in zip(owners, scores, sentence_pairs, strict=True):
        best_terms[owner] = max(best_terms[owner], score)
        if q_pairs:
            best_pairs[owner] = max(best_pairs[owner], len(pairs & q_pairs) / len(q_pairs))
    whole = overlap_scores(question, [terms(h.text + " " + h.heading) for h in hits])
    top = max(h.score for h in hits) or 1.0
    for i, hit in enumerate(hits):
        hit.score = (
            weights["fused"] * hit.score / top
            + weights["sentence"] * best_terms[i]
            + weights["bigram"] * best_pairs[i]
            + weights["chunk"] * whole[i]
        )
    return sorted(hits, key=lambda h: h.score, reverse=True)
