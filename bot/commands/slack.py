"""`qa slack`: the Slack bot over Socket Mode."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

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
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackClientError

    from bot.commands.serve_records import registered
    from bot.slack.socket_mode import socket_mode_handler
    from retrieval.engine import QAEngine

    settings = settings_of(ctx)
    _require_tokens(settings)
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    engine = QAEngine(settings).warm_up()
    engine.index.client.ping()  # fail now, with the engine's message, if Redis is unreachable
    click.echo("Slack bot starting in Socket Mode; Ctrl+C stops it.", err=True)
    try:
        with _quiet(("slack_sdk", "bot.slack.bolt"), unless=log_level.upper() == "DEBUG"):
            handler = socket_mode_handler(settings, engine)
            handler.connect()
    except (OSError, SlackClientError, BoltError) as e:
        raise click.ClickException(f"cannot reach Slack ({_reason(e)}); {_HINT}") from None
    click.echo("Connected to Slack.", err=True)
    with registered(settings, "", 0, kind="slack"):  # `qa server stop` sees it
        threading.Event().wait()  # the Socket Mode client serves from its own threads


@contextmanager
def _quiet(loggers: tuple[str, ...], unless: bool) -> Iterator[None]:
    """While connecting, a failure is reported once, by us, not as each retry's log line."""
    logs = [logging.getLogger(name) for name in loggers]
    before = [log.level for log in logs]
    for log in logs if not unless else []:
        log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for log, level in zip(logs, before, strict=True):
            log.setLevel(level)


_HINT = (
    "check this machine's network (or SLACK_API_URL) and the tokens; the bot needs "
    "https://slack.com/api and Socket Mode's WebSocket"
)


def _reason(e: BaseException) -> str:
    """The innermost cause in a few words: urllib and Bolt wrap the socket's own error."""
    reason = getattr(e, "reason", None)
    if isinstance(reason, BaseException):
        return _reason(reason)
    text = " ".join(str(reason or e).split())
    return text[:200] or type(e).__name__


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
