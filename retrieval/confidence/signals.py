"""What an answer says about itself: the numbers the calibrated confidence is fitted on.

The same function runs at calibration and on every question, so the model sees at ask time
exactly what it was fitted on. Cheap by design (well under a millisecond): substring tests of
the question's words in the top-k chunks, ranks and scores already at hand. A reader's own
signals (`Reading.signals`) join as optional features.
"""

from __future__ import annotations

import math

from retrieval.query.retriever import Retrieval
from retrieval.readers import Reading
from retrieval.text import terms

BASE_FEATURES = (
    "has_answer",  # the reader found a span at all
    "reader_score",  # the reader's best score
    "reader_margin",  # best minus runner-up
    "best_cosine",  # the best vector similarity among the top-k chunks
    "top_cosine",  # the top chunk's vector similarity
    "bm25_top",  # log(1 + best BM25 score)
    "bm25_runner_up",  # second best BM25 over the best: flat lists mean nothing stood out
    "lists_agree",  # share of the top-k chunks ranked in the top k by both retrievers
    "answer_top_in_both",  # the answer's chunk is first in the keyword and the vector lists
    "answer_vector_rank",  # 1 / rank of the answer's chunk in each list (0: not in it)
    "answer_keyword_rank",
    "answer_chunk_coverage",  # share of the question's words found in the answer's chunk
    "topk_coverage",  # ... in any of the top-k chunks
)


def extract(retrieval: Retrieval, reading: Reading) -> dict[str, float]:
    """Signals of one answer, by name; a reader's extra ones are prefixed `reader_`."""
    hits, spans = retrieval.hits, reading.spans
    k = max(len(hits), 1)
    best = spans[0] if spans else None
    cosines = [h.vector_score for h in hits if h.vector_score is not None]
    bm25 = sorted((h.keyword_score for h in hits if h.keyword_score is not None), reverse=True)
    asked = terms(retrieval.question)
    lowered = {h.key: h.text.lower() for h in hits}
    out = {
        "has_answer": float(best is not None),
        "reader_score": reading.best_score,
        "reader_margin": reading.best_score - (spans[1].score if len(spans) > 1 else 0.0),
        "best_cosine": max(cosines, default=0.0),
        "top_cosine": (hits[0].vector_score or 0.0) if hits else 0.0,
        "bm25_top": math.log1p(max(bm25[0], 0.0)) if bm25 else 0.0,
        "bm25_runner_up": bm25[1] / bm25[0] if len(bm25) > 1 and bm25[0] > 0 else 0.0,
        "lists_agree": sum(_both(h.vector_rank, h.keyword_rank, k) for h in hits) / k,
        "answer_top_in_both": 0.0,
        "answer_vector_rank": 0.0,
        "answer_keyword_rank": 0.0,
        "answer_chunk_coverage": 0.0,
        "topk_coverage": _share(asked, *lowered.values()),
    }
    if best is not None:
        hit = best.hit
        out["answer_top_in_both"] = float(hit.vector_rank == 1 and hit.keyword_rank == 1)
        out["answer_vector_rank"] = 1.0 / hit.vector_rank if hit.vector_rank else 0.0
        out["answer_keyword_rank"] = 1.0 / hit.keyword_rank if hit.keyword_rank else 0.0
        out["answer_chunk_coverage"] = _share(asked, lowered.get(hit.key, ""))
    out |= {f"reader_{name}": float(v) for name, v in reading.signals.items()}
    return out


def _both(vector_rank: int | None, keyword_rank: int | None, k: int) -> float:
    return float(bool(vector_rank and keyword_rank and vector_rank <= k and keyword_rank <= k))


def _share(asked: set[str], *texts: str) -> float:
    """Share of the question's (stemmed) words found in any of the lower-cased texts.

    A substring test, not a word match: C-speed on a few chunks, and a stem finds its forms.
    """
    if not asked:
        return 0.0
    return sum(any(term in text for text in texts) for term in asked) / len(asked)
