"""`qa ingest`: make files searchable."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from bot.commands.common import index_of, settings_of
from ingest.chunker import Chunker
from ingest.loaders import iter_files
from ingest.pipeline import IngestPipeline


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--source", default="", help="Source name added to every document.")
@click.option("--tag", "tags", multiple=True, help="Tag added to every document (repeatable).")
@click.option("--include", multiple=True, help="Glob of files to take (repeatable).")
@click.option("--exclude", multiple=True, help="Glob of files to skip (repeatable).")
@click.option("--prune", is_flag=True, help="Remove documents whose files are gone.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a TTY).")
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[Path, ...],
    source: str,
    tags: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    prune: bool,
    dry_run: bool,
    progress: bool | None,
) -> None:
    """Read files and folders (txt, md, html, pdf, jsonl) and index their chunks."""
    settings = settings_of(ctx)
    index, embedder = index_of(ctx)
    chunker = Chunker(
        settings.chunk_tokens, settings.chunk_overlap_tokens, embedder.max_tokens,
        embedder.count_tokens,
    )  # fmt: skip
    show = sys.stderr.isatty() if progress is None else progress
    total = sum(1 for _ in iter_files(paths, include, exclude)) if show else None
    with tqdm(total=total, unit="file", disable=not show, file=sys.stderr) as bar:
        report = IngestPipeline(index, embedder, chunker).run(
            list(paths), source=source, tags=tags, include=include, exclude=exclude,
            prune=prune, dry_run=dry_run, on_file=lambda _: bar.update(1),
        )  # fmt: skip
    for path, reason in report.failed:
        click.echo(f"skipped {path}: {reason}", err=True)
    click.echo(("dry run: " if dry_run else "") + report.summary())
    if report.failed:
        ctx.exit(1)


COMMANDS = [ingest]
