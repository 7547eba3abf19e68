"""`qa ingest`: make files, folders, web pages and sitemaps searchable."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from bot.commands.common import index_of, settings_of
from ingest.chunker import Chunker
from ingest.loaders import iter_files
from ingest.pipeline import IngestPipeline, IngestReport
from ingest.web.fetch import Fetcher
from ingest.web.site import WebOptions, ingest_url
from retrieval.settings import Settings


def is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def make_pipeline(ctx: click.Context) -> IngestPipeline:
    settings = settings_of(ctx)
    index, embedder = index_of(ctx)
    chunker = Chunker(
        settings.chunk_tokens,
        settings.chunk_overlap_tokens,
        embedder.max_tokens,
        embedder.count_tokens,
    )
    return IngestPipeline(index, embedder, chunker)


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--source", default="", help="Source of the documents that name none of their own.")
@click.option("--tag", "tags", multiple=True, help="Tag added to every document (repeatable).")
@click.option("--include", multiple=True, help="Glob of files (or URL paths) to take.")
@click.option("--exclude", multiple=True, help="Glob of files (or URL paths) to skip.")
@click.option("--prune", is_flag=True, help="Remove documents whose files or pages are gone.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--crawl", is_flag=True, help="URL: follow links below the start page's folder.")
@click.option("--max-pages", type=click.IntRange(1), default=None, help="URL: pages at most.")
@click.option("--max-depth", type=click.IntRange(0), default=None, help="URL: links deep.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a TTY).")
@click.pass_context
def ingest(ctx: click.Context, targets: tuple[str, ...], **opts) -> None:
    """Read files and folders (txt md html pdf jsonl docx pptx xlsx csv), or web pages, a site
    (--crawl) or a sitemap.xml, and index their chunks."""
    urls = [t for t in targets if is_url(t)]
    paths = [Path(t) for t in targets if not is_url(t)]
    if (opts["crawl"] or opts["max_pages"] or opts["max_depth"] is not None) and not urls:
        raise click.UsageError("--crawl, --max-pages and --max-depth apply to URLs only")
    pipeline = make_pipeline(ctx)
    reports = []
    if paths:
        reports.append(_ingest_paths(pipeline, paths, opts))
    settings = settings_of(ctx)
    show = sys.stderr.isatty() if opts["progress"] is None else opts["progress"]
    with Fetcher(settings) as fetcher:
        for url in urls:
            with tqdm(unit="page", disable=not show, file=sys.stderr) as bar:
                options = web_options(settings, opts, on_page=lambda _: bar.update(1))
                reports.append(ingest_url(pipeline, fetcher, url, options))
    failed = False
    for report in reports:
        failed = _print(report, opts["dry_run"]) or failed
    if failed:
        ctx.exit(1)


def web_options(settings: Settings, opts: dict, **more: Any) -> WebOptions:
    return WebOptions(
        crawl=opts["crawl"],
        max_pages=opts["max_pages"] or settings.web_max_pages,
        max_depth=settings.web_max_depth if opts["max_depth"] is None else opts["max_depth"],
        source=opts["source"],
        tags=opts["tags"],
        include=opts["include"],
        exclude=opts["exclude"],
        prune=opts["prune"],
        dry_run=opts["dry_run"],
        **more,
    )


def _ingest_paths(pipeline: IngestPipeline, paths: list[Path], opts: dict) -> IngestReport:
    show = sys.stderr.isatty() if opts["progress"] is None else opts["progress"]
    total = sum(1 for _ in iter_files(paths, opts["include"], opts["exclude"])) if show else None
    with tqdm(total=total, unit="file", disable=not show, file=sys.stderr) as bar:
        return pipeline.run(
            paths,
            source=opts["source"],
            tags=opts["tags"],
            include=opts["include"],
            exclude=opts["exclude"],
            prune=opts["prune"],
            dry_run=opts["dry_run"],
            on_file=lambda _: bar.update(1),
        )


def _print(report: IngestReport, dry_run: bool) -> bool:
    """Print a report; True when something failed."""
    for where, reason in report.skipped:
        click.echo(f"skipped {where}: {reason}", err=True)
    for where, encoding in report.encodings:
        click.echo(f"read {where} as {encoding} (not UTF-8, and it declares no encoding)", err=True)
    for where, reason in report.failed:
        click.echo(f"failed {where}: {reason}", err=True)
    if report.prune_refused:
        click.echo(f"not pruned: {report.prune_refused}", err=True)
    if report.truncated:
        click.echo(f"incomplete: {report.truncated}", err=True)
    for change, where in report.changes:
        click.echo(f"would {change} {where}")
    click.echo(report.summary(dry_run))
    return bool(report.failed or report.prune_refused)


COMMANDS = [ingest]
