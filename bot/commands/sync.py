"""`qa sources` and `qa sync`: named sources kept in step with the index, once or continuously."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import click
import redis

from bot.commands.common import echo_json, settings_of
from bot.commands.ingest import make_pipeline
from ingest.sources import Source, load_sources, parse_interval
from ingest.sync import Syncer, SyncLog, SyncResult
from ingest.sync_metrics import SyncCollector
from ingest.web.fetch import Fetcher
from retrieval.errors import ConfigError, RedisUnavailable
from retrieval.redis.connection import connect

_FILE = click.option(
    "--file",
    "sources_file",
    type=click.Path(path_type=Path),
    envvar="QA_SOURCES_FILE",
    default=None,
    help="The sources file (default: QA_SOURCES_FILE or ./sources.toml).",
)


def _sources(ctx: click.Context, sources_file: Path | None, names: tuple[str, ...]) -> list:
    sources = load_sources(sources_file or settings_of(ctx).sources_file)
    unknown = set(names) - {s.name for s in sources}
    if unknown:
        known = ", ".join(s.name for s in sources)
        raise click.UsageError(f"no source named {', '.join(sorted(unknown))} (known: {known})")
    return [s for s in sources if not names or s.name in names]


@click.command("sources")
@_FILE
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def sources_cmd(ctx: click.Context, sources_file: Path | None, as_json: bool) -> None:
    """List the sources `qa sync` keeps up to date, with their last sync.

    They are declared in a TOML file, one table per source:

    \b
        [sources.handbook]
        folder = "~/handbook"     # or url = "https://docs.example.com/sitemap.xml"
        tags = ["hr"]
        include = ["*.md", "*.docx"]
        exclude = ["drafts/**"]
        interval = "6h"
        # a url may add: crawl = true, max_pages = 500, max_depth = 3
    """
    settings = settings_of(ctx)
    sources = _sources(ctx, sources_file, ())
    log = SyncLog(connect(settings), settings.key_prefix)
    rows = [(s, log.last(s.name)) for s in sources]
    if as_json:
        echo_json([{**_describe(s), "last_sync": last and vars(last)} for s, last in rows])
        return
    for source, last in rows:
        d = _describe(source)
        every = f" every {d['interval']}" if d["interval"] else ""
        tags = f" tags={','.join(source.tags)}" if source.tags else ""
        click.echo(f"{source.name}: {d['kind']} {source.location}{every}{tags}")
        click.echo(f"    last sync: {_when(last)}{' - ' + last.line() if last else ''}")


@click.command()
@click.argument("names", nargs=-1)
@_FILE
@click.option("--force", is_flag=True, help="Remove documents even past the safety share.")
@click.option("--every", default=None, help="Keep syncing, e.g. 30m (each source on its interval).")
@click.option("--rounds", type=click.IntRange(1), default=None, help="With --every: stop after N.")
@click.option(
    "--metrics-port",
    type=int,
    envvar="QA_SYNC_METRICS_PORT",
    default=None,
    help="Serve Prometheus /metrics on this port while looping.",
)
@click.pass_context
def sync(
    ctx: click.Context,
    names: tuple[str, ...],
    sources_file: Path | None,
    force: bool,
    every: str | None,
    rounds: int | None,
    metrics_port: int | None,
) -> None:
    """Bring the named sources (default: all) up to date: new and changed documents in, removed
    ones out. An unreachable source removes nothing; removing more than QA_SYNC_MAX_PRUNE_SHARE
    of a source needs --force."""
    settings = settings_of(ctx)
    if rounds and not every:
        raise click.UsageError("--rounds goes with --every")
    try:
        period = parse_interval(every) if every else None
    except ConfigError as e:
        raise click.BadParameter(str(e), param_hint="--every") from None
    selected = _sources(ctx, sources_file, names)
    pipeline = make_pipeline(ctx)
    with Fetcher(settings) as fetcher:
        syncer = Syncer(pipeline, fetcher, settings)
        if period is None:
            results = syncer.sync_all(selected, force, on_result=_echo)
            ctx.exit(0 if all(r.status == "ok" for r in results) else 1)
        if metrics_port:
            _serve_metrics(pipeline.index.client, pipeline.index.schema.prefix, metrics_port)
        _loop(ctx, syncer, sources_file, names, force, period, rounds)


def _loop(ctx, syncer: Syncer, sources_file, names, force: bool, period: float, rounds) -> None:
    """Each round re-reads the sources file, so edits apply without a restart."""
    done = 0
    while rounds is None or done < rounds:
        started = time.monotonic()
        try:
            selected = _sources(ctx, sources_file, names)
        except ConfigError as e:  # a bad edit: keep the worker alive, say so each round
            click.echo(f"sources file: {e}", err=True)
        else:
            _round(syncer, selected, force)
        done += 1
        if rounds is None or done < rounds:
            time.sleep(max(0.0, period - (time.monotonic() - started)))


def _round(syncer: Syncer, selected: list[Source], force: bool) -> None:
    """One round of the worker; Redis away (restarted, failed over) costs the round, never
    the worker: the next round finds what this one missed."""
    try:
        syncer.sync_all(selected, force, due_only=True, on_result=_echo)
    except (RedisUnavailable, redis.ConnectionError, redis.TimeoutError) as e:
        click.echo(
            f"sync round skipped, Redis is unreachable ({e}): trying again next round", err=True
        )


def _serve_metrics(client, prefix: str, port: int) -> None:
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry()
    registry.register(SyncCollector(lambda: client, prefix))
    start_http_server(port, registry=registry)


def _echo(result: SyncResult) -> None:
    click.echo(result.line(), err=result.status != "ok")


def _describe(source: Source) -> dict:
    s, interval = source.interval, ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s and not interval and s % size == 0:
            interval = f"{s / size:g}{unit}"
    interval = interval or (f"{s:g}s" if s else "")
    kind = ("site (crawl)" if source.crawl else "web") if source.url else "folder"
    return {
        "name": source.name,
        "kind": kind,
        "location": source.location,
        "interval": interval,
        "tags": list(source.tags),
        "include": list(source.include),
        "exclude": list(source.exclude),
    }


def _when(last: SyncResult | None) -> str:
    if last is None:
        return "never"
    return dt.datetime.fromtimestamp(last.finished, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


COMMANDS = [sources_cmd, sync]
