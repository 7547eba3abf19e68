"""`qa slack` (the Slack bot over Socket Mode) and `qa feedback` (export the votes)."""

from __future__ import annotations

import json
import logging
from typing import TextIO

import click

from bot.commands.common import settings_of
from bot.slack.feedback import FeedbackStore
from retrieval.settings import Settings
from retrieval.store import connect


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


@click.command()
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Write the JSONL here instead of standard output.",
)
@click.pass_context
def feedback(ctx: click.Context, output: TextIO) -> None:
    """Export the 👍/👎 votes given in Slack as JSON Lines, oldest first."""
    settings = settings_of(ctx)
    count = export_feedback(FeedbackStore(connect(settings), settings.key_prefix), output)
    click.echo(f"exported {count} votes", err=True)


def export_feedback(store: FeedbackStore, output: TextIO) -> int:
    """Write one JSON object per vote; returns how many were written."""
    count = 0
    for entry in store.export():
        output.write(json.dumps(entry, ensure_ascii=False) + "\n")
        count += 1
    return count


COMMANDS = [slack, feedback]
