"""`qa eval`: measure retrieval and answer quality on a SQuAD-format question set."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from bot.commands.common import echo_json, settings_of
from bot.commands.train_reader import describe
from retrieval.choices import MODES, READERS
from retrieval.settings import Settings
from retrieval.training.squad import load_squad
from workflows.evaluation import EvalReport, evaluate, evaluate_on, squad_index
from workflows.training import train


@click.command(name="eval")
@click.argument("dataset", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--k",
    type=click.IntRange(1, 50),
    default=5,
    show_default=True,
    help="How many chunks each answer reads.",
)
@click.option("--reader", type=click.Choice(READERS), default=None)
@click.option("--mode", type=click.Choice(MODES), default=None)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Ask only the first N questions (every context is still ingested).",
)
@click.option("--keep-index", is_flag=True, help="Keep the temporary qa-eval-* index.")
@click.option(
    "--train-minutes",
    type=click.FloatRange(min=1),
    default=None,
    help="Also train a reader on the contexts (never the questions) and report it "
    "beside the sentence reader.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def eval_command(
    ctx: click.Context,
    dataset: Path,
    k: int,
    reader: str | None,
    mode: str | None,
    limit: int | None,
    keep_index: bool,
    train_minutes: float | None,
    as_json: bool,
) -> None:
    """Ingest DATASET's contexts into a temporary index, ask its questions, report scores.

    DATASET is a SQuAD-format JSON file. Your own index is not touched.
    """
    show = sys.stderr.isatty()
    if train_minutes:
        reports = compare_trained(dataset, settings_of(ctx), train_minutes, k, mode, limit)
        if as_json:
            echo_json({name: r.to_dict() for name, r in reports.items()})
        else:
            click.echo("\n\n".join(r.table() for r in reports.values()))
        return
    if show:
        click.echo(f"ingesting the contexts of {dataset.name} into a temporary index...", err=True)
    with tqdm(unit="question", disable=not show, file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        report = evaluate(
            dataset,
            settings_of(ctx),
            k=k,
            reader=reader,
            mode=mode,
            limit=limit,
            keep_index=keep_index,
            progress=progress,
        )
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(report.table())
    if keep_index:
        click.echo(
            f"kept index '{report.index}' (drop it with QA_INDEX_NAME={report.index} "
            f"QA_KEY_PREFIX={report.index} qa index drop --yes)",
            err=True,
        )


def compare_trained(
    dataset: Path,
    settings: Settings,
    minutes: float,
    k: int,
    mode: str | None,
    limit: int | None,
) -> dict[str, EvalReport]:
    """The sentence reader, then a reader trained on the contexts, on one temporary index."""
    squad = load_squad(dataset, limit)
    say = (lambda m: click.echo(m, err=True)) if sys.stderr.isatty() else (lambda m: None)
    with squad_index(squad, settings) as built:
        sentence = evaluate_on(built.engine, squad, k=k, reader="sentence", mode=mode)
        manifest = train(built.engine, minutes=minutes, say=say)
        click.echo(describe(manifest), err=True)
        trained = evaluate_on(built.engine, squad, k=k, reader="trained", mode=mode)
    return {"sentence": sentence, "trained": trained}


COMMANDS = [eval_command]
