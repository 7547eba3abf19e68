"""`qa slack`: the Slack bot over Socket Mode."""

from __future__ import annotations

import logging

import click

from bot.commands.common import settings_of
from retrieval.settings import Settings


@click.command()
@click.option(
    "--log-level",
    envvar="QA_LOG_LEVEL",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
@click.pass_context
def slack(ctx: click.Context, log_level: str) -> None:
    """Run the Slack bot over Socket Mode (needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN)."""
    from bot.slack.socket_mode import socket_mode_handler
    from retrieval.engine import QAEngine

    settings = settings_of(ctx)
    _require_tokens(settings)
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    engine = QAEngine(settings).warm_up()
    engine.index.client.ping()  # fail now, with the engine's message, if Redis is unreachable
    handler = socket_mode_handler(settings, engine)
    click.echo("Slack bot starting in Socket Mode; Ctrl+C stops it.", err=True)
    handler.start()


def _require_tokens(settings: Settings) -> None:
    missing = [
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
            ("SLACK_APP_TOKEN", settings.slack_app_token),
        )
        if not value
    ]
    if missing:
        raise click.UsageError(
            f"{' and '.join(missing)} must be set for Socket Mode: the bot token (xoxb-...) is on "
            "your Slack app's OAuth & Permissions page, the app-level token (xapp-..., scope "
            "connections:write) under Basic Information. See docs/slack.md."
        )


COMMANDS = [slack]
