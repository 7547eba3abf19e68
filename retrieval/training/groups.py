"""Training groups: one question with the passages retrieval gives it, labelled.

The reader answers from several passages at once, so it learns from several at once: the
passages `retrieval.readers.passages` picks for the question from what the index retrieves,
those that hold the answer labelled with it, the others with "no answer" ([CLS]), and the
scores of the whole group normalised together (shared normalization). A group where no
passage holds the answer teaches the model to say so.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from retrieval.readers.passages import Passage, window
from retrieval.readers.span_decoding import MAX_LENGTH
from retrieval.sentences import sentences_of
from retrieval.text import terms


@dataclass(frozen=True)
class Group:
    question: str
    contexts: tuple[str, ...]
    # (context, start, end) character spans of the answer; none: no context answers
    answers: tuple[tuple[int, int, int], ...] = ()
    origin: str = ""  # squad | generated | labelled | feedback: what `--status` counts

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class Gold:
    """Where an answer lies: a document and its character span, or text to find."""

    doc_id: str
    start: int  # in the document's text; -1: anywhere its text appears in a passage
    end: int
    text: str


def group_for(
    question: str,
    chosen: Sequence[Passage],
    gold: Gold | None,
    *,
    size: int,
    fallback: str | None = None,
    rng: random.Random,
    origin: str = "",
) -> Group | None:
    """A group of at most `size` passages: those of `chosen` holding the gold answer, then the
    best that do not. `fallback`, a passage of the gold's own text, stands in when retrieval
    missed it. A passage holding the answer's words elsewhere is left out: it is not wrong.
    None when the answer is nowhere to be read and there is no fallback."""
    positives: list[tuple[str, int, int]] = []
    negatives: list[str] = []
    keys = terms(question)
    for p in chosen:
        text = p.text
        at = text.lower().find(gold.text.lower()) if gold is not None and gold.text else -1
        if (
            gold is not None
            and gold.start >= 0
            and p.hit.doc_id == gold.doc_id
            and p.holds(gold.start, gold.end)
        ):
            a = gold.start - p.hit.start - p.start
            positives.append((text, a, a + gold.end - gold.start))
        elif at < 0:
            negatives.append(text)
        elif (
            gold is not None
            and gold.start < 0
            and (p.hit.doc_id == gold.doc_id or len(keys & terms(text)) >= 2)
        ):  # a generated question: a passage of its document, or one on its topic, answers
            positives.append((text, at, at + len(gold.text)))
    if gold is not None and not positives:
        if fallback is None:
            return None
        a = fallback.find(gold.text)
        if a < 0:
            return None
        positives.append((fallback, a, a + len(gold.text)))
    contexts: list[tuple[str, tuple[int, int] | None]] = [(t, (a, b)) for t, a, b in positives]
    contexts = contexts[: max(1, size - 1)] if negatives else contexts[:size]
    contexts += [(t, None) for t in negatives[: size - len(contexts)]]
    if not contexts:
        return None
    rng.shuffle(contexts)
    answers = tuple((i, s[0], s[1]) for i, (_, s) in enumerate(contexts) if s is not None)
    return Group(question, tuple(t for t, _ in contexts), answers, origin)


def gold_window(text: str, start: int, end: int) -> tuple[str, int]:
    """The passage around text[start:end] as the reader would cut it, and its offset."""
    spans = sentences_of(text)
    first = next((s for s, e in spans if s <= start < e), start)
    last = next((e for s, e in spans if s < end <= e), end)
    a, b = window(text, first, last)
    return text[a:b], a


# -- features ---------------------------------------------------------------------------------


def features(tokenizer: Any, groups: Sequence[Group]) -> list[dict[str, Any]]:
    """Token ids of every (question, passage) row with its answer's token targets; a group
    whose every answer was cut off by truncation is dropped."""
    rows = [(g.question, c) for g in groups for c in g.contexts]
    if not rows:
        return []
    enc = tokenizer(
        [q for q, _ in rows],
        [c for _, c in rows],
        truncation="only_second",
        max_length=MAX_LENGTH,
        return_offsets_mapping=True,
    )
    out = []
    r = 0
    for g in groups:
        ids, types, starts, ends = [], [], [], []
        for i in range(len(g.contexts)):
            ids.append(enc["input_ids"][r + i])
            types.append(enc["token_type_ids"][r + i])
            for c, a, b in g.answers:
                if c == i and (t := _targets(enc, r + i, a, b)) is not None:
                    starts.append((i, t[0]))
                    ends.append((i, t[1]))
        r += len(g.contexts)
        if g.answers and not starts:
            continue
        if not g.answers:  # "no answer": every passage's [CLS]
            starts = ends = [(i, 0) for i in range(len(g.contexts))]
        out.append({"input_ids": ids, "token_type_ids": types, "starts": starts, "ends": ends})
    return out


def _targets(enc: Any, row: int, a: int, b: int) -> tuple[int, int] | None:
    ids, offsets = enc.sequence_ids(row), enc["offset_mapping"][row]
    start = end = None
    for i, (s, t) in enumerate(offsets):
        if ids[i] != 1:
            continue
        if start is None and (s <= a < t or s >= a):
            start = i
        if s < b:
            end = i
    if start is None or end is None or end < start or offsets[end][1] < b:
        return None
    return start, end
