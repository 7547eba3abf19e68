"""The app factory: one engine per app, Slack mounted only when Slack is configured."""

from __future__ import annotations

import pytest

from bot.http import create_app
from bot.http.services import services


def test_requests_share_the_apps_one_engine_whose_parts_are_built_once(
    make_app, engine, handbook
) -> None:
    app = make_app()
    client = app.test_client()
    assert client.post("/ask", json={"question": "How do I rotate the API key?"}).status_code == 200
    index, retriever = engine.index, engine.retriever
    assert client.post("/ask", json={"question": "vacation days?"}).status_code == 200
    with app.app_context():
        assert services().engine is engine
    assert engine.index is index and engine.retriever is retriever


def test_without_slack_settings_there_is_no_slack_route(client) -> None:
    assert client.post("/slack/events", data="{}").status_code == 404


def test_slack_events_are_served_when_slack_is_configured(settings, engine) -> None:
    pytest.importorskip("bot.slack.http_mode", reason="the Slack front end is not installed")
    slack = settings.with_(slack_signing_secret="s3cret", slack_bot_token="xoxb-test")
    client = create_app(slack, engine).test_client()
    unsigned = client.post("/slack/events", data="{}", content_type="application/json")
    assert unsigned.status_code == 401  # Bolt checks the signature; nothing reaches Slack
    assert unsigned.headers["X-Request-ID"]
