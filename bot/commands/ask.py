"""`qa ask`: answer a question from the command line."""

from __future__ import annotations

import click

from bot.commands.common import echo_json, settings_of
from retrieval.choices import MODES, READERS
from retrieval.engine import QAEngine
from retrieval.filters import parse_filter_args
from retrieval.types import Answer


@click.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--k", type=int, default=None, help="How many chunks to read (1-50).")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE",
              help="tag=, source=, doc_id=, not_doc_id=, created=, modified=, text= "
                   "(repeatable).")  # fmt: skip
@click.option("--reader", type=click.Choice(READERS), default=None)
@click.option("--mode", type=click.Choice(MODES), default=None)
@click.option("--ef-runtime", type=int, default=None, help="HNSW EF_RUNTIME for this query.")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=None,
              help="Refuse answers less sure than this (0-1) instead of the index's "
                   "calibrated threshold.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the answer object as JSON.")
@click.pass_context
def ask(
    ctx: click.Context,
    question: tuple[str, ...],
    k: int | None,
    filters: tuple[str, ...],
    reader: str | None,
    mode: str | None,
    ef_runtime: int | None,
    min_confidence: float | None,
    as_json: bool,
) -> None:
    """Answer QUESTION from the ingested documents, word for word, with its source."""
    engine = QAEngine(settings_of(ctx))
    answer = engine.ask(
        " ".join(question), k=k, filters=parse_filter_args(filters), reader=reader,
        mode=mode, ef_runtime=ef_runtime, min_confidence=min_confidence,
    )  # fmt: skip
    if as_json:
        echo_json(answer.to_dict())
    else:
        click.echo(render(answer))


def render(answer: Answer) -> str:
    """The answer for a terminal: the answer, its confidence, and highlighted sources."""
    lines = []
    if answer.answer is None:
        why = answer.explanation.get("reason") or answer.reason
        lines.append(click.style(f"No answer: {why}.", fg="yellow"))
        if answer.sources:
            lines.append("Closest passages:")
    else:
        lines.append(click.style(answer.answer, bold=True))
        lines.append(f"(score {answer.score:.2f}, {answer.reader} reader)")
        cand = answer.candidates[0]
        context = cand["context"]
        if context.strip() != answer.answer.strip():  # show the sentence around the answer
            a, b = cand["start"] - cand["context_start"], cand["end"] - cand["context_start"]
            highlighted = click.style(context[a:b], fg="green", bold=True)
            lines += ["", "  " + context[:a] + highlighted + context[b:]]
    shown: set[str] = set()
    for src in answer.sources:
        if src["doc_id"] in shown or len(shown) == 3:
            continue  # one line per document
        shown.add(src["doc_id"])
        i = len(shown)
        where = " · ".join(
            x
            for x in (
                src.get("source"),
                f"page {src['page']}" if src.get("page") else "",
                src.get("url") or src.get("path"),
            )
            if x
        )
        lines.append(f"[{i}] {src.get('title') or src.get('doc_id')}  {where}")
        if src.get("also_in"):  # the same passage elsewhere: listed, not repeated
            homes = [a.get("url") or a.get("path") or a["doc_id"] for a in src["also_in"]]
            lines.append("    also in: " + ", ".join(homes))
        if answer.answer is None:
            lines.append("    " + " ".join(src["text"].split())[:240])
    return "\n".join(lines)


COMMANDS = [ask]
