"""Extractive readers: each returns verbatim spans of the retrieved chunks.

Every reader follows the `Reader` protocol, so the engine, the evaluation and the benchmarks
treat the sentence reader, a span model on disk and the reader trained on the index alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from retrieval.types import Hit, Span


@dataclass
class Reading:
    spans: list[Span] = field(default_factory=list)
    best_score: float = 0.0
    threshold: float = 0.0
    # Optional signals for the calibrated confidence (retrieval/confidence/signals.py): any
    # numbers a reader knows about its best answer.
    signals: dict[str, float] = field(default_factory=dict)
    note: str | None = None  # what the reader wants the explanation to say (e.g. a fallback)

    @property
    def confident(self) -> bool:
        return bool(self.spans) and self.best_score >= self.threshold


class Reader(Protocol):
    """Reads the retrieved chunks and returns the best verbatim spans, best first."""

    name: str  # what the answer's `reader` field says
    threshold: float  # a best score below it abstains
    version: str  # which model reads: a calibration is valid for this one only ("" built in)

    def warm_up(self) -> Reader:
        """Load the model (or session) once, so the first question does not wait for it."""
        ...

    def read(
        self, question: str, hits: list[Hit], n: int, question_vector: np.ndarray | None = None
    ) -> Reading: ...


def dedupe(spans: list[Span], limit: int) -> list[Span]:
    """Drop spans that repeat a better one: the same text, or overlapping text of one document.

    Overlapping chunks hold the same sentences, so the same answer can come from two chunks.
    """
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: s.score, reverse=True):
        norm = " ".join(span.text.lower().split())
        if any(_same(span, norm, k) for k in kept):
            continue
        kept.append(span)
        if len(kept) >= limit:
            break
    return kept


def _same(span: Span, norm: str, other: Span) -> bool:
    other_norm = " ".join(other.text.lower().split())
    if norm == other_norm or norm in other_norm or other_norm in norm:
        return True
    if span.hit.doc_id != other.hit.doc_id:
        return False
    a = (span.hit.start + span.start, span.hit.start + span.end)
    b = (other.hit.start + other.start, other.hit.start + other.end)
    return a[0] < b[1] and b[0] < a[1]
