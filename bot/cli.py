"""The `qa` command line: ingest and manage documents, ask questions, run the servers."""

from __future__ import annotations

import importlib
import signal
import sys
from pathlib import Path

import click

from retrieval.errors import QAError
from retrieval.settings import Settings

# The module of each command, imported when the command runs (or `--help` lists it): `qa ask`
# does not pay for what `qa ingest` or `qa serve` import. Each module lists its COMMANDS.
COMMANDS = {
    "ingest": "ingest",
    "sources": "sync",
    "sync": "sync",
    "docs": "documents",
    "delete": "documents",
    "index": "documents",
    "reindex": "documents",
    "ask": "ask",
    "train": "train",
    "train-reader": "train_reader",
    "calibrate": "calibrate",
    "eval": "evaluate",
    "feedback": "feedback",
    "server": "server",
    "slack": "slack",
    "serve": "serve",
}


class QAGroup(click.Group):
    """Turns the engine's errors into one-line messages instead of tracebacks."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except QAError as e:
            raise click.ClickException(str(e)) from e

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            for command in importlib.import_module(f"bot.commands.{COMMANDS[name]}").COMMANDS:
                self.add_command(command)
        return super().get_command(ctx, name)


@click.group(cls=QAGroup)
@click.version_option(package_name="redis-docqa", prog_name="qa", message="%(prog)s %(version)s")
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


def main() -> None:
    stop_on_signals()
    cli(prog_name="qa")


def stop_on_signals() -> None:
    """SIGTERM and SIGHUP end a command the way Ctrl-C does, so that its exit handlers run:
    the embedded Redis it started is shut down (its data flushed), never left behind."""
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _exit)


def _exit(signum: int, _frame: object) -> None:
    sys.exit(128 + signum)


if __name__ == "__main__":
    main()
