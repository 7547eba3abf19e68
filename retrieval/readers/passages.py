"""The passages a span model reads for one question: short windows of the retrieved chunks.

A span model reading every retrieved chunk whole costs ~80 ms on two cores; a few windows
of two or three sentences, around the sentences that hold most of the question's rarer
words, cost a quarter of that and still hold the answer for most questions (BENCHMARKS.md).
Training builds its examples with this same function, so the model learns to choose among
exactly the passages it will be shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.sentences import sentences_of
from retrieval.text import bigrams, overlap_scores, terms
from retrieval.types import Hit

WINDOW_CHARS = 480  # about 100 word pieces: a sentence with its neighbours
PASSAGES = 4  # windows read per question
PRIOR = {"overlap": 0.35, "bigram": 0.15, "chunk": 0.15}  # the sentence reader's own blend


@dataclass(frozen=True)
class Passage:
    """hit.text[start:end]: a window of a retrieved chunk, around one of its sentences."""

    hit: Hit
    start: int
    end: int
    prior: float  # how well its sentence matched the question (0..1)

    @property
    def text(self) -> str:
        return self.hit.text[self.start : self.end]

    def holds(self, doc_start: int, doc_end: int) -> bool:
        """Whether the document's characters doc_start..doc_end lie inside this window."""
        return self.hit.start + self.start <= doc_start and doc_end <= self.hit.start + self.end


def passages(
    question: str, hits: list[Hit], limit: int = PASSAGES, window_chars: int = WINDOW_CHARS
) -> list[Passage]:
    """The `limit` best windows, best first, none overlapping another in its document."""
    sentences = [(h, s, e) for h in hits for s, e in sentences_of(h.text) if e - s >= 3]
    if not sentences:
        return []
    top = max(h.score for h in hits) or 1.0
    overlap = overlap_scores(question, [terms(h.text[s:e]) for h, s, e in sentences])
    pairs = bigrams(question)
    scored = []
    for (hit, s, e), o in zip(sentences, overlap, strict=True):
        b = len(bigrams(hit.text[s:e]) & pairs) / len(pairs) if pairs else 0.0
        prior = PRIOR["overlap"] * o + PRIOR["bigram"] * b + PRIOR["chunk"] * hit.score / top
        scored.append((prior, hit, s, e))
    scored.sort(key=lambda x: -x[0])
    chosen: list[Passage] = []
    for prior, hit, s, e in scored:
        a, b = window(hit.text, s, e, window_chars)
        lo, hi = hit.start + a, hit.start + b
        if any(
            p.hit.doc_id == hit.doc_id and lo < p.hit.start + p.end and p.hit.start + p.start < hi
            for p in chosen
        ):
            continue
        chosen.append(Passage(hit, a, b, prior))
        if len(chosen) >= limit:
            break
    return chosen


def window(text: str, start: int, end: int, chars: int = WINDOW_CHARS) -> tuple[int, int]:
    """The sentence text[start:end] grown by whole neighbouring sentences up to `chars`,
    the next sentence first (an answer's sentence is more often explained after than before)."""
    spans = sentences_of(text)
    i = next((n for n, (s, e) in enumerate(spans) if s <= start and end <= e), None)
    lo, hi = start, end
    if i is None:
        return lo, hi
    before, after = i - 1, i + 1
    while True:
        grew = False
        if after < len(spans) and spans[after][1] - lo <= chars:
            hi, after, grew = spans[after][1], after + 1, True
        if before >= 0 and hi - spans[before][0] <= chars:
            lo, before, grew = spans[before][0], before - 1, True
        if not grew:
            return lo, hi
