"""Assembling the answer object: the answer, its sources and why it was (or was not) given."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from retrieval.answers.sources import Lookup, list_sources
from retrieval.confidence.model import Confidence
from retrieval.index.near_copies import DocNotes
from retrieval.places import shown_place
from retrieval.query.filters import Filters
from retrieval.query.retriever import Retrieval
from retrieval.readers import Reading
from retrieval.readers.definitions import presented
from retrieval.settings import Settings
from retrieval.types import Answer, Hit, Span

REASONS = {
    "no_documents": "nothing has been ingested yet",
    "no_documents_match_filter": "no document matches the filters",
    "retrieval_too_weak": "nothing relevant was found in the documents",
    "reader_abstained": "the closest passages do not clearly answer the question",
    "low_confidence": "the documents don't seem to cover this question",
}


def build_answer(
    *,
    retrieval: Retrieval,
    reader: str,
    reading: Reading,
    timings: dict[str, float],
    count: Callable[[str], int],
    settings: Settings,
    confidence: Confidence | None = None,
    lookup: Lookup | None = None,
) -> Answer:
    """The answer object; `count` tells how many chunks a filter lets through, `lookup` the
    folder and near copies of listed documents (none: shown without them).

    On a calibrated index `score` is the confidence (0..1) and it alone decides refusals once
    retrieval found something; elsewhere the reader's threshold does, as before.
    """
    hits, filters = retrieval.hits, retrieval.filters
    matched = count(retrieval.query) if not hits or not filters.is_empty() else None
    confidence = confidence or Confidence(reading.best_score, None, False, "")
    reason = _reason(filters, hits, reading, matched, settings, confidence)
    spans = [presented(s, retrieval.question) for s in reading.spans]
    best = spans[0] if spans and reason is None else None
    ordered = _answer_source_first(hits, best)
    notes = lookup(list(dict.fromkeys(h.doc_id for h in hits))) if lookup and hits else {}
    sources, where = list_sources(
        retrieval.question, ordered, hits, spans, notes, settings.url_maps
    )
    score = (
        confidence.value if confidence.calibrated else best.score if best else reading.best_score
    )
    return Answer(
        question=retrieval.question,
        answer=best.text if best else None,
        score=round(score, 4),
        reader=reader,
        sources=sources,
        candidates=_unique([_candidate(s, where, notes, settings) for s in spans]),
        timings=timings,
        reason=reason,
        context=_context(best),
        explanation={
            "reason": _why(reason, confidence),
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
            "confidence": _confidence(confidence),
        },
    )


def _reason(
    filters: Filters,
    hits: list[Hit],
    reading: Reading,
    matched: int | None,
    settings: Settings,
    confidence: Confidence,
) -> str | None:
    if not hits:
        if matched == 0 and not filters.is_empty():
            return "no_documents_match_filter"
        return "no_documents" if matched == 0 else "retrieval_too_weak"
    best_cosine = max((h.vector_score or 0.0) for h in hits)
    lexical = any(h.keyword_rank for h in hits)
    if best_cosine < settings.retrieval_threshold and not lexical:
        return "retrieval_too_weak"
    # The reader's own threshold decides on an uncalibrated index, unless the caller set one.
    own = not confidence.calibrated and confidence.threshold is None
    if not reading.spans or (own and not reading.confident):
        return "reader_abstained"
    return "low_confidence" if confidence.refuses else None


def _why(reason: str | None, confidence: Confidence) -> str | None:
    """The reason in words; a refusal by the coverage rule names the words not found."""
    coverage = confidence.detail.get("coverage") or {}
    words = coverage.get("unknown") or coverage.get("missing")
    if reason == "low_confidence" and not confidence.covered and words:
        return f"I couldn't find this stated: the documents don't mention {', '.join(words)}"
    return REASONS.get(reason or "")


def _confidence(confidence: Confidence) -> dict[str, Any]:
    return {
        "calibrated": confidence.calibrated,
        "value": round(confidence.value, 4),
        "threshold": None if confidence.threshold is None else round(confidence.threshold, 4),
        "status": confidence.status,
        **confidence.detail,
    }


def _context(best: Span | None) -> dict[str, Any] | None:
    """The answer in its sentence, as shown: the text and where the answer is inside it."""
    if best is None:
        return None
    a = best.context_start
    return {
        "text": best.hit.text[a : best.context_end],
        "answer_start": best.start - a,
        "answer_end": best.end - a,
    }


def _answer_source_first(hits: list[Hit], best: Span | None) -> list[Hit]:
    if best is None:
        return list(hits)
    return [best.hit, *[h for h in hits if h.key != best.hit.key]]


def _unique(candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One candidate per answer text and source: copies of a passage give the same answer."""
    seen: set[tuple[str, int | None]] = set()
    out = []
    for c in candidates:
        if (c["answer"], c["source_index"]) not in seen:
            seen.add((c["answer"], c["source_index"]))
            out.append(c)
    return out


def _candidate(
    span: Span, where: dict[str, int], notes: Mapping[str, DocNotes], settings: Settings
) -> dict[str, Any]:
    hit = span.hit
    folder = notes[hit.doc_id].folder if hit.doc_id in notes else ""
    url, _ = shown_place(hit.path, hit.url, folder, settings.url_maps)
    return {
        "answer": span.text,
        "score": round(span.score, 4),
        "doc_id": hit.doc_id,
        "title": hit.title,
        "source": hit.source,
        "url": url,
        "page": hit.page,
        # the source showing it: its document's entry, or the one a copy was folded into
        "source_index": where.get(hit.key),
        "key": hit.key,  # the passage read: that entry's own, one of its `passages`, or a copy
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
