"""HTTP mode end to end: signed requests to /slack/events, the real engine over real Redis,
and replies recorded by the Slack Web API stand-in."""

from __future__ import annotations

import json
import time

import flask
import pytest

from bot.slack.http_mode import mount_slack
from retrieval.embedding.embedder import Embedder
from retrieval.engine import QAEngine
from retrieval.settings import Settings
from tests.bot.slack.driver import SlackDriver
from tests.bot.slack.stand_in import BOT_ID, BOT_USER_ID, SlackStandIn

pytestmark = pytest.mark.usefixtures("handbook")


def test_signed_mention_is_answered_in_its_thread(slack: SlackDriver, slack_api: SlackStandIn):
    response, ts = slack.mention("how do I rotate the API key?", channel="C0000042")

    assert response.status_code == 200
    [post] = slack_api.wait_for("chat.postMessage")
    assert post.data["channel"] == "C0000042"
    assert post.data["thread_ts"] == ts
    assert post.data["text"].startswith("To rotate the API key, open Settings")
    assert "*To rotate the API key, open Settings, choose API and click Rotate key.*" in post.text()
    assert "https://wiki.example.com/handbook/api-keys#:~:text=To%20rotate" in post.text()
    assert post.headers["Authorization"] == "Bearer xoxb-test-token"


def test_ack_comes_back_well_within_three_seconds(slack: SlackDriver, slack_api: SlackStandIn):
    slack.mention("how do I rotate the API key?")
    slack.command("how many days of leave do I get?")

    slack_api.wait_for("chat.postMessage")
    slack_api.wait_for("respond")
    assert max(slack.ack_seconds) < 1.0, slack.ack_seconds


def test_follow_up_mention_in_a_thread_is_answered_in_that_thread(
    slack: SlackDriver, slack_api: SlackStandIn
):
    slack.mention("how do I rotate the API key?", thread_ts="1700000000.000100")

    [post] = slack_api.wait_for("chat.postMessage")
    assert post.data["thread_ts"] == "1700000000.000100"


def test_direct_message_is_answered_in_the_dm(slack: SlackDriver, slack_api: SlackStandIn):
    slack.dm("how many days of leave do I get?")

    [post] = slack_api.wait_for("chat.postMessage")
    assert post.data["channel"] == "D0000001"
    assert "thread_ts" not in post.data or post.data["thread_ts"] is None
    assert post.data["text"] == "Employees get 25 days of paid leave per year."


def test_inline_filters_narrow_the_search(slack: SlackDriver, slack_api: SlackStandIn):
    slack.mention("how do I rotate the API key? source:policies")

    [post] = slack_api.wait_for("chat.postMessage")
    assert "To rotate the API key" not in post.data["text"]
    assert "Security policy" in post.text()


def test_filter_nothing_matches_says_so_plainly(slack: SlackDriver, slack_api: SlackStandIn):
    slack.mention("how do I rotate the API key? tag:finance")

    [post] = slack_api.wait_for("chat.postMessage")
    assert "couldn't find an answer: no document matches the filters" in post.text()


def test_unanswerable_question_gives_the_reason_and_closest_sources(
    slack: SlackDriver, slack_api: SlackStandIn
):
    slack.mention("what is the capital of peru?")

    [post] = slack_api.wait_for("chat.postMessage")
    assert post.data["text"].startswith("No answer: nothing relevant was found in the documents")
    assert "Closest sources" in post.text()
    assert "Paid leave" in post.text()


def test_bad_signature_is_rejected_with_401(slack: SlackDriver, slack_api: SlackStandIn):
    body = json.dumps({"type": "event_callback", "event_id": "Ev1", "event": {}})

    assert slack.post(body, "application/json", secret="not-the-secret").status_code == 401
    assert slack_api.to("chat.postMessage") == []


def test_stale_signature_is_rejected_with_401(slack: SlackDriver):
    body = json.dumps({"type": "url_verification", "challenge": "abc"})
    ten_minutes_ago = int(time.time()) - 600

    assert slack.post(body, "application/json", timestamp=ten_minutes_ago).status_code == 401


def test_url_verification_echoes_the_challenge(slack: SlackDriver):
    body = json.dumps({"token": "t", "type": "url_verification", "challenge": "3eZbrw1aBm2r"})

    response = slack.post(body, "application/json")

    assert response.status_code == 200
    assert "3eZbrw1aBm2r" in response.get_data(as_text=True)


def test_retried_event_is_answered_once(slack: SlackDriver, slack_api: SlackStandIn):
    event = {
        "type": "app_mention",
        "user": "U0000001",
        "ts": "1700000001.000100",
        "channel": "C0000001",
        "text": f"<@{BOT_USER_ID}> how do I rotate the API key?",
    }
    assert slack.event(event, event_id="EvSAME").status_code == 200
    assert slack.event(event, event_id="EvSAME", retry=1).status_code == 200
    assert slack.event(event, event_id="EvSAME", retry=2).status_code == 200
    slack.mention("how many days of leave do I get?")  # a marker: answered after the others

    posts = slack_api.wait_for("chat.postMessage", count=2)
    texts = sorted(p.data["text"] for p in posts)
    assert texts[0].startswith("Employees get 25 days") and texts[1].startswith("To rotate")
    slack_api.wait_for("chat.postMessage", count=2)
    assert len(slack_api.to("chat.postMessage")) == 2


