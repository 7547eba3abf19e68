"""`qa calibrate`: fit when to refuse, on the index's own synthetic questions (no labels)."""

from __future__ import annotations

import sys

import click

from bot.commands.common import echo_json, settings_of
from retrieval.calibration.run import DEFAULT_QUESTIONS
from retrieval.calibration.status import curve_lines, summary
from retrieval.choices import READERS
from retrieval.confidence.calibration_record import CorruptCalibration, load
from retrieval.engine import QAEngine
from workflows.calibration import REAL_QUESTIONS, calibrate_index
from workflows.training import training_lock


@click.command(name="calibrate")
@click.option(
    "--questions",
    type=click.IntRange(10, 5000),
    default=DEFAULT_QUESTIONS,
    show_default=True,
    help="Synthetic questions to make (each is asked twice).",
)
@click.option(
    "--real-questions",
    type=click.IntRange(0, 385),
    default=REAL_QUESTIONS,
    show_default=True,
    help="Questions people wrote about the bundled sample's articles (0: none).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Which chunks are drawn.")
@click.option(
    "--reader",
    "readers",
    multiple=True,
    type=click.Choice(READERS[1:]),
    help="Reader(s) to calibrate; default: the configured one.",
)
@click.option("--status", is_flag=True, help="Print the stored calibration and its curve.")
@click.option("--json", "as_json", is_flag=True, help="With --status: print JSON.")
@click.pass_context
def calibrate_command(
    ctx: click.Context,
    questions: int,
    real_questions: int,
    seed: int,
    readers: tuple[str, ...],
    status: bool,
    as_json: bool,
) -> None:
    """Learn when this index's answers are trustworthy, and when to refuse instead.

    Questions made from the index's chunks, real questions about the bundled sample's
    articles (in a temporary index) and, once there are 30, your users' 👍/👎 verdicts are
    asked with and without the document that answers them; a small model of the answers'
    signals turns `score` into a confidence in 0..1, refusing below the threshold that keeps
    QA_REFUSAL_TARGET of answerable questions refused, on the index's own questions and on
    real ones. Running workers pick the result up within seconds.
    """
    engine = QAEngine(settings_of(ctx))
    if status:
        return show_status(engine, as_json)
    with training_lock(engine, "qa calibrate"):  # a training calibrates at its end
        click.echo(
            "asking this index's own questions, then real ones in a temporary index of the "
            "bundled sample (a few minutes)",
            err=True,
        )
        with click.progressbar(length=1, label="asking", file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.length = total
                bar.update(done - bar.pos)

            record = calibrate_index(
                engine.warm_up(),
                questions=questions,
                seed=seed,
                readers=readers or None,
                progress=progress,
                real_questions=real_questions,
            )
    click.echo(f"calibrated in {record.seconds:.0f}s")
    click.echo("\n".join(curve_lines(record, engine.settings.refusal_target)))


def show_status(engine: QAEngine, as_json: bool) -> None:
    target = engine.settings.refusal_target
    info = summary(engine.index, target)
    if as_json:
        return echo_json(info)
    if info["state"] == "corrupt":
        raise click.ClickException(info["message"])
    labels = info["labels"]
    users = (
        f"users' verdicts: {labels['verdicts']} ({labels['answerable']} answerable), "
        f"used from {labels['used_from']}"
    )
    if info["state"] != "calibrated":
        return click.echo(f"{info['message']}\n{users}")
    changed = (
        " (the index changed since: run `qa calibrate` again)"
        if info["index_changed_since"]
        else ""
    )
    click.echo(
        f"calibrated {info['created']} from {info['synthetic_questions']} synthetic "
        f"questions and real ones in {info['seconds']:.0f}s{changed}\n{users}"
    )
    try:
        record = load(engine.index)
    except CorruptCalibration as e:  # replaced in between: say so rather than crash
        raise click.ClickException(str(e)) from e
    if record is not None:
        click.echo("\n".join(curve_lines(record, target)))


COMMANDS = [calibrate_command]
