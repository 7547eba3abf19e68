"""`qa train`: everything the index can learn from its own documents, in one time budget.

In order, each using what the one before learnt: the reranker's weights (fitted on questions
generated from the index's chunks), the reader (as `qa train-reader`) and the refusal
calibration (as `qa calibrate`). One run per index at a time (the training lock).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from tqdm import tqdm

from bot.commands.common import echo_json, settings_of
from bot.commands.train_reader import CALIBRATED, describe, reader_options
from retrieval.engine import QAEngine
from retrieval.training import rerank_fitting
from workflows.calibration import calibrate_index
from workflows.training import general_stage, train, training_lock

EXTRA_MINUTES = 5.0  # beyond the reader's QA_TRAIN_MINUTES: the reranker and the calibration
CALIBRATION_MINUTES = 4.0  # kept for the calibration at the end (3-5 minutes, README)
RERANK_SHARE = 0.1  # of the budget, at most, for the reranker's questions


class BudgetBar:
    """One progress bar over the whole budget; each stage says what it is doing."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.began, self.stage = seconds, time.monotonic(), ""
        self.show = sys.stderr.isatty()
        self.bar = tqdm(
            total=100,
            unit="%",
            disable=not self.show,
            file=sys.stderr,
            bar_format="{l_bar}{bar}| {postfix}",
        )

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.began)

    def start(self, stage: str) -> None:
        self.stage = stage
        self.tick("")

    def tick(self, detail: str) -> None:
        spent = time.monotonic() - self.began
        self.bar.update(min(99, int(100 * spent / self.seconds)) - self.bar.n)
        left = max(0.0, self.left())
        self.bar.set_postfix_str(
            f"{self.stage}{': ' + detail if detail else ''}, "
            f"{left // 60:.0f}m{left % 60:02.0f}s left"
        )

    def counted(self, done: int, total: int) -> None:
        self.tick(f"{done}/{total}")

    def training(self, p: dict[str, float]) -> None:
        self.tick(f"{p['seen'] / max(p['elapsed'], 1e-9):.1f} ex/s, loss {p['loss']:.2f}")

    def say(self, message: str) -> None:
        if self.show:
            tqdm.write(message, file=sys.stderr)


@click.command(name="train")
@click.option(
    "--minutes",
    type=click.FloatRange(min=6),
    default=None,
    help="The whole budget: reranker, reader and calibration [default: QA_TRAIN_MINUTES + 5, 25].",
)
@reader_options
@click.option(
    "--rerank-questions",
    type=click.IntRange(min=50),
    default=rerank_fitting.DEFAULT_QUESTIONS,
    show_default=True,
    help="Questions generated to fit the reranker.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was trained as JSON.")
@click.pass_context
def train_command(
    ctx: click.Context,
    minutes: float | None,
    seed: int,
    squad: tuple[Path, ...],
    base: str,
    rerank_questions: int,
    as_json: bool,
) -> None:
    """Train everything this index can learn: reranker, reader, then refusals.

    Servers on this index pick each part up without a restart; an interrupted run leaves the
    previous models in use.
    """
    settings = settings_of(ctx)
    engine = QAEngine(settings)
    budget = 60 * (minutes or settings.train_minutes + EXTRA_MINUTES)
    with training_lock(engine, "qa train"):
        bar = BudgetBar(budget)
        try:
            done = _train_all(engine.warm_up(), bar, seed, list(squad), base, rerank_questions)
        finally:
            bar.bar.close()
    if as_json:
        echo_json(done)
        return
    click.echo(done["rerank_text"])
    click.echo(describe(done["reader"]))
    click.echo(
        f"calibrated refusals for the {' and '.join(CALIBRATED)} readers in "
        f"{done['calibration_seconds']:.0f}s"
    )


def _train_all(
    engine: QAEngine, bar: BudgetBar, seed: int, squad: list[Path], base: str, questions: int
) -> dict:
    bar.start("reranker")
    record = rerank_fitting.fit_weights(
        engine, questions, seed, bar.counted, RERANK_SHARE * bar.seconds
    )
    bar.say(rerank_fitting.describe(record))
    bar.start("reader, general stage")  # cached after the first run on a machine
    general_stage(engine, base=base, seed=seed, say=bar.say, progress=bar.training)
    reader_minutes = max(1.0, (bar.left() / 60) - CALIBRATION_MINUTES)
    bar.start(f"reader ({reader_minutes:.1f} minutes)")
    manifest = train(
        engine,
        minutes=reader_minutes,
        seed=seed,
        squad=squad,
        base=base,
        say=bar.say,
        progress=bar.training,
    )
    bar.start("refusal calibration")
    calibration = calibrate_index(engine, readers=CALIBRATED, seed=seed, progress=bar.counted)
    bar.tick("done")
    return {
        "rerank": None if record is None else {"weights": record.weights, **record.scores},
        "rerank_text": rerank_fitting.describe(record),
        "reader": manifest,
        "calibration_seconds": round(calibration.seconds, 1),
    }


COMMANDS = [train_command]
