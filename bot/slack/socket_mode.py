"""Socket Mode: the bot opens a WebSocket to Slack, so it needs no public URL (`qa slack`)."""

from __future__ import annotations

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from bot.slack.app import build_slack_app
from retrieval.engine import QAEngine
from retrieval.errors import ConfigError
from retrieval.settings import Settings


def socket_mode_handler(
    settings: Settings, engine: QAEngine, client: WebClient | None = None
) -> SocketModeHandler:
    """The handler, ready to `start()` (which connects and blocks) or `connect()`."""
    token = settings.slack_app_token or ""
    if not token.startswith("xapp-"):
        what = "is not set" if not token else "does not look like an app-level token (xapp-...)"
        raise ConfigError(
            f"SLACK_APP_TOKEN {what}: Socket Mode needs an app-level token with the "
            "connections:write scope, from your Slack app's Basic Information page "
            "(see docs/slack.md). Or serve HTTP mode at /slack/events instead."
        )
    app = build_slack_app(settings, engine, client, socket_mode=True)
    return SocketModeHandler(app, app_token=token)


def run_socket_mode(settings: Settings, engine: QAEngine) -> None:
    """Connect and serve until interrupted."""
    socket_mode_handler(settings, engine).start()
