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
@click.option("--force", is_flag=True, help="Stop it even while qa serve or qa slack use it.")
@click.pass_context
def stop(ctx: click.Context, force: bool) -> None:
    """Stop the embedded Redis, flushing its data to disk; not while a `qa serve` or `qa slack`
    of this data folder uses it, unless --force."""
    from bot.commands.serve_records import embedded_users

    settings = settings_of(ctx)
    srv = embedded_server(settings)
    users = embedded_users(settings) if srv.is_running() else []
    if users and not force:
        who = ", ".join(
            f"qa {u.kind} (pid {u.pid}{f', {u.url}' if u.kind == 'serve' else ''})" for u in users
        )
        raise click.ClickException(
            f"not stopped: {who} uses the embedded Redis of {settings.data_dir}; stop "
            f"{'it' if len(users) == 1 else 'them'} first (Ctrl-C), or run "
            "`qa server stop --force`"
        )
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
