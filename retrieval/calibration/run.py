"""`qa calibrate`: questions asked with and without their answer, signals, a fitted model.

Three kinds of questions, each asked with the document that answers it and without:
synthetic ones made from the index's own chunks (always), real ones people wrote about
other documents (`Reference`, given by the caller: the bundled sample's, asked in a
temporary index) and this index's users' verdicts once there are enough (verdicts.py). One
model is fitted on all of them per reader; the threshold keeps the refusal target on each
kind it trusts (confidence/calibration_record.py), so questions easier than people's cannot
set it alone.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from retrieval.calibration.verdicts import MIN_LABELS, Verdict
from retrieval.confidence.calibration_record import (
    LABELS,
    SAMPLE,
    SYNTHETIC,
    CalibrationRecord,
    Curve,
    ReaderCalibration,
    fingerprint,
    save,
)
from retrieval.confidence.model import fit, out_of_fold
from retrieval.confidence.signals import extract
from retrieval.engine import QAEngine
from retrieval.errors import InvalidQuestion, QAError
from retrieval.query.filters import Filters
from retrieval.readers import Reader
from retrieval.training.questions import SyntheticQuestion, made_questions

DEFAULT_QUESTIONS = 300  # 600 asks: 2.6 minutes on 2 busy cores (BENCHMARKS.md, refusal-bench)
MIN_QUESTIONS = 10
MIN_DOCUMENTS = 5  # fewer: leaving one out leaves too little to tell on-topic refusals apart
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Point:
    """One question asked once: the answer's signals, and whether the documents answer it."""

    signals: dict[str, float]
    answerable: bool


# Real questions about other documents, read by the given reader: (question, answerable) points.
Reference = Callable[[Reader], list[Point]]


class CalibrationFailed(QAError):
    code = "calibration_failed"


def calibrate(
    engine: QAEngine,
    questions: int = DEFAULT_QUESTIONS,
    seed: int = 0,
    readers: Sequence[str] | None = None,
    progress: Progress | None = None,
    reference: Reference | None = None,
    labels: Sequence[Verdict] = (),
) -> CalibrationRecord:
    """Fit and store the index's calibration, one model per reader (default: the configured)."""
    started = time.perf_counter()
    enough_documents(engine)
    synthetic = synthetic_questions(engine, questions, random.Random(seed))
    labels = labels if len(labels) >= MIN_LABELS else ()
    names = list(readers or [engine.reader_for(None).name])
    fitted = {}
    for r, name in enumerate(names):
        reader = engine.reader_for(name)
        points: dict[str, list[Point]] = {SYNTHETIC: []}
        for i, q in enumerate(synthetic):
            for label, filters in ((True, Filters()), (False, Filters(not_doc_ids=(q.doc_id,)))):
                points[SYNTHETIC].append(asked_point(engine, reader, q.text, label, filters))
            if progress is not None:
                progress(r * len(synthetic) + i + 1, len(names) * len(synthetic))
        if reference is not None:
            points[SAMPLE] = reference(reader)
        if labels:
            points[LABELS] = _verdict_points(engine, reader, labels)
        fitted[name] = fit_reader(points, seed, reader.version)
    record = CalibrationRecord(
        fitted,
        engine.settings.refusal_target,
        len(synthetic),
        time.perf_counter() - started,
        fingerprint(engine.index),
    )
    save(engine.index, record)
    return record


def enough_documents(engine: QAEngine) -> None:
    """CalibrationFailed when the index holds too few documents to promise a refusal rate."""
    held = sum(1 for _ in itertools.islice(engine.index.documents(), MIN_DOCUMENTS))
    if held < MIN_DOCUMENTS:
        raise CalibrationFailed(
            f"this index holds {held} document{'s' * (held != 1)}: too few to promise how "
            f"often it refuses (a calibration needs at least {MIN_DOCUMENTS}). Until then it "
            "refuses questions whose words the documents do not hold; ingest more documents, "
            "then run `qa calibrate`"
        )


def asked_point(
    engine: QAEngine,
    reader: Reader,
    question: str,
    answerable: bool,
    filters: Filters | None = None,
) -> Point:
    """The question asked of `engine`'s index, read by `reader` (maybe another index's)."""
    retrieval, reading, _ = engine.examine(question, filters=filters, reader=reader)
    return Point(extract(retrieval, reading), answerable)


def _verdict_points(engine: QAEngine, reader: Reader, labels: Sequence[Verdict]) -> list[Point]:
    """The users' questions asked again; one the engine refuses to ask now (a capture's text
    over QA_MAX_QUESTION_CHARS, say) is left out rather than failing the calibration."""
    points = []
    for verdict in labels:
        with contextlib.suppress(InvalidQuestion):
            points.append(asked_point(engine, reader, verdict.question, verdict.answerable))
    return points


def synthetic_questions(engine: QAEngine, n: int, rng: random.Random) -> list[SyntheticQuestion]:
    made = made_questions(engine.index, n, rng)
    if len(made) < min(n, MIN_QUESTIONS):
        raise CalibrationFailed(
            f"only {len(made)} synthetic questions could be made from this index (at least "
            f"{MIN_QUESTIONS} needed): ingest more documents, then run `qa calibrate` again"
        )
    return made


def fit_reader(points: dict[str, list[Point]], seed: int, version: str = "") -> ReaderCalibration:
    """The model on every point; each kind's curve from models fitted without each point."""
    kinds = [k for k, pts in points.items() if pts]
    rows = [p for k in kinds for p in points[k]]
    labels = [int(p.answerable) for p in rows]
    scores = iter(out_of_fold([p.signals for p in rows], labels, seed=seed))
    curves = {}
    for kind in kinds:
        mine = [(next(scores), p.answerable) for p in points[kind]]
        curves[kind] = Curve(
            tuple(sorted(s for s, ok in mine if ok)), tuple(sorted(s for s, ok in mine if not ok))
        )
    return ReaderCalibration(fit([p.signals for p in rows], labels), curves, version)
