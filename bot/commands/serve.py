"""`qa serve`: the HTTP service on Flask's development server (production: the Procfile)."""

from __future__ import annotations

import click

from bot.commands.common import settings_of


@click.command()
@click.option("--host", envvar="QA_HOST", default="127.0.0.1", show_default=True,
              help="Interface to listen on.")  # fmt: skip
@click.option("--port", envvar="PORT", type=int, default=8000, show_default=True)
@click.option("--debug", is_flag=True, help="Reload on code changes; verbose errors in the log.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, debug: bool) -> None:
    """Serve POST /ask, /health, /ready, /metrics, /openapi.json and the question page at /.

    For development; in production run the Procfile's `web:` line (gunicorn).
    """
    from bot.http import create_app

    app = create_app(settings_of(ctx))
    click.echo(f"serving on http://{host}:{port}/ (development server; use gunicorn in production)")
    app.run(host=host, port=port, debug=debug, use_reloader=debug, threaded=True)


COMMANDS = [serve]
