"""`qa train-reader`: train a span reader on the index's own documents (no labels needed)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from bot.commands.common import echo_json, index_of, settings_of
from retrieval.calibration.run import calibrate as run_calibration
from retrieval.engine import QAEngine
from retrieval.training.pipeline import DEFAULT_BASE, fingerprint, train_reader
from retrieval.training.store import read_manifest

# `auto` answers with the trained reader now; `sentence` stays available per request.
CALIBRATED = ("trained", "sentence")
CHANGED_A_LOT = 0.2  # share of chunks added or removed since training that calls for retraining


@click.command(name="train-reader")
@click.option("--minutes", type=click.FloatRange(min=1), default=None,
              help="Training's time budget, export included [default: QA_TRAIN_MINUTES, 20]; "
                   "the refusal calibration after it adds a minute or two.")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--squad", "squad", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Add labelled SQuAD-format examples (repeatable).")  # fmt: skip
@click.option("--base", default=DEFAULT_BASE, show_default=True,
              help="Encoder to fine-tune: the packaged model or a folder on disk.")  # fmt: skip
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

    Makes questions from the indexed documents themselves, fine-tunes a span model on CPU
    within the budget, and publishes it for every server on this index.
    """
    settings = settings_of(ctx)
    index, _ = index_of(ctx)
    if status:
        _status(read_manifest(index.client, settings.key_prefix), fingerprint(index), as_json)
        return
    minutes = minutes or settings.train_minutes
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
        manifest = train_reader(
            index, settings.data_dir, minutes=minutes, seed=seed, squad=list(squad), base=base,
            say=say, progress=progress, threads=settings.train_threads,
        )  # fmt: skip
    if as_json:
        echo_json(manifest)
    else:
        click.echo(describe(manifest))
    if calibrate:  # a new reader's scores mean something new: refit when to refuse
        record = run_calibration(QAEngine(settings).warm_up(), readers=CALIBRATED, seed=seed)
        click.echo(
            f"calibrated refusals for the {' and '.join(CALIBRATED)} readers from "
            f"{record.questions} synthetic questions in {record.seconds:.0f}s",
            err=as_json,
        )


def describe(m: dict[str, Any]) -> str:
    ex, held = m["examples"], m["held_out"]
    return (
        f"trained reader {m['sha']} for index {m['index']['name']} "
        f"({m['index']['documents']} documents, {m['index']['chunks']} chunks), {m['created']}\n"
        f"base {m['base']}, {ex['trained_on']} examples read ({ex['synthetic']} synthetic, "
        f"{ex['labelled']} labelled), {m['minutes']} minutes, {m['precision']}\n"
        f"held-out synthetic questions: EM {held['em']:.3f}, F1 {held['f1']:.3f} (n={held['n']})"
    )


def _status(manifest: dict[str, Any] | None, now: dict[str, Any], as_json: bool) -> None:
    if manifest is None:
        raise click.ClickException(
            f"index {now['name']} has no trained reader yet: run `qa train-reader`"
        )
    if as_json:
        echo_json({**manifest, "index_now": now})
        return
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
