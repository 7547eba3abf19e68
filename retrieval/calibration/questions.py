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
from dataclasses import dataclass

from retrieval.index.chunks import ChunkIndex
from retrieval.sentences import sentence_spans
from retrieval.training.candidates import candidates
from retrieval.training.paraphrase import Paraphraser
from retrieval.training.questions import make_question


@dataclass(frozen=True)
class SyntheticQuestion:
    text: str
    doc_id: str  # the document it was made from: left out, it makes the question unanswerable
    answer: str = ""


def sample_chunks(index: ChunkIndex, n: int, rng: random.Random) -> list[tuple[str, str]]:
    """(doc_id, text) of up to n chunks drawn at random from the index."""
    keys = index.every_chunk_key()
    picked = rng.sample(keys, n) if n <= len(keys) else rng.choices(keys, k=n) if keys else []
    # A small index lends each chunk to several questions.
    return [(d, t) for d, t in index.chunk_texts(picked) if d]


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
    return [
        SyntheticQuestion(paraphraser.reword(q.text, q.answer, rng), q.doc_id, q.answer)
        for q in questions
    ]
