"""`qa train-reader`: train a span reader on the index's own documents (no labels needed)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from bot.calibration import calibrate_index
from bot.commands.common import echo_json, settings_of
from bot.training import train, training_lock
from retrieval.engine import QAEngine
from retrieval.feedback import FeedbackStore
from retrieval.training import general
from retrieval.training.labels import usable
from retrieval.training.pipeline import DEFAULT_BASE, fingerprint
from retrieval.training.store import read_manifest

# `auto` answers with the trained reader now; `sentence` stays available per request.
CALIBRATED = ("trained", "sentence")
CHANGED_A_LOT = 0.2  # share of chunks added or removed since training that calls for retraining


def reader_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--seed, --squad and --base: how the reader trains, as `qa train-reader` and `qa train`
    take them."""
    options = [
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--squad", "squad", multiple=True,
                     type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="Add labelled SQuAD-format examples for the reader (repeatable)."),
        click.option("--base", default=DEFAULT_BASE, show_default=True,
                     help="The reader's encoder: the packaged model or a folder on disk."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


@click.command(name="train-reader")
@click.option("--minutes", type=click.FloatRange(min=1), default=None,
              help="Training's time budget, export included [default: QA_TRAIN_MINUTES, 20]; "
                   "the refusal calibration after it adds a minute or two.")  # fmt: skip
@reader_options
@click.option("--calibrate/--no-calibrate", default=True, show_default=True,
              help="Then calibrate refusals for the new reader (as `qa calibrate`).")  # fmt: skip
@click.option("--status", is_flag=True, help="Show the current trained reader and exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@click.pass_context
def train_reader_command(
    ctx: click.Context, minutes: float | None, seed: int, squad: tuple[Path, ...], base: str,
    calibrate: bool, status: bool, as_json: bool,
) -> None:  # fmt: skip
    """Train the extractive reader for this index (QA_READER=auto then answers with it).

    First (once per machine, ~10 minutes) it learns to read from a bundled sample of real
    questions; then it adapts to this index with questions made from its own documents and
    every answer users confirmed, within the budget, and publishes the model for every
    server on this index.
    """
    settings = settings_of(ctx)
    engine = QAEngine(settings)
    if status:
        _status(engine, base, as_json)
        return
    minutes = minutes or settings.train_minutes
    with training_lock(engine, "qa train-reader"):
        manifest = _train(engine, minutes, seed, squad, base)
        if as_json:
            echo_json(manifest)
        else:
            click.echo(describe(manifest))
        if calibrate:  # a new reader's scores mean something new: refit when to refuse
            record = calibrate_index(engine, readers=CALIBRATED, seed=seed)
            click.echo(
                f"calibrated refusals for the {' and '.join(CALIBRATED)} readers in "
                f"{record.seconds:.0f}s",
                err=as_json,
            )


def _train(
    engine: QAEngine, minutes: float, seed: int, squad: tuple[Path, ...], base: str
) -> dict[str, Any]:
    show = sys.stderr.isatty()
    with tqdm(total=100, unit="%", disable=not show, file=sys.stderr,
              bar_format="{l_bar}{bar}| {postfix}") as bar:  # fmt: skip

        def progress(p: dict[str, float]) -> None:
            bar.update(int(100 * p["elapsed"] / p["budget"]) - bar.n)
            left = max(0, p["budget"] - p["elapsed"])
            bar.set_postfix_str(
                f"{p['seen'] / p['elapsed']:.1f} ex/s, loss {p['loss']:.2f}, "
                f"{left // 60:.0f}m{left % 60:02.0f}s left", refresh=False,
            )  # fmt: skip

        say = (lambda m: tqdm.write(m, file=sys.stderr)) if show else (lambda m: None)
        return train(
            engine.warm_up(), minutes=minutes, seed=seed, squad=list(squad), base=base, say=say,
            progress=progress,
        )  # fmt: skip


def describe(m: dict[str, Any]) -> str:
    ex, held, stage = m["examples"], m["held_out"], m["general"]
    real = stage["held_out"]
    return (
        f"trained reader {m['sha']} for index {m['index']['name']} "
        f"({m['index']['documents']} documents, {m['index']['chunks']} chunks), {m['created']}\n"
        f"general stage {stage['key']} ({stage['created']}, {stage['minutes']} minutes): "
        f"{stage['questions']} real questions; on {real['n']} held-out ones, asked through "
        f"retrieval: EM {real['em']:.3f}, F1 {real['f1']:.3f}, context {real['context']:.3f}\n"
        f"index stage ({m['minutes']} minutes, {m['precision']}): {ex['generated']} generated "
        f"({ex['generator']}, {ex['generation_seconds']}s), {ex['real']} real, "
        f"{ex['labelled']} labelled, {ex['from_users']} from users; "
        f"{ex['trained_on']} questions read\n"
        f"held-out generated questions: EM {held['em']:.3f}, F1 {held['f1']:.3f} (n={held['n']})"
    )


def _status(engine: QAEngine, base: str, as_json: bool) -> None:
    """Which stages ran and what each cost, how many labels users gave, and whether the
    index changed since."""
    index, settings = engine.index, engine.settings
    manifest = read_manifest(index.client, settings.key_prefix)
    now = fingerprint(index)
    key = general.cache_key(base, engine.embedder.identity)
    stage, why = general.cached(settings.data_dir, key)
    labels = FeedbackStore(index.client, settings.key_prefix).labels()
    labelled = {"labels": len(usable(labels)), "feedback_entries": len(labels)}
    if as_json:
        echo_json({"reader": manifest, "index_now": now, "labelled": labelled,
                   "general_stage": stage.manifest if stage else {"missing": why}})  # fmt: skip
        return
    click.echo(f"general stage: {'cached, ' + stage.manifest['created'] if stage else why}")
    click.echo(f"labelled examples from users: {labelled['labels']} (used by the next run)")
    if manifest is None:
        raise click.ClickException(
            f"index {now['name']} has no trained reader yet: run `qa train-reader`"
        )
    click.echo(describe(manifest))
    then = manifest["index"]["chunks"] or 1
    change = abs(now["chunks"] - then) / then
    if change > CHANGED_A_LOT or (now["documents"] != manifest["index"]["documents"] and change):
        click.echo(
            f"warning: the index changed since training ({then} -> {now['chunks']} chunks, "
            f"{manifest['index']['documents']} -> {now['documents']} documents): "
            "run `qa train-reader` again", err=True,
        )  # fmt: skip


COMMANDS = [train_reader_command]
