"""`qa serve`: the HTTP service on Flask's development server (production: the Procfile)."""

from __future__ import annotations

import click

from bot.commands.common import settings_of


@click.command()
@click.option(
    "--host",
    envvar="QA_HOST",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on.",
)
@click.option(
    "--port",
    envvar="PORT",
    type=int,
    default=8000,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option("--debug", is_flag=True, help="Reload on code changes; verbose errors in the log.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, debug: bool) -> None:
    """Serve POST /ask, /health, /ready, /metrics, /openapi.json and the question page at /.

    For development; in production run the Procfile's `web:` line (gunicorn). While it runs,
    `qa ask` on this machine answers through it (same index and settings), in a fraction of
    the time it takes to load the models.
    """
    from werkzeug.serving import make_server

    from bot.commands.serve_records import registered
    from bot.http import create_app

    settings = settings_of(ctx)
    app = create_app(settings)
    if debug:  # the reloader runs the app in a child process: not recorded for `qa ask`
        click.echo(f"serving on http://{host}:{port}/ (development server, debug mode)")
        app.run(host=host, port=port, debug=True, use_reloader=True, threaded=True)
        return
    server = make_server(host, port, app, threaded=True)
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"serving on http://{shown}:{server.server_port}/ (development server; use gunicorn "
        "in production)"
    )
    with registered(settings, host, server.server_port):
        server.serve_forever()  # returns on Ctrl-C; SIGTERM raises SystemExit through here


COMMANDS = [serve]
