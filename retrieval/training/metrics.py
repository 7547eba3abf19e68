"""Answer-quality metrics (EM, F1, containment, over text.normalize_answer) and percentiles.

Pure functions over strings and numbers, so the evaluation's numbers can be checked by hand.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

from retrieval.text import normalize_answer


def exact_match(prediction: str, gold: str) -> float:
    """1.0 when both normalise to the same text."""
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction: str, gold: str) -> float:
    """Token-overlap F1 of the normalised texts (1.0 when both are empty, as in SQuAD 2.0)."""
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def contains(prediction: str, gold: str) -> float:
    """1.0 when the normalised gold answer appears, as whole words, in the normalised prediction.

    Whole words, so that a gold "5" is not found inside a predicted "15".
    """
    ref = normalize_answer(gold)
    return float(bool(ref) and f" {ref} " in f" {normalize_answer(prediction)} ")


def best_over(metric: Callable[[str, str], float], prediction: str, golds: Sequence[str]) -> float:
    """The metric against the closest of several gold answers (0.0 when there are none)."""
    return max((metric(prediction, gold) for gold in golds), default=0.0)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolating linearly between ranks like numpy's default."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be between 0 and 100, not {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
