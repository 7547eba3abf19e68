"""`qa ask`: answer a question from the command line.

When a `qa serve` for the same index and settings runs on this machine, the question goes
to it over HTTP (its models are loaded); otherwise, or when that fails, it is answered here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from bot.commands.common import echo_json, settings_of
from retrieval.choices import CONFIDENCE_RANGE, MODES, READERS
from retrieval.query.filters import parse_filter_args
from retrieval.settings import Settings

if TYPE_CHECKING:
    from retrieval.types import Answer


@click.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--k", type=int, default=None, help="How many chunks to read (1-50).")
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="KEY=VALUE",
    help="tag=, source=, doc_id=, not_doc_id=, created=, modified=, text= (repeatable).",
)
@click.option("--reader", type=click.Choice(READERS), default=None)
@click.option("--mode", type=click.Choice(MODES), default=None)
@click.option(
    "--ef-runtime",
    type=int,
    default=None,
    help="HNSW EF_RUNTIME for this query (answered here, not by qa serve).",
)
@click.option(
    "--min-confidence",
    type=click.FloatRange(*CONFIDENCE_RANGE),
    default=None,
    help="Refuse answers less sure than this (0-1) instead of the index's calibrated threshold.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the answer object as JSON.")
@click.option("--local", is_flag=True, help="Answer here even when a `qa serve` could.")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Say on stderr who answered, and why not a running `qa serve`.",
)
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
    local: bool,
    verbose: bool,
) -> None:
    """Answer QUESTION from the ingested documents, word for word, with its source."""
    _readable("the question", question)
    _readable("--filter", filters)
    settings, text, parsed = settings_of(ctx), " ".join(question), parse_filter_args(filters)
    asked = dict(k=k, filters=parsed, reader=reader, mode=mode, min_confidence=min_confidence)
    answer = None
    if local or ef_runtime is not None:
        _say(verbose, "answering here" + ("" if local else ": --ef-runtime needs the index"))
    else:
        answer = _from_server(settings, text, asked, verbose)
    if answer is None:
        from retrieval.engine import QAEngine

        answer = QAEngine(settings).ask(text, ef_runtime=ef_runtime, **asked)
    if as_json:
        echo_json(answer.to_dict())
    else:
        click.echo(render(answer))


def _readable(what: str, args: tuple[str, ...]) -> None:
    """Refuse arguments that are not text: bytes the terminal's encoding cannot read arrive
    as lone surrogates, which no tokenizer, Redis call or server can take."""
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError as e:
            bad = arg[e.start : e.end]
            try:
                raw = bad.encode("utf-8", "surrogateescape")
                shown = "byte " + " ".join(f"0x{b:02x}" for b in raw)
            except UnicodeEncodeError:
                shown = bad.encode("unicode_escape").decode("ascii")
            raise click.UsageError(
                f"{what} is not valid text: {shown} at character {e.start + 1} is not UTF-8 "
                "(check the terminal's encoding, e.g. LANG=C.UTF-8)"
            ) from None


def _from_server(
    settings: Settings, question: str, asked: dict[str, Any], verbose: bool
) -> Answer | None:
    """The answer of a running `qa serve` for this index, or None (then: answer here)."""
    from bot.commands.serve_records import ServerUnavailable, post_ask, probe, running_servers

    servers = running_servers(settings)
    if not servers:
        _say(verbose, "no `qa serve` for this index and settings is running: answering here")
    body = {"question": question, **{k: v for k, v in asked.items() if v is not None}}
    body["filters"] = asked["filters"].to_dict()
    token = settings.api_tokens[0] if settings.api_tokens else None
    for server in servers:
        try:
            probe(server)  # a frozen server: passed over within a second
            answer = _answer(post_ask(server, body, token, settings.request_timeout_s + 5))
        except (ServerUnavailable, TypeError) as e:  # TypeError: not the answer object
            _say(verbose, f"`qa serve` at {server.url} (pid {server.pid}) did not answer: {e}")
            continue
        _say(verbose, f"answered by `qa serve` at {server.url} (pid {server.pid})")
        return answer
    if servers:
        _say(verbose, "answering here")
    return None


def _answer(data: dict[str, Any]) -> Answer:
    """The answer object from the JSON of POST /ask: the same fields, less the answer_id
    (feedback ids are the HTTP API's business)."""
    from dataclasses import fields

    from retrieval.types import Answer

    return Answer(**{f.name: data[f.name] for f in fields(Answer) if f.name in data})


def _say(verbose: bool, message: str) -> None:
    if verbose:
        click.echo(f"qa ask: {message}", err=True)


def render(answer: Answer) -> str:
    """The answer for a terminal: the answer, its confidence, and highlighted sources."""
    lines = []
    if answer.answer is None:
        why = answer.explanation.get("reason") or answer.reason
        lines.append(click.style(f"No answer: {why}.", fg="yellow"))
        if answer.sources:
            lines.append("These come closest:")
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
