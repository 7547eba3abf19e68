"""Fixtures for the Slack front end: the real engine over real Redis with a few documents,
the Flask app with /slack/events mounted, and the Slack Web API stand-in.
"""

from __future__ import annotations

from collections.abc import Iterator

import flask
import pytest

from bot.slack.http_mode import mount_slack
from ingest.document import Block, Document
from ingest.pipeline import IngestPipeline
from retrieval.engine import QAEngine
from retrieval.settings import Settings
from retrieval.types import DocMeta
from tests.bot.slack.driver import SECRET, SlackDriver
from tests.bot.slack.stand_in import SlackStandIn
from tests.corpus import KEY_TEXT, LEAVE_TEXT

POLICY_PAGES = (
    "Passwords must be at least 14 characters long and never reused.",
    "Laptops must use full-disk encryption. Report a lost laptop to the security team "
    "within one hour.",
)


@pytest.fixture()
def slack_api() -> Iterator[SlackStandIn]:
    with SlackStandIn() as stand_in:
        yield stand_in


@pytest.fixture()
def settings(settings: Settings, slack_api: SlackStandIn) -> Settings:
    """The root settings, plus a Slack app pointed at the local Web API stand-in."""
    return settings.with_(
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=slack_api.url,
    )


@pytest.fixture()
def handbook(pipeline: IngestPipeline) -> None:
    """Three documents: two web pages and a two-page PDF, with sources and tags."""
    policy = "\n\n".join(POLICY_PAGES)
    split = len(POLICY_PAGES[0]) + 2
    pipeline.ingest(
        [
            Document(
                DocMeta(
                    "keys",
                    "Rotating the API key",
                    "handbook",
                    ("security",),
                    "https://wiki.example.com/handbook/api-keys",
                ),
                KEY_TEXT,
            ),
            Document(
                DocMeta(
                    "leave",
                    "Paid leave",
                    "handbook",
                    ("hr",),
                    "https://wiki.example.com/handbook/leave",
                ),
                LEAVE_TEXT,
            ),
            Document(
                DocMeta(
                    "policy",
                    "Security policy",
                    "policies",
                    ("security",),
                    "https://files.example.com/security-policy.pdf",
                ),
                policy,
                [Block("text", 0, split - 2, page=1), Block("text", split, len(policy), page=2)],
            ),
        ]
    )


@pytest.fixture()
def flask_app(settings: Settings, engine: QAEngine) -> flask.Flask:
    app = flask.Flask("slack-test")
    mount_slack(app, settings, engine)
    return app


@pytest.fixture()
def slack(flask_app: flask.Flask, slack_api: SlackStandIn) -> SlackDriver:
    return SlackDriver(flask_app.test_client(), slack_api)
