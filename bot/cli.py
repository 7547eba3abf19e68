"""The `qa` command line: ingest and manage documents, ask questions, run the servers."""

from __future__ import annotations

from pathlib import Path

import click

from bot.commands import (
    ask,
    calibrate,
    documents,
    evaluate,
    feedback,
    ingest,
    serve,
    servers,
    slack,
    sync,
    train,
)
from retrieval.errors import QAError
from retrieval.settings import Settings


class QAGroup(click.Group):
    """Turns the engine's errors into one-line messages instead of tracebacks."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except QAError as e:
            raise click.ClickException(str(e)) from e


@click.group(cls=QAGroup)
@click.option("--redis-url", envvar="REDIS_URL", help="Redis with RediSearch; default: embedded.")
@click.option(
    "--data-dir",
    envvar="QA_DATA_DIR",
    type=click.Path(path_type=Path),
    help="Where the embedded Redis keeps its data.",
)
@click.pass_context
def cli(ctx: click.Context, redis_url: str | None, data_dir: Path | None) -> None:
    """Answer questions from your documents, word for word, with sources."""
    overrides: dict[str, object] = {"redis_url": redis_url} if redis_url else {}
    if data_dir:
        overrides["data_dir"] = data_dir
    ctx.obj = Settings.from_env(**overrides)


for _module in (
    ingest,
    sync,
    documents,
    ask,
    train,
    calibrate,
    evaluate,
    feedback,
    servers,
    slack,
    serve,
):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    cli(prog_name="qa")


if __name__ == "__main__":
    main()
