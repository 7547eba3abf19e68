"""Synthetic questions from a sample of the index's chunks: the trained reader's generator.

A sentence's answer candidate (a number, a date, a name, a noun phrase, what a definition
says) becomes a question in a question's order, and some of its words are swapped for the
encoder's word-embedding neighbours. One generator for training and calibration: questions
that merely drop words from their sentence match it better than real ones match theirs, and
a threshold fitted on them refuses real answerable questions for not matching word for word
(BENCHMARKS.md, refusals).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from retrieval.index.chunks import ChunkIndex
from retrieval.sentences import sentence_spans
from retrieval.training.candidates import candidates
from retrieval.training.paraphrase import Paraphraser
from retrieval.training.pipeline import DEFAULT_BASE
from retrieval.training.questions import make_question


@dataclass(frozen=True)
class SyntheticQuestion:
    text: str
    doc_id: str  # the document it was made from: left out, it makes the question unanswerable
    answer: str = ""
    key: str = ""  # the chunk it was made from


def made_questions(
    index: ChunkIndex, n: int, rng: random.Random, *, reuse: bool = True
) -> list[SyntheticQuestion]:
    """Up to n questions about chunks drawn at random (2n drawn: not every chunk yields one),
    reworded with the encoder's word neighbours. `reuse`: a small index lends a chunk to
    several questions (the calibration); else each chunk makes one at most (the reranker)."""
    made = []
    for key, doc_id, text in sample_chunks(index, 2 * n, rng, reuse=reuse):
        if (q := question_about(doc_id, text, rng)) is not None:
            made.append(replace(q, key=key))
        if len(made) == n:
            break
    return reworded(made, Paraphraser.from_base(DEFAULT_BASE), rng)


def sample_chunks(
    index: ChunkIndex, n: int, rng: random.Random, *, reuse: bool = True
) -> list[tuple[str, str, str]]:
    """(key, doc_id, text) of up to n chunks drawn at random from the index; with `reuse`,
    n of them even where the index holds fewer."""
    keys = index.every_chunk_key()
    if n <= len(keys) or not reuse:
        picked = rng.sample(keys, min(n, len(keys)))
    else:
        picked = rng.choices(keys, k=n) if keys else []
    return [(k, d, t) for k, d, t in index.chunk_records(picked) if d]


def question_about(doc_id: str, text: str, rng: random.Random) -> SyntheticQuestion | None:
    """A question about one sentence of `text`, or None when no sentence yields one."""
    spans = list(sentence_spans(text))
    rng.shuffle(spans)
    for s, e in spans:
        sentence = text[s:e]
        found = candidates(sentence)
        rng.shuffle(found)
        for c in found:
            if (question := make_question(sentence, c, rng)) is not None:
                return SyntheticQuestion(question, doc_id, sentence[c.start : c.end])
    return None


def reworded(
    questions: list[SyntheticQuestion], paraphraser: Paraphraser, rng: random.Random
) -> list[SyntheticQuestion]:
    paraphraser.prepare(q.text for q in questions)
    return [replace(q, text=paraphraser.reword(q.text, q.answer, rng)) for q in questions]
