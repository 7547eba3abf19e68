"""`qa train-reader`: train a span reader on the index's own documents (no labels needed)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from bot.commands.common import echo_json, settings_of
from retrieval.engine import QAEngine
from retrieval.errors import ModelUnavailable
from retrieval.feedback import FeedbackStore
from retrieval.readers import shipped
from retrieval.readers.shipped import FOLDER as SHIPPED
from retrieval.readers.trained_store import read_manifest
from retrieval.training import general
from retrieval.training.labels import usable
from retrieval.training.paraphrase import DEFAULT_BASE
from retrieval.training.pipeline import fingerprint
from workflows.calibration import calibrate_index
from workflows.training import build_shipped, train, training_lock

# `auto` answers with the trained reader now; `sentence` stays available per request.
CALIBRATED = ("trained", "sentence")
LOG_EVERY = 50  # steps between progress lines of `--general` when stderr is not a terminal
CHANGED_A_LOT = 0.2  # share of chunks added or removed since training that calls for retraining


def reader_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--seed, --squad and --base: how the reader trains, as `qa train-reader` and `qa train`
    take them."""
    options = [
        click.option("--seed", type=int, default=0, show_default=True),
        click.option(
            "--squad",
            "squad",
            multiple=True,
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Add labelled SQuAD-format examples for the reader (repeatable).",
        ),
        click.option(
            "--base",
            default=DEFAULT_BASE,
            show_default=True,
            help="The reader's encoder: the packaged model or a folder on disk.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command(name="train-reader")
@click.option(
    "--minutes",
    type=click.FloatRange(min=1),
    default=None,
    help="Training's time budget, export included [default: QA_TRAIN_MINUTES, 20]; "
    "the refusal calibration after it adds a minute or two.",
)
@reader_options
@click.option(
    "--calibrate/--no-calibrate",
    default=True,
    show_default=True,
    help="Then calibrate refusals for the new reader (as `qa calibrate`).",
)
@click.option("--status", is_flag=True, help="Show the current trained reader and exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@click.option(
    "--general",
    is_flag=True,
    help="Build the reader the product ships from every bundled real question "
    "(hours on 2 cores; resumes a killed run) instead of training this index's.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=SHIPPED,
    show_default=True,
    help="--general: where the shipped reader is written.",
)
@click.option(
    "--work",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="--general: checkpoints [default: QA_DATA_DIR/readers/build].",
)
@click.option(
    "--only",
    multiple=True,
    help="--general: train on the bundled files whose name starts with this.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="--general: at most this many questions (a sample of them).",
)
@click.option(
    "--snapshot",
    type=click.IntRange(min=1),
    multiple=True,
    help="--general: keep the weights after this many questions (learning curve).",
)
@click.option(
    "--checkpoint-every",
    type=click.IntRange(min=1),
    default=None,
    help="--general: steps between checkpoints [default: 100, about a minute].",
)
@click.option(
    "--measure/--no-measure",
    default=True,
    show_default=True,
    help="--general: fit the retrieval prior and measure through a temporary index "
    "of the bundled sample (a few minutes).",
)
@click.pass_context
def train_reader_command(
    ctx: click.Context,
    minutes: float | None,
    seed: int,
    squad: tuple[Path, ...],
    base: str,
    calibrate: bool,
    status: bool,
    as_json: bool,
    general: bool,
    out: Path,
    work: Path | None,
    only: tuple[str, ...],
    limit: int | None,
    snapshot: tuple[int, ...],
    checkpoint_every: int | None,
    measure: bool,
) -> None:
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
    if general:
        work = work or settings.data_dir / "readers" / "build"
        manifest = _build_shipped(
            engine,
            out,
            work,
            seed=seed,
            base=base,
            names=list(only) or None,
            limit=limit,
            snapshots=list(snapshot),
            checkpoint_every=checkpoint_every,
            measure=measure,
        )
        echo_json(manifest) if as_json else click.echo(describe_shipped(manifest, out))
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
    with tqdm(
        total=100, unit="%", disable=not show, file=sys.stderr, bar_format="{l_bar}{bar}| {postfix}"
    ) as bar:

        def progress(p: dict[str, float]) -> None:
            bar.update(int(100 * p["elapsed"] / p["budget"]) - bar.n)
            left = max(0, p["budget"] - p["elapsed"])
            bar.set_postfix_str(
                f"{p['seen'] / p['elapsed']:.1f} ex/s, loss {p['loss']:.2f}, "
                f"{left // 60:.0f}m{left % 60:02.0f}s left",
                refresh=False,
            )

        say = (lambda m: tqdm.write(m, file=sys.stderr)) if show else (lambda m: None)
        return train(
            engine.warm_up(),
            minutes=minutes,
            seed=seed,
            squad=list(squad),
            base=base,
            say=say,
            progress=progress,
        )


def _build_shipped(engine: QAEngine, out: Path, work: Path, **options: Any) -> dict[str, Any]:
    show = sys.stderr.isatty()
    with tqdm(
        total=100, unit="%", disable=not show, file=sys.stderr, bar_format="{l_bar}{bar}| {postfix}"
    ) as bar:

        def progress(p: dict[str, float]) -> None:
            bar.update(int(100 * p["steps"] / max(p["max_steps"], 1)) - bar.n)
            bar.set_postfix_str(
                f"step {p['steps']:.0f}/{p['max_steps']:.0f}, loss {p['loss']:.2f}", refresh=False
            )

        def say(m: str) -> None:
            tqdm.write(m, file=sys.stderr)

        if not show:  # a log file: a line every few hundred steps instead of a bar

            def progress(p: dict[str, float]) -> None:
                if p["steps"] % LOG_EVERY == 0:
                    say(
                        f"step {p['steps']:.0f}/{p['max_steps']:.0f}, {p['seen']:.0f} questions "
                        f"read, loss {p['loss']:.2f}, {p['elapsed'] / 60:.1f} minutes"
                    )

        return build_shipped(engine.warm_up(), out, work, say=say, progress=progress, **options)


def describe_shipped(m: dict[str, Any], out: Path) -> str:
    held, real = m["held_out"]["int8"], m.get("through_retrieval", {})
    return (
        f"shipped reader in {out}: {m['questions']} real questions, {m['steps']} steps, "
        f"{m['minutes']} minutes this run\n"
        f"held-out questions, passages given (int8): EM {held['em']:.3f}, F1 {held['f1']:.3f} "
        f"(n={held['n']}; fp32 F1 {m['held_out']['fp32']['f1']:.3f})\n"
        f"the sample's held-out articles through retrieval: EM {real.get('em', 0):.3f}, "
        f"F1 {real.get('f1', 0):.3f}, context {real.get('context', 0):.3f} (prior weight "
        f"{m['prior_weight']})"
    )


def describe(m: dict[str, Any]) -> str:
    ex, held, stage = m["examples"], m["held_out"], m["general"]
    real = {"em": 0.0, "f1": 0.0, "context": 0.0, "n": 0, **stage["held_out"]}
    verdict = ""
    if "against_shipped" in m:
        a, s = m["against_shipped"]["adapted"], m["against_shipped"]["shipped"]
        verdict = (
            f"\nagainst the shipped reader, F1 on held-out generated questions "
            f"{a['generated']['f1']:.3f} vs {s['generated']['f1']:.3f}, on held-out real ones "
            f"{a['real']['f1']:.3f} vs {s['real']['f1']:.3f}: "
            + ("adapted reader published" if m.get("published") else "the shipped reader stays")
        )
    name = f"trained reader {m['sha']}" if m.get("sha") else "adapted reader (not published)"
    return (
        f"{name} for index {m['index']['name']} "
        f"({m['index']['documents']} documents, {m['index']['chunks']} chunks), {m['created']}\n"
        f"general stage {stage['key']} ({stage['created']}, {stage['minutes']} minutes): "
        f"{stage['questions']} real questions; on {real['n']} held-out ones, asked through "
        f"retrieval: EM {real['em']:.3f}, F1 {real['f1']:.3f}, context {real['context']:.3f}\n"
        f"index stage ({m['minutes']} minutes, {m['precision']}): {ex['generated']} generated "
        f"({ex['generator']}, {ex['generation_seconds']}s), {ex['real']} real, "
        f"{ex['labelled']} labelled, {ex['from_users']} from users; "
        f"{ex['trained_on']} questions read\n"
        f"held-out generated questions: EM {held['em']:.3f}, F1 {held['f1']:.3f} (n={held['n']})"
        + verdict
    )


def _general_status(engine: QAEngine, base: str) -> tuple[dict[str, Any] | None, str]:
    """What the index's training starts from: the shipped reader (for the packaged encoder)
    or the general stage cached on this machine; and a line saying so."""
    if base == DEFAULT_BASE and engine.settings.shipped_reader is not None:
        try:
            m = shipped.manifest(engine.settings.shipped_reader)
        except ModelUnavailable as e:
            return None, str(e)
        return m, f"the shipped reader ({m['questions']} real questions, {m['created']})"
    key = general.cache_key(base, engine.embedder.identity)
    stage, why = general.cached(engine.settings.data_dir, key)
    return (stage.manifest, f"cached, {stage.manifest['created']}") if stage else (None, why)


def _status(engine: QAEngine, base: str, as_json: bool) -> None:
    """Which stages ran and what each cost, how many labels users gave, and whether the
    index changed since."""
    index, settings = engine.index, engine.settings
    manifest = read_manifest(index.client, settings.key_prefix)
    now = fingerprint(index)
    stage, why = _general_status(engine, base)
    labels = FeedbackStore(index.client, settings.key_prefix).labels()
    labelled = {"labels": len(usable(labels)), "feedback_entries": len(labels)}
    if as_json:
        echo_json(
            {
                "reader": manifest,
                "index_now": now,
                "labelled": labelled,
                "general_stage": stage or {"missing": why},
            }
        )
        return
    click.echo(f"general stage: {why}")
    click.echo(f"labelled examples from users: {labelled['labels']} (used by the next run)")
    if manifest is None:
        shipped_note = " (the shipped reader answers)" if base == DEFAULT_BASE and stage else ""
        raise click.ClickException(
            f"index {now['name']} has no trained reader yet{shipped_note}: run `qa train-reader`"
        )
    click.echo(describe(manifest))
    then = manifest["index"]["chunks"] or 1
    change = abs(now["chunks"] - then) / then
    if change > CHANGED_A_LOT or (now["documents"] != manifest["index"]["documents"] and change):
        click.echo(
            f"warning: the index changed since training ({then} -> {now['chunks']} chunks, "
            f"{manifest['index']['documents']} -> {now['documents']} documents): "
            "run `qa train-reader` again",
            err=True,
        )


COMMANDS = [train_reader_command]
