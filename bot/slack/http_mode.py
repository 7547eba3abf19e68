"""HTTP mode: Slack's events, commands and button clicks as POSTs to `/slack/events`."""

from __future__ import annotations

import flask
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient

from bot.slack.app import build_slack_app
from retrieval.engine import QAEngine
from retrieval.settings import Settings

EVENTS_PATH = "/slack/events"


def mount_slack(
    app: flask.Flask, settings: Settings, engine: QAEngine, client: WebClient | None = None
) -> None:
    """Serve the Slack app from the Flask app; every request's signature is verified.

    Bolt acks before the slow work (lazy listeners in threads), so the response goes back
    to Slack at once; the answer follows from a background thread.
    """
    bolt = build_slack_app(settings, engine, client)
    handler = SlackRequestHandler(bolt)
    app.extensions["slack_bolt"] = bolt

    def slack_events() -> flask.Response:
        return handler.handle(flask.request)

    app.add_url_rule(EVENTS_PATH, endpoint="slack_events", view_func=slack_events, methods=["POST"])