def test_one_message_delivered_as_two_events_is_answered_once(
    slack: SlackDriver, slack_api: SlackStandIn
):
    """A mention inside a DM can arrive both as app_mention and as message.im."""
    fields = {
        "user": "U0000001",
        "ts": "1700000002.000100",
        "channel": "D0000001",
        "text": f"<@{BOT_USER_ID}> how do I rotate the API key?",
    }
    slack.event({"type": "app_mention", **fields})
    slack.event({"type": "message", "channel_type": "im", **fields})
    slack.dm("how many days of leave do I get?")

    slack_api.wait_for("chat.postMessage", count=2)
    assert len(slack_api.to("chat.postMessage")) == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"bot_id": "BOTHER01", "subtype": "bot_message", "user": None},  # another bot
        {"bot_id": "BOTHER02"},  # another app posting as a bot user
        {"bot_id": BOT_ID, "user": BOT_USER_ID},  # the bot itself
        {"subtype": "message_changed"},  # an edit
    ],
)
def test_messages_from_bots_and_edits_are_ignored(
    slack: SlackDriver, slack_api: SlackStandIn, fields: dict
):
    assert slack.dm("how do I rotate the API key?", **fields).status_code == 200
    slack.dm("how many days of leave do I get?")  # a marker from a person

    [post] = slack_api.wait_for("chat.postMessage")
    assert post.data["text"].startswith("Employees get 25 days")
    assert len(slack_api.to("chat.postMessage")) == 1


def test_mentions_from_other_bots_are_ignored(slack: SlackDriver, slack_api: SlackStandIn):
    response, _ = slack.mention("how do I rotate the API key?", user="UOTHER01", bot_id="BOTHER01")
    assert response.status_code == 200
    slack.mention("how many days of leave do I get?")  # a marker from a person

    [post] = slack_api.wait_for("chat.postMessage")
    assert post.data["text"].startswith("Employees get 25 days")
    assert len(slack_api.to("chat.postMessage")) == 1


@pytest.fixture()
def redis_down(settings: Settings, slack_api: SlackStandIn, embedder: Embedder) -> SlackDriver:
    """The app with its Redis unreachable: the engine, dedupe and button store all fail."""
    broken = settings.with_(redis_url="redis://127.0.0.1:9/0", redis_timeout_s=0.5)
    engine = QAEngine(broken, embedder=embedder)
    app = flask.Flask("redis-down")
    mount_slack(app, broken, engine)
    return SlackDriver(app.test_client(), slack_api)


def test_engine_failure_still_gets_a_visible_apology(
    redis_down: SlackDriver, slack_api: SlackStandIn, caplog: pytest.LogCaptureFixture
):
    response, ts = redis_down.mention("how do I rotate the API key?")

    assert response.status_code == 200
    [post] = slack_api.wait_for("chat.postMessage")
    assert post.data["thread_ts"] == ts
    assert "Sorry, I couldn't answer: the document store (Redis) can't be reached" in post.text()
    assert "Traceback" not in post.text() and "redis.exceptions" not in post.text()
    [logged] = [r for r in caplog.records if "could not answer for U0000001" in r.getMessage()]
    assert logged.exc_info is not None  # the full story is in the log
    assert "RedisUnavailable" in logged.getMessage()
    assert f"ref `{logged.getMessage().split('[ref ')[1][:8]}`" in post.text()


def test_without_redis_a_retry_is_taken_for_a_copy(
    redis_down: SlackDriver, slack_api: SlackStandIn
):
    """Deliveries cannot be deduplicated: the first is answered, redeliveries are dropped."""
    redis_down.mention("how do I rotate the API key?", event_id="EvX")
    redis_down.mention("how do I rotate the API key?", event_id="EvX", retry=1)
    redis_down.mention("how many days of leave do I get?")  # a marker

    slack_api.wait_for("chat.postMessage", count=2)
    assert len(slack_api.to("chat.postMessage")) == 2


def test_a_broken_inline_filter_is_explained(slack: SlackDriver, slack_api: SlackStandIn):
    slack.mention('vacation? source:"team handbook')

    [post] = slack_api.wait_for("chat.postMessage")
    assert "filter 'source' has an unmatched quote" in post.text()


def test_a_mention_without_a_question_gets_help(slack: SlackDriver, slack_api: SlackStandIn):
    slack.mention("  ")

    [post] = slack_api.wait_for("chat.postMessage")
    assert "/ask how do I rotate the API key?" in post.text()


def test_refused_blocks_fall_back_to_plain_text(slack: SlackDriver, slack_api: SlackStandIn):
    slack_api.fail("chat.postMessage", "invalid_blocks")

    slack.mention("how do I rotate the API key?")

    first, second = slack_api.wait_for("chat.postMessage", count=2)
    assert "blocks" in first.data and "blocks" not in second.data
    assert second.data["text"].startswith("To rotate the API key")


def test_refused_channel_falls_back_to_the_askers_dm(slack: SlackDriver, slack_api: SlackStandIn):
    slack_api.fail("chat.postMessage", "channel_not_found", times=2)

    slack.mention("how do I rotate the API key?", channel="C0000099", user="U0000007")

    posts = slack_api.wait_for("chat.postMessage", count=3)
    assert [p.data["channel"] for p in posts] == ["C0000099", "C0000099", "U0000007"]
    assert "I couldn't reply in <#C0000099>" in posts[2].text()
    assert "To rotate the API key" in posts[2].text()
