"""Assembling the answer object: the answer, its sources and why it was (or was not) given."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from retrieval.filters import Filters
from retrieval.readers import Reading
from retrieval.retriever import Retrieval
from retrieval.sentences import sentence_spans
from retrieval.settings import Settings
from retrieval.types import Answer, Hit, Span

REASONS = {
    "no_documents": "nothing has been ingested yet",
    "no_documents_match_filter": "no document matches the filters",
    "retrieval_too_weak": "nothing relevant was found in the documents",
    "reader_abstained": "the closest passages do not clearly answer the question",
}


def build_answer(
    *,
    retrieval: Retrieval,
    reader: str,
    reading: Reading,
    timings: dict[str, float],
    count: Callable[[str], int],
    settings: Settings,
) -> Answer:
    """The answer object; `count` tells how many chunks a filter lets through."""
    hits, filters = retrieval.hits, retrieval.filters
    matched = count(retrieval.query) if not hits or not filters.is_empty() else None
    reason = _reason(filters, hits, reading, matched, settings)
    spans = [_with_context(s) for s in reading.spans]
    best = spans[0] if spans and reason is None else None
    ordered = _answer_source_first(hits, best)
    return Answer(
        question=retrieval.question,
        answer=best.text if best else None,
        score=round(best.score if best else reading.best_score, 4),
        reader=reader,
        sources=[_source(h, spans, hits) for h in ordered],
        candidates=[_candidate(s, ordered) for s in spans],
        timings=timings,
        reason=reason,
        explanation={
            "reason": REASONS.get(reason or ""),
            "filters": filters.to_dict(),
            "filter_query": retrieval.query,
            "mode": retrieval.mode,
            "k": retrieval.k,
            "matched_chunks": matched,
            "top_retrieval_scores": [_scores(h) for h in hits[:5]],
            "reader": {
                "name": reader,
                "best_score": round(reading.best_score, 4),
                "threshold": reading.threshold,
                **({"note": reading.note} if reading.note else {}),
            },
        },
    )


def _reason(
    filters: Filters, hits: list[Hit], reading: Reading, matched: int | None, settings: Settings
) -> str | None:
    if not hits:
        if matched == 0 and not filters.is_empty():
            return "no_documents_match_filter"
        return "no_documents" if matched == 0 else "retrieval_too_weak"
    best_cosine = max((h.vector_score or 0.0) for h in hits)
    lexical = any(h.keyword_rank for h in hits)
    if best_cosine < settings.retrieval_threshold and not lexical:
        return "retrieval_too_weak"
    if not reading.confident:
        return "reader_abstained"
    return None


def _with_context(span: Span) -> Span:
    """Widen the displayed context to whole sentences around the answer."""
    sentences = sentence_spans(span.hit.text)
    inside = [(s, e) for s, e in sentences if s < span.end and e > span.start]
    if inside:
        span.context_start = min(span.start, inside[0][0])
        span.context_end = max(span.end, inside[-1][1])
    else:
        span.context_start, span.context_end = span.start, span.end
    return span


def _answer_source_first(hits: list[Hit], best: Span | None) -> list[Hit]:
    if best is None:
        return list(hits)
    return [best.hit, *[h for h in hits if h.key != best.hit.key]]


def _source(hit: Hit, spans: list[Span], ranked: list[Hit]) -> dict[str, Any]:
    d = hit.to_dict()
    d["rank"] = ranked.index(hit) + 1  # retrieval rank; the answer's source is listed first
    d["chunk_start"], d["chunk_end"] = d.pop("start"), d.pop("end")
    d["key"] = hit.key
    mine = next((s for s in spans if s.hit.key == hit.key), None)
    d["start"] = mine.start if mine else None
    d["end"] = mine.end if mine else None
    d["score"] = round(hit.score, 6)
    return d


def _candidate(span: Span, ordered: list[Hit]) -> dict[str, Any]:
    index = next((i for i, h in enumerate(ordered) if h.key == span.hit.key), None)
    return {
        "answer": span.text,
        "score": round(span.score, 4),
        "doc_id": span.hit.doc_id,
        "title": span.hit.title,
        "source": span.hit.source,
        "url": span.hit.url,
        "page": span.hit.page,
        "source_index": index,
        "start": span.start,
        "end": span.end,
        "context": span.hit.text[span.context_start : span.context_end],
        "heading": span.hit.heading,  # an answer from under a heading is shown with it
        "context_start": span.context_start,
        "context_end": span.context_end,
    }


def _scores(hit: Hit) -> dict[str, Any]:
    return {
        "doc_id": hit.doc_id,
        "title": hit.title,
        "fused": round(hit.score, 6),
        "vector": None if hit.vector_score is None else round(hit.vector_score, 4),
        "keyword": None if hit.keyword_score is None else round(hit.keyword_score, 4),
    }
