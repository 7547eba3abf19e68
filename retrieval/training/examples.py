"""Training examples: synthetic questions paired with short contexts, and unanswerables.

Each example's context is a short window (the sentence and its neighbours), the shape the
trained reader reads at answer time. Where another sentence of the corpus also holds the
answer and the question's key words, that sentence's window is the context (Fabbri et al.
2020): the question's words then differ from the context's, so the model learns meaning,
not copying. Some questions are paired with a similar window that lacks their answer, and
the target is "no answer" ([CLS]).
"""

from __future__ import annotations

import random
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from retrieval.sentences import sentence_spans, sentences_of
from retrieval.squad import load_squad
from retrieval.text import terms
from retrieval.training.candidates import candidates
from retrieval.training.paraphrase import Paraphraser
from retrieval.training.questions import make_question

WINDOW_CHARS = 320  # about 75 tokens: the context the reader reads around one sentence
PER_SENTENCE = 2  # questions made from one sentence at most
UNANSWERABLE_SHARE = 0.2
HELD_OUT_SHARE = 0.05


@dataclass(frozen=True)
class Example:
    question: str
    context: str
    answer_start: int  # -1: the context does not answer the question
    answer: str
    group: str = ""  # the source document: held-out examples come from other documents


@dataclass(frozen=True)
class _Sentence:
    text: str
    window: str
    offset: int  # of the sentence in its window
    group: str


def windows(
    text: str, start: int, end: int, spans: Sequence[tuple[int, int]] | None = None
) -> tuple[str, int]:
    """The sentence text[start:end] with neighbours either side, up to WINDOW_CHARS.

    Returns the window and the sentence's offset inside it; `spans` are text's sentences
    (by default its cached split: the reader has already split a retrieved chunk).
    """
    spans = sentences_of(text) if spans is None else spans
    i = next((n for n, (s, e) in enumerate(spans) if s <= start and end <= e), None)
    lo, hi = start, end
    if i is not None:
        before, after = i - 1, i + 1
        while True:
            grew = False
            if after < len(spans) and spans[after][1] - lo <= WINDOW_CHARS:
                hi, after, grew = spans[after][1], after + 1, True
            if before >= 0 and hi - spans[before][0] <= WINDOW_CHARS:
                lo, before, grew = spans[before][0], before - 1, True
            if not grew:
                break
    return text[lo:hi], start - lo


def corpus_sentences(chunks: Iterable[tuple[str, str]]) -> list[_Sentence]:
    """Every distinct sentence of (group, chunk text) pairs, with its window."""
    seen: set[str] = set()
    out: list[_Sentence] = []
    for group, text in chunks:
        spans = sentence_spans(text)
        for s, e in spans:
            sentence = text[s:e]
            if len(sentence) < 20 or sentence in seen:
                continue
            seen.add(sentence)
            window, offset = windows(text, s, e, spans)
            out.append(_Sentence(sentence, window, offset, group))
    return out


def synthesize(sentences: list[_Sentence], seed: int, limit: int) -> list[Example]:
    """Up to `limit` examples, answerable and not, in a seeded random order."""
    rng = random.Random(seed)
    index: dict[str, set[int]] = defaultdict(set)
    for n, s in enumerate(sentences):
        for t in terms(s.text):
            index[t].add(n)
    order = list(range(len(sentences)))
    rng.shuffle(order)
    out: list[Example] = []
    for n in order:
        out += _from_sentence(sentences, n, index, rng)
        if len(out) >= limit:
            break
    rng.shuffle(out)
    return out[:limit]


def reworded(examples: list[Example], paraphraser: Paraphraser, seed: int) -> list[Example]:
    """The questions with some words swapped for synonyms; contexts and answers unchanged."""
    rng = random.Random(seed + 1)
    paraphraser.prepare(e.question for e in examples)
    return [replace(e, question=paraphraser.reword(e.question, e.answer, rng)) for e in examples]


def _from_sentence(
    sentences: list[_Sentence], n: int, index: dict[str, set[int]], rng: random.Random
) -> list[Example]:
    s = sentences[n]
    found = candidates(s.text)
    rng.shuffle(found)
    out = []
    for c in found[:PER_SENTENCE]:
        question = make_question(s.text, c, rng)
        if question is None:
            continue
        answer = s.text[c.start : c.end]
        keys = terms(question)
        other = _elsewhere(sentences, n, answer, keys, index, rng)
        source = sentences[other] if other is not None else s
        offset = source.offset + source.text.index(answer) if other is not None else None
        if offset is None:
            offset = s.offset + c.start
        out.append(Example(question, source.window, offset, answer, s.group))
        if rng.random() < UNANSWERABLE_SHARE:
            lacking = _lacking(sentences, n, answer, keys, index, rng)
            if lacking is not None:
                out.append(Example(question, sentences[lacking].window, -1, "", s.group))
    return out


def _similar(n: int, keys: set[str], index: dict[str, set[int]]) -> list[int]:
    """Sentences sharing at least two of the question's key words, most shared first."""
    counts: dict[int, int] = defaultdict(int)
    for t in keys:
        ids = index.get(t, ())
        if len(ids) > 200:  # a common word says nothing
            continue
        for m in ids:
            if m != n:
                counts[m] += 1
    return [m for m, k in sorted(counts.items(), key=lambda kv: -kv[1]) if k >= 2][:20]


def _elsewhere(sentences, n, answer, keys, index, rng) -> int | None:
    found = [m for m in _similar(n, keys, index) if answer in sentences[m].text]
    return rng.choice(found) if found else None


def _lacking(sentences, n, answer, keys, index, rng) -> int | None:
    lower = answer.lower()
    found = [m for m in _similar(n, keys, index) if lower not in sentences[m].window.lower()]
    if found:
        return found[0]
    m = rng.randrange(len(sentences))
    return m if lower not in sentences[m].window.lower() else None


def split_held_out(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """About HELD_OUT_SHARE of the examples, whole documents at a time, kept for scoring."""
    cut = int(HELD_OUT_SHARE * 1000)
    held = [e for e in examples if zlib.crc32(e.group.encode()) % 1000 < cut]
    return [e for e in examples if zlib.crc32(e.group.encode()) % 1000 >= cut], held


def squad_examples(path: Path) -> list[Example]:
    """Labelled examples from a SQuAD-format file (its unanswerables included); a file that
    is not SQuAD is a clear error, and mis-anchored answers are re-anchored (`load_squad`)."""
    squad = load_squad(path)
    out = []
    for q in squad.questions:
        context = squad.contexts[q.context].text
        if q.answers:
            gold = q.answers[0]
            out.append(_windowed(q.text, context, gold.start, gold.text))
        elif q.impossible:
            out.append(Example(q.text, context[: WINDOW_CHARS * 2], -1, ""))
    return out


def _windowed(question: str, context: str, start: int, answer: str) -> Example:
    """A labelled answer inside a window of the size the reader reads, not the whole paragraph."""
    window, offset = windows(context, start, start + len(answer))
    return Example(question, window, offset, answer)
