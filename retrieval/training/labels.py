"""What users taught the product, as training data: 👍 on answers, corrections, captures.

A label is a question, the text that answers it and the passage it was read from (kept as
it was, since documents change). `qa train-reader` asks each labelled question against the
index like any other, so the model learns to find the answer among the passages it really
retrieves; where retrieval no longer finds the passage, the kept one stands in.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from retrieval.readers import passages as passage_choice
from retrieval.training.groups import Gold, Group, gold_window, group_for

if TYPE_CHECKING:
    from retrieval.engine import QAEngine

GROUP_SIZE = 3
PER_USER = 200  # labels one person can add to a training run: a flood cannot steer it


@dataclass(frozen=True)
class Label:
    question: str
    answer: str  # verbatim in `passage`
    passage: str  # the text it was read from
    doc_id: str = ""
    user: str = ""
    origin: str = ""  # slack | http | capture


def usable(labels: list[Label]) -> list[Label]:
    """Labels whose answer is in their passage, at most PER_USER per person, newest kept."""
    per_user: Counter[str] = Counter()
    out = []
    for label in reversed(labels):
        if not label.answer.strip() or label.answer not in label.passage:
            continue
        per_user[label.user] += 1
        if per_user[label.user] <= PER_USER:
            out.append(label)
    return out[::-1]


def label_groups(engine: QAEngine, labels: list[Label], rng: random.Random) -> list[Group]:
    """Each usable label with the passages its question retrieves from the index."""
    labels = usable(labels)
    out = []
    for label, found in zip(
        labels, engine.retrieve_many([x.question for x in labels]), strict=True
    ):
        chosen = passage_choice.passages(label.question, found.hits)
        at = label.passage.index(label.answer)
        fallback, _ = gold_window(label.passage, at, at + len(label.answer))
        gold = Gold(label.doc_id, -1, -1, label.answer)
        group = group_for(
            label.question,
            chosen,
            gold,
            size=GROUP_SIZE,
            fallback=fallback,
            rng=rng,
            origin="feedback",
        )
        if group is not None:
            out.append(group)
    return out
