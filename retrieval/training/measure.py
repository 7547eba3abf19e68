"""How well a reader answers labelled questions, asked the way the product asks them.

Retrieval on the index, the reader's passages, its answer: exact match and F1 of the answer,
and whether the sentence shown around it holds the gold answer. Training measures its
stages with it, and fits the weight of the passages' retrieval prior with it, so
`qa train-reader --status` reports what users would get.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from retrieval.engine import QAEngine
from retrieval.readers.passages import passages
from retrieval.readers.span_decoding import Predict
from retrieval.readers.trained import TrainedReader, rank_answers
from retrieval.sentences import context_of
from retrieval.training.metrics import best_over, contains, exact_match, f1
from retrieval.training.squad import SquadSet


def measure(
    engine: QAEngine,
    tokenizer: Any,
    predict: Predict,
    squad: SquadSet,
    limit: int,
    seed: int,
    prior_weights: Sequence[float] = (0.0,),
) -> dict[float, dict[str, float]]:
    """EM, F1 and context (holds the gold) over up to `limit` of the set's answerable
    questions, for each prior weight (the model reads each question once)."""
    reader = TrainedReader(tokenizer, predict, {})
    asked = [q for q in squad.questions if q.answers]
    asked = random.Random(seed).sample(asked, min(limit, len(asked)))
    sums = {w: [0.0, 0.0, 0.0] for w in prior_weights}
    for q, found in zip(asked, engine.retrieve_many([q.text for q in asked]), strict=True):
        chosen = passages(q.text, found.hits)
        group = reader.score(q.text, chosen) if chosen else None
        golds = [g.text for g in q.answers]
        for w in prior_weights:
            ranked = rank_answers(chosen, group, w) if group is not None else []
            if ranked:
                span = ranked[0]
                a, b = context_of(span.hit.text, span.start, span.end)
                sums[w][0] += best_over(exact_match, span.text, golds)
                sums[w][1] += best_over(f1, span.text, golds)
                sums[w][2] += best_over(contains, span.hit.text[a:b], golds)
    n = max(len(asked), 1)
    return {
        w: {
            "em": round(em / n, 3),
            "f1": round(f / n, 3),
            "context": round(c / n, 3),
            "n": len(asked),
        }
        for w, (em, f, c) in sums.items()
    }
