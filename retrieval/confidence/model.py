"""A small logistic regression in numpy (standardised features, L2), and the confidence value.

Newton's method on a dozen features and a few hundred rows takes milliseconds; predicting is
a dot product. Out-of-fold predictions give honest scores for picking the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

L2 = 1.0  # on standardised features: a mild pull towards 0, enough for collinear signals
ITERATIONS = 50


@dataclass(frozen=True)
class LogisticModel:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def predict(self, signals: Mapping[str, float]) -> float:
        """The chance, 0..1, that the question is answerable; a missing signal counts as usual."""
        z = self.intercept
        for name, mean, scale, coef in zip(
            self.features, self.mean, self.scale, self.coef, strict=True
        ):
            value = signals.get(name)
            if value is not None and math.isfinite(value):
                z += coef * (value - mean) / scale
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LogisticModel:
        lists = [tuple(d[k]) for k in ("features", "mean", "scale", "coef")]
        if len({len(x) for x in lists}) != 1:
            raise ValueError("features, mean, scale and coef differ in length")
        nums = [float(x) for x in (*lists[1], *lists[2], *lists[3], d["intercept"])]
        if not all(math.isfinite(x) for x in nums) or min(lists[2], default=1) <= 0:
            raise ValueError("a coefficient is not a finite number")
        return cls(tuple(map(str, lists[0])), *lists[1:], float(d["intercept"]))  # type: ignore[arg-type]


def fit(
    rows: Sequence[Mapping[str, float]], labels: Sequence[int], l2: float = L2
) -> LogisticModel:
    """Fit on the features every row has (a reader's optional ones only when present)."""
    names = tuple(sorted({n for r in rows for n in r} - _missing_somewhere(rows)))
    x = np.array([[r[n] for n in names] for r in rows], dtype=float)
    y = np.asarray(labels, dtype=float)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the intercept is not pulled
    for _ in range(ITERATIONS):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -50, 50)))
        gradient = z.T @ (p - y) + penalty * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return LogisticModel(names, tuple(mean), tuple(scale), tuple(w[:-1]), float(w[-1]))


def out_of_fold(
    rows: Sequence[Mapping[str, float]], labels: Sequence[int], folds: int = 5, seed: int = 0
) -> list[float]:
    """Each row's confidence from a model fitted without it: the scores a new question gets."""
    order = np.random.default_rng(seed).permutation(len(rows))
    scores = [0.0] * len(rows)
    for f in range(folds):
        test = set(order[f::folds].tolist())
        model = fit(
            [rows[i] for i in order if i not in test], [labels[i] for i in order if i not in test]
        )
        for i in test:
            scores[i] = model.predict(rows[i])
    return scores


def _missing_somewhere(rows: Sequence[Mapping[str, float]]) -> set[str]:
    names = {n for r in rows for n in r}
    return {n for n in names if any(n not in r or not math.isfinite(r[n]) for r in rows)}


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """Chance that a random positive scores above a random negative (ties count half)."""
    if not positives or not negatives:
        return float("nan")
    neg = np.sort(np.asarray(negatives, dtype=float))
    pos = np.asarray(positives, dtype=float)
    below = np.searchsorted(neg, pos, side="left")
    ties = np.searchsorted(neg, pos, side="right") - below
    return float((below + 0.5 * ties).sum() / (len(pos) * len(neg)))


@dataclass(frozen=True)
class Confidence:
    """How sure the engine is, and below what it refuses; `calibrated` says if it is 0..1."""

    value: float
    threshold: float | None  # None: no confidence threshold (an uncalibrated index)
    calibrated: bool
    status: str  # what the explanation says about the index's calibration
    detail: dict[str, Any] = field(default_factory=dict)
    covered: bool = True  # uncalibrated: the documents hold the question's words (coverage.py)

    @property
    def refuses(self) -> bool:
        return not self.covered or (self.threshold is not None and self.value < self.threshold)
