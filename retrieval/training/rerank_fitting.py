"""Fitting an index's rerank weights on questions made from its own chunks, no labels needed.

Each question is generated from one chunk (the calibration's generator, reworded with the
encoder's word neighbours) and asked through hybrid retrieval; its fused candidates' rerank
features (retrieval/query/rerank.py) are kept with the row of its own chunk. A small grid around
the defaults (each weight within RADIUS of its default, in steps of 0.05, summing to 1) finds
the weights under which that chunk ranks highest (mean reciprocal rank). The search stays
small on purpose: generated questions keep their sentence's words and word pairs, so over
the whole simplex they pull the weight onto word-pair overlap, which real questions do not
reward (BENCHMARKS.md, rerank-bench: hit@5 0.768 -> 0.724 on COVID-QA). Fitting is checked
by 2-fold cross-validation: when weights fitted on one half do not beat the defaults on the
other half, the defaults are kept, so noise never replaces them.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.engine import QAEngine
from retrieval.query.filters import Filters
from retrieval.query.rerank import DEPTH, FEATURES, WEIGHTS, features, vector_of
from retrieval.query.rerank_weights import RerankRecord, save
from retrieval.training.questions import SyntheticQuestion, made_questions

DEFAULT_QUESTIONS = 400  # about 20 s on 2 busy cores
MIN_QUESTIONS = 30  # found among the candidates: fewer, and the defaults stay
GRID_STEPS = 20  # weights in steps of 1/20, summing to 1 (as the defaults do)
RADIUS = 0.1  # the most a fitted weight moves from its default
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Asked:
    """One generated question's candidates: their features, and the row of its own chunk."""

    rows: np.ndarray  # (candidates, len(FEATURES))
    gold: int  # -1 when its chunk was not among the fused candidates


def grid(steps: int = GRID_STEPS) -> np.ndarray:
    """Every weight vector on the simplex in steps of 1/steps: (combinations, features)."""
    n = len(FEATURES)
    points = [c for c in itertools.product(range(steps + 1), repeat=n - 1) if sum(c) <= steps]
    return np.array([[*c, steps - sum(c)] for c in points], dtype=np.float64) / steps


def reciprocal_ranks(asked: Sequence[Asked], weights: np.ndarray) -> np.ndarray:
    """(questions, weight vectors): 1/rank of each question's own chunk, 0 when missed.

    Ties rank as the product sorts them: equal scores keep the fused order."""
    out = np.zeros((len(asked), len(weights)))
    for i, a in enumerate(asked):
        if a.gold < 0:
            continue
        scores = a.rows @ weights.T  # (candidates, weight vectors)
        gold = scores[a.gold]
        above = (scores > gold).sum(axis=0) + (scores[: a.gold] == gold).sum(axis=0)
        out[i] = 1.0 / (1 + above)
    return out


def choose(asked: Sequence[Asked], seed: int = 0) -> tuple[dict[str, float], dict[str, float]]:
    """The weights to store and the scores behind the choice (MRR, hit@1; cross-validated)."""
    default = vector_of(WEIGHTS)
    candidates = grid()
    candidates = candidates[np.abs(candidates - default).max(axis=1) <= RADIUS + 1e-9]
    rr = reciprocal_ranks(asked, np.vstack([candidates, default]))
    rr, rr_default = rr[:, :-1], rr[:, -1]
    distance = np.abs(candidates - default).sum(axis=1)  # ties: the closest to the defaults

    def best(rows: np.ndarray) -> int:
        mrr = rr[rows].mean(axis=0)
        return int(np.lexsort((distance, -np.round(mrr, 9)))[0])

    order = np.random.default_rng(seed).permutation(len(asked))
    a, b = order[: len(order) // 2], order[len(order) // 2 :]
    crossed = np.concatenate([rr[b, best(a)], rr[a, best(b)]])
    chosen = best(np.arange(len(asked)))
    fitted = rr[:, chosen]
    scores = {
        "mrr_default": float(rr_default.mean()),
        "hit1_default": float((rr_default == 1).mean()),
        "mrr_fitted": float(fitted.mean()),
        "hit1_fitted": float((fitted == 1).mean()),
        "mrr_cross_validated": float(crossed.mean()),
    }
    if scores["mrr_cross_validated"] <= scores["mrr_default"]:
        return dict(WEIGHTS), {**scores, "kept_defaults": 1.0}
    weights = {
        name: round(float(w), 4) for name, w in zip(FEATURES, candidates[chosen], strict=True)
    }
    return weights, {**scores, "kept_defaults": 0.0}


def ask_all(
    engine: QAEngine,
    questions: Sequence[SyntheticQuestion],
    progress: Progress | None = None,
    deadline: float = float("inf"),
) -> list[Asked]:
    """Each question's fused candidates and features, until the deadline (monotonic)."""
    asked: list[Asked] = []
    retriever = engine.retriever
    for b in range(0, len(questions), 32):
        part = questions[b : b + 32]
        vectors = engine.embedder.embed([q.text for q in part])
        for q, vector in zip(part, vectors, strict=True):
            hits = retriever.candidates(q.text, vector, DEPTH, Filters())[:DEPTH]
            gold = next((i for i, h in enumerate(hits) if h.key == q.key), -1)
            asked.append(Asked(features(q.text, hits), gold))
        if progress is not None:
            progress(len(asked), len(questions))
        if time.monotonic() > deadline:
            break
    return asked


def fit_weights(
    engine: QAEngine,
    questions: int = DEFAULT_QUESTIONS,
    seed: int = 0,
    progress: Progress | None = None,
    seconds: float = float("inf"),
) -> RerankRecord | None:
    """Fit, store and return the index's rerank weights; None (nothing stored) when too few
    generated questions found their chunk among the candidates."""
    started = time.monotonic()
    made = made_questions(engine.index, questions, random.Random(seed), reuse=False)
    asked = ask_all(engine, made, progress, started + seconds)
    found = [a for a in asked if a.gold >= 0]
    if len(found) < MIN_QUESTIONS:
        return None
    weights, scores = choose(asked, seed)
    index = engine.index
    record = RerankRecord(
        weights,
        len(found),
        {**scores, "asked": float(len(asked))},
        index.schema.model,
        index.count_chunks(),
        time.monotonic() - started,
    )
    save(index, record)
    engine.rerank_weights.refresh()
    return record


def describe(record: RerankRecord | None) -> str:
    if record is None:
        return (
            f"rerank weights: too few generated questions found their chunk (at least "
            f"{MIN_QUESTIONS} needed); the default weights stay"
        )
    s = record.scores
    kept = " (the defaults: fitted ones did not beat them on held-out questions)"
    return (
        f"rerank weights {_fmt(record.weights)}{kept if s.get('kept_defaults') else ''}, "
        f"from {record.questions} generated questions in {record.seconds:.0f}s: their own "
        f"chunk's MRR {s['mrr_default']:.3f} -> {s['mrr_fitted']:.3f} "
        f"(cross-validated {s['mrr_cross_validated']:.3f}), hit@1 {s['hit1_default']:.3f} -> "
        f"{s['hit1_fitted']:.3f}"
    )


def _fmt(weights: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {weights[k]:.2f}" for k in FEATURES)
