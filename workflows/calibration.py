"""Calibrating refusals end to end: the index's own questions, people's and its users'.

Synthetic questions are easier than people's (BENCHMARKS.md, refusals: a threshold set on them
alone refused twice its target of real answerable questions), so the calibration also asks
real questions: those the bundled sample's held-out articles come with, which no reader stage
trains on, in a temporary index of the sample's articles, each with its article and without
it, read by this index's own reader. Half of those questions are kept for measuring
(`measured_half`), never asked here. It lives in `workflows/` because the temporary index
is ingested, which `retrieval` does not know (as `training.py`).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager

from retrieval.calibration.run import (
    DEFAULT_QUESTIONS,
    Point,
    Progress,
    Reference,
    asked_point,
    calibrate,
)
from retrieval.calibration.verdicts import verdicts
from retrieval.confidence.calibration_record import CalibrationRecord
from retrieval.engine import QAEngine
from retrieval.feedback import FeedbackStore
from retrieval.index import temporary
from retrieval.query.filters import Filters
from retrieval.readers import Reader
from retrieval.training import general
from retrieval.training.squad import Question, SquadSet
from workflows.evaluation import doc_id_of, squad_index

REAL_QUESTIONS = 150  # each asked twice: about a minute per reader, the sample's ingest apart


def calibrate_index(
    engine: QAEngine,
    *,
    questions: int = DEFAULT_QUESTIONS,
    seed: int = 0,
    readers: Sequence[str] | None = None,
    progress: Progress | None = None,
    real_questions: int = REAL_QUESTIONS,
) -> CalibrationRecord:
    """`qa calibrate`: synthetic, real (`real_questions` of them; 0: none) and users' ones.
    First drops the temporary indexes that killed calibrations left behind."""
    temporary.sweep(engine.index.client)
    labels = verdicts(FeedbackStore(engine.index.client, engine.settings.key_prefix).export())
    if not real_questions:
        return calibrate(engine, questions, seed, readers, progress, labels=labels)
    with sample_reference(engine, real_questions, seed) as reference:
        return calibrate(engine, questions, seed, readers, progress, reference, labels)


@contextmanager
def sample_index(engine: QAEngine) -> Iterator[QAEngine]:
    """The bundled sample's articles, one document each, in a temporary index."""
    train, held = general.sample_sets()
    articles = SquadSet("squad-sample", train.contexts + held.contexts, [])
    with squad_index(articles, engine.settings, engine) as built:
        yield built.engine


@contextmanager
def sample_reference(engine: QAEngine, n: int, seed: int = 0) -> Iterator[Reference]:
    """Reads `n` real questions, each with its article in the index and without it; the
    sample's index is built at the first reading (never, when the calibration stops before)."""
    held = general.sample_sets()[1]
    half = calibration_half(held)
    asked = random.Random(seed).sample(half, min(n, len(half)))
    with ExitStack() as stack:
        sample: QAEngine | None = None

        def reference(reader: Reader) -> list[Point]:
            nonlocal sample
            if sample is None:
                sample = stack.enter_context(sample_index(engine))
            points = []
            for q in asked:
                article = doc_id_of(held.contexts[q.context])
                points.append(asked_point(sample, reader, q.text, True))
                points.append(
                    asked_point(sample, reader, q.text, False, Filters(not_doc_ids=(article,)))
                )
            return points

        yield reference


def calibration_half(held: SquadSet) -> list[Question]:
    """The held-out articles' questions the calibration may ask: every other one."""
    return held.questions[::2]


def measured_half(held: SquadSet) -> SquadSet:
    """The other questions of the held-out articles: for benchmarks of refusal, unseen."""
    return SquadSet(held.name, held.contexts, held.questions[1::2])
