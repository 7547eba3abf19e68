"""Socket Mode (`qa slack`): the same app without a signing secret, and clear setup errors;
the manifest declares everything the listeners need."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from slack_bolt import BoltRequest

from bot.cli import cli
from bot.slack.capture import CAPTURE_CALLBACK
from bot.slack.listeners import SCOPE_COMMAND
from bot.slack.socket_mode import socket_mode_handler
from retrieval.engine import QAEngine
from retrieval.errors import ConfigError
from retrieval.settings import Settings
from tests.bot.slack.stand_in import BOT_USER_ID, TEAM_ID, SlackStandIn

MANIFEST = Path(__file__).resolve().parents[3] / "bot" / "slack" / "manifest.yaml"


@pytest.mark.usefixtures("handbook")
def test_socket_mode_answers_a_mention_without_a_signing_secret(
    settings: Settings, engine: QAEngine, slack_api: SlackStandIn
):
    settings = settings.with_(slack_signing_secret=None, slack_app_token="xapp-1-test")
    handler = socket_mode_handler(settings, engine)
    try:
        assert slack_api.to("auth.test"), "the bot token is checked at start"
        event = {
            "type": "app_mention",
            "user": "U0000001",
            "channel": "C0000001",
            "ts": "1700000003.000100",
            "text": f"<@{BOT_USER_ID}> how do I rotate the API key?",
        }
        body = {
            "type": "event_callback",
            "team_id": TEAM_ID,
            "event_id": "EvSOCKET",
            "event": event,
        }

        response = handler.app.dispatch(BoltRequest(body=json.dumps(body), mode="socket_mode"))

        assert response.status == 200
        [post] = slack_api.wait_for("chat.postMessage")
        assert post.data["thread_ts"] == "1700000003.000100"
        assert post.data["text"].startswith("To rotate the API key")
    finally:
        handler.close()


@pytest.mark.parametrize("token", [None, "xoxb-not-an-app-token"])
def test_socket_mode_explains_a_missing_or_wrong_app_token(
    settings: Settings, engine: QAEngine, token: str | None
):
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        socket_mode_handler(settings.with_(slack_app_token=token), engine)


def test_socket_mode_explains_a_rejected_bot_token(
    settings: Settings, engine: QAEngine, slack_api: SlackStandIn
):
    slack_api.fail("auth.test", "invalid_auth")

    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        socket_mode_handler(settings.with_(slack_app_token="xapp-1-test"), engine)


def test_http_mode_needs_the_signing_secret(settings: Settings, engine: QAEngine):
    import flask

    from bot.slack.http_mode import mount_slack

    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        mount_slack(flask.Flask("x"), settings.with_(slack_signing_secret=None), engine)


def test_oauth_client_credentials_in_the_environment_are_refused_with_what_to_do(
    settings: Settings, engine: QAEngine, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SLACK_CLIENT_ID", "123.456")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "secret")

    with pytest.raises(ConfigError, match="unset both"):
        socket_mode_handler(settings.with_(slack_app_token="xapp-1-test"), engine)


def test_qa_slack_without_tokens_is_a_usage_error(settings: Settings):
    env = {"REDIS_URL": settings.redis_url or "", "SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": ""}

    result = CliRunner().invoke(cli, ["slack"], env=env)

    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN and SLACK_APP_TOKEN must be set" in result.output


def test_qa_slack_without_network_says_in_one_line_that_it_cannot_reach_slack(
    cli_env: dict[str, str],
):
    with socket.socket() as probe:  # a port nobody listens on: what an offline machine sees
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**cli_env, "SLACK_BOT_TOKEN": "xoxb-1-test", "SLACK_APP_TOKEN": "xapp-1-test",
           "SLACK_API_URL": f"http://127.0.0.1:{port}/api/"}  # fmt: skip

    result = CliRunner().invoke(cli, ["slack"], env=env)

    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "cannot reach Slack (" in errors[0]
    assert "Connection refused" in errors[0] and "Traceback" not in result.output


def test_manifest_declares_the_events_command_scopes_and_interactivity():
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))

    settings = manifest["settings"]
    events = {"app_mention", "message.im", "message.channels", "message.groups", "message.mpim"}
    assert set(settings["event_subscriptions"]["bot_events"]) == events | {"reaction_added"}
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    features = manifest["features"]
    assert [c["command"] for c in features["slash_commands"]] == ["/ask", SCOPE_COMMAND]
    [shortcut] = features["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", CAPTURE_CALLBACK)
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history"} <= scopes
    history = {"channels:history", "groups:history", "mpim:history", "reactions:read"}
    assert history | {"channels:read", "groups:read", "users:read", "usergroups:read"} <= scopes
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True


def test_procfile_runs_the_bot():
    procfile = MANIFEST.parents[2] / "Procfile"

    assert "slack: qa slack" in procfile.read_text(encoding="utf-8").splitlines()
