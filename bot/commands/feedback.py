"""`qa feedback`: what users said about answers (👍/👎, corrections, captured replies)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, TextIO

import click

from bot.commands.common import settings_of
from retrieval.feedback import FeedbackStore
from retrieval.redis.connection import connect
from retrieval.training.labels import Label, usable


@click.group(invoke_without_command=True)
@click.pass_context
def feedback(ctx: click.Context) -> None:
    """How much feedback there is; `qa feedback export` writes it out."""
    if ctx.invoked_subcommand is None:
        store = _store(ctx)
        entries = list(store.export())
        votes = Counter(e["vote"] for e in entries)
        labels = usable(store.labels())
        click.echo(
            f"{len(entries)} feedback entries: {votes['up']} 👍, {votes['down']} 👎, "
            f"{votes['capture']} captured replies; {len(labels)} labelled examples for "
            "`qa train-reader`"
        )


@feedback.command()
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Write here instead of standard output.",
)
@click.option(
    "--jsonl",
    is_flag=True,
    help="Every entry as JSON Lines (votes without a label too), not SQuAD.",
)
@click.pass_context
def export(ctx: click.Context, output: TextIO, jsonl: bool) -> None:
    """The labelled examples as a SQuAD-format file (`qa train-reader --squad` reads it)."""
    store = _store(ctx)
    if jsonl:
        count = 0
        for entry in store.export(every=True):
            output.write(json.dumps(entry, ensure_ascii=False) + "\n")
            count += 1
        click.echo(f"exported {count} feedback entries", err=True)
        return
    labels = usable(store.labels())
    output.write(json.dumps(as_squad(labels), ensure_ascii=False, indent=1) + "\n")
    click.echo(f"exported {len(labels)} labelled examples", err=True)


def as_squad(labels: list[Label]) -> dict[str, Any]:
    """One paragraph per passage, its labelled questions under it."""
    paragraphs: dict[str, list[dict[str, Any]]] = {}
    for n, label in enumerate(labels):
        paragraphs.setdefault(label.passage, []).append(
            {
                "id": f"feedback-{n}",
                "question": label.question,
                "answers": [
                    {"text": label.answer, "answer_start": label.passage.index(label.answer)}
                ],
            }
        )
    return {
        "version": "1.1",
        "data": [
            {
                "title": "feedback",
                "paragraphs": [
                    {"context": context, "qas": qas} for context, qas in paragraphs.items()
                ],
            }
        ],
    }


def _store(ctx: click.Context) -> FeedbackStore:
    settings = settings_of(ctx)
    return FeedbackStore(connect(settings), settings.key_prefix)


COMMANDS = [feedback]
