"""Training the reader end to end: the general stage (once per machine), then the index's.

It lives in `workflows/` because the general stage ingests the bundled sample into a
temporary index, and ingesting is `ingest`'s job, which `retrieval` does not know (as
`evaluation.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from retrieval.embedding.model_files import resolve_model_path
from retrieval.engine import QAEngine
from retrieval.errors import ModelUnavailable
from retrieval.feedback import FeedbackStore
from retrieval.readers.span_decoding import Predict
from retrieval.training import general, real_questions, shipped
from retrieval.training import measure as measuring
from retrieval.training.lock import TrainingLock
from retrieval.training.paraphrase import DEFAULT_BASE
from retrieval.training.pipeline import train_reader
from retrieval.training.trainer import Progress
from workflows.calibration import sample_index
from workflows.evaluation import doc_id_of

Say = Callable[[str], None]
# The first run on a machine trains the general stage too: all of it, the calibration after
# it included (2-4 minutes), fits in 30 minutes; the index stage gives up what the general
# one took.
FIRST_RUN_MINUTES = 26.0


def general_stage(
    engine: QAEngine,
    *,
    base: str = DEFAULT_BASE,
    seed: int = 0,
    say: Say = print,
    progress: Progress | None = None,
) -> general.GeneralStage:
    """The shipped reader for the packaged encoder; for another base model, the cached
    general stage, trained first if there is none (or its cache is damaged: never used then)."""
    settings = engine.settings
    if base == DEFAULT_BASE and settings.shipped_reader is not None:
        try:
            return general.from_shipped(
                resolve_model_path(base), settings.data_dir, settings.shipped_reader, seed
            )
        except ModelUnavailable as e:
            say(f"{e}; meanwhile learning to read from the bundled sample alone")
    key = general.cache_key(base, engine.embedder.identity)
    stage, why = general.cached(settings.data_dir, key)
    if stage is not None:
        return stage
    say(
        f"general stage: {why}; learning to read from {general.SAMPLE.name} "
        f"(about {general.MINUTES:.0f} minutes, once per machine)"
    )
    with sample_index(engine) as sample:
        return general.train_general(
            sample,
            doc_id_of,
            settings.data_dir,
            key,
            base=resolve_model_path(base),
            seed=seed,
            say=say,
            progress=progress,
            threads=settings.train_threads,
        )


def train(
    engine: QAEngine,
    *,
    minutes: float,
    seed: int = 0,
    squad: list[Path] | None = None,
    base: str = DEFAULT_BASE,
    say: Say = print,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Both stages for `engine`'s index, with every label users gave; the published manifest."""
    began = time.monotonic()
    stage = general_stage(engine, base=base, seed=seed, say=say, progress=progress)
    spent = (time.monotonic() - began) / 60
    if spent > 1:  # trained just now
        minutes = min(minutes, max(minutes / 2, FIRST_RUN_MINUTES - spent))
        say(f"index stage: {minutes:.1f} minutes (the general stage took {spent:.1f})")
    labels = FeedbackStore(engine.index.client, engine.settings.key_prefix).labels()
    return train_reader(
        engine,
        engine.settings.data_dir,
        stage,
        minutes=minutes,
        seed=seed,
        squad=squad,
        labels=labels,
        say=say,
        progress=progress,
        threads=engine.settings.train_threads,
    )


def training_lock(engine: QAEngine, command: str) -> TrainingLock:
    """The index's training lock (`with training_lock(engine, "qa train"):`): TrainingBusy,
    naming the holder, when another run trains this index."""
    return TrainingLock.of(engine.index, command)


def build_shipped(
    engine: QAEngine,
    out: Path,
    work: Path,
    *,
    base: str = DEFAULT_BASE,
    seed: int = 0,
    names: list[str] | None = None,
    limit: int | None = None,
    snapshots: list[int] | None = None,
    checkpoint_every: int | None = None,
    measure: bool = True,
    say: Say = print,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """`qa train-reader --general`: the reader the product ships, trained on every bundled
    real question, its retrieval prior fitted and its answers measured on the sample's
    questions it never trained on, asked through a temporary index of the sample."""
    options = {
        "base": resolve_model_path(base),
        "seed": seed,
        "names": names,
        "limit": limit,
        "threads": engine.settings.train_threads,
        "say": say,
        "progress": progress,
        "snapshots": snapshots or (),
        "checkpoint_every": checkpoint_every,
    }
    if not measure:
        return shipped.build(out, work, **options)
    sample_part = next(p for p in real_questions.parts([real_questions.SAMPLE.name]))
    with sample_index(engine) as sample:

        def fit(tokenizer: Any, predict: Predict) -> float:
            fit_on = sample_part.fit
            fitted = measuring.measure(
                sample,
                tokenizer,
                predict,
                fit_on,
                len(fit_on.questions),
                seed,
                general.PRIOR_WEIGHTS,
            )
            say(f"retrieval prior: {fitted}")
            return max(general.PRIOR_WEIGHTS, key=lambda w: (fitted[w]["f1"], -w))

        def measured(tokenizer: Any, predict: Predict, weight: float) -> dict[str, Any]:
            held = sample_part.held
            return measuring.measure(
                sample, tokenizer, predict, held, general.MEASURED, seed, (weight,)
            )[weight]

        return shipped.build(out, work, fit=fit, measure=measured, **options)
