"""`qa server`: the embedded Redis."""

from __future__ import annotations

import click

from bot.commands.common import settings_of
from retrieval.redis.connection import embedded_server


@click.group()
def server() -> None:
    """Start, stop or check the embedded Redis (used when REDIS_URL is not set)."""


@server.command()
@click.pass_context
def start(ctx: click.Context) -> None:
    """Start the embedded Redis in the background and leave it running."""
    srv = embedded_server(settings_of(ctx)).ensure(stop_at_exit=False)
    click.echo(f"embedded Redis running at {srv.url}")


@server.command()
@click.pass_context
def stop(ctx: click.Context) -> None:
    """Stop the embedded Redis, flushing its data to disk."""
    srv = embedded_server(settings_of(ctx))
    was_running = srv.is_running()
    srv.stop()
    click.echo("stopped" if was_running else "not running")


@server.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Say whether the embedded Redis is running."""
    srv = embedded_server(settings_of(ctx))
    click.echo(f"running at {srv.url}" if srv.is_running() else f"not running ({srv.data_dir})")


COMMANDS = [server]
