"""`qa calibrate`: synthetic questions asked twice each, signals, a fitted model, stored."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence

from retrieval.calibration.model import auroc, fit, out_of_fold
from retrieval.calibration.questions import (
    SyntheticQuestion,
    question_about,
    reworded,
    sample_chunks,
)
from retrieval.calibration.record import (
    CalibrationRecord,
    ReaderCalibration,
    fingerprint,
    save,
)
from retrieval.calibration.signals import extract
from retrieval.engine import QAEngine
from retrieval.errors import QAError
from retrieval.filters import Filters
from retrieval.training.paraphrase import Paraphraser
from retrieval.training.pipeline import DEFAULT_BASE

DEFAULT_QUESTIONS = 300  # 600 asks: 2.6 minutes on 2 busy cores (BENCHMARKS.md, refusal-bench)
MIN_QUESTIONS = 10
Progress = Callable[[int, int], None]


class CalibrationFailed(QAError):
    code = "calibration_failed"


def calibrate(
    engine: QAEngine,
    questions: int = DEFAULT_QUESTIONS,
    seed: int = 0,
    readers: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> CalibrationRecord:
    """Fit and store the index's calibration, one model per reader (default: the configured)."""
    started = time.perf_counter()
    synthetic = synthetic_questions(engine, questions, random.Random(seed))
    names = list(readers or [engine.reader_for(None).name])
    fitted = {}
    for r, name in enumerate(names):
        rows, labels = [], []
        for i, q in enumerate(synthetic):
            for label, filters in ((1, Filters()), (0, Filters(not_doc_ids=(q.doc_id,)))):
                retrieval, reading, _ = engine.examine(q.text, filters=filters, reader=name)
                rows.append(extract(retrieval, reading))
                labels.append(label)
            if progress is not None:
                progress(r * len(synthetic) + i + 1, len(names) * len(synthetic))
        fitted[name] = fit_reader(rows, labels, seed)
    record = CalibrationRecord(
        fitted, engine.settings.refusal_target, len(synthetic), time.perf_counter() - started,
        fingerprint(engine.index),
    )  # fmt: skip
    save(engine.index, record)
    return record


def synthetic_questions(engine: QAEngine, n: int, rng: random.Random) -> list[SyntheticQuestion]:
    made = []
    for doc_id, text in sample_chunks(engine.index, 2 * n, rng):
        if (q := question_about(doc_id, text, rng)) is not None:
            made.append(q)
        if len(made) == n:
            break
    if len(made) < min(n, MIN_QUESTIONS):
        raise CalibrationFailed(
            f"only {len(made)} synthetic questions could be made from this index (at least "
            f"{MIN_QUESTIONS} needed): ingest more documents, then run `qa calibrate` again"
        )
    return reworded(made, Paraphraser.from_base(DEFAULT_BASE), rng)


def fit_reader(rows: list[dict[str, float]], labels: list[int], seed: int) -> ReaderCalibration:
    """The model on every row; the stored confidences from models fitted without each row."""
    scores = out_of_fold(rows, labels, seed=seed)
    answerable = sorted(s for s, y in zip(scores, labels, strict=True) if y)
    unanswerable = sorted(s for s, y in zip(scores, labels, strict=True) if not y)
    return ReaderCalibration(
        fit(rows, labels), tuple(answerable), tuple(unanswerable), auroc(answerable, unanswerable)
    )
