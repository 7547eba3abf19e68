"""`/ask`, its form, and the answer's buttons, end to end over HTTP mode."""

from __future__ import annotations

import json
from typing import Any

import flask
import pytest
import redis

from bot.slack.blocks import LESS, MORE, VOTE_DOWN, VOTE_UP
from bot.slack.http_mode import mount_slack
from bot.slack.modal import QUESTION, SOURCES, TAGS
from retrieval.engine import QAEngine
from retrieval.feedback import FeedbackStore
from retrieval.settings import Settings
from tests.bot.slack.driver import SlackDriver
from tests.bot.slack.stand_in import Call, SlackStandIn

pytestmark = pytest.mark.usefixtures("handbook")


def _buttons(call: Call) -> dict[str, dict[str, Any]]:
    actions = [b for b in call.data["blocks"] if b["type"] == "actions"]
    return {e["action_id"]: e for block in actions for e in block["elements"]}


def _answer_with_buttons(slack: SlackDriver, api: SlackStandIn, question: str) -> Call:
    slack.mention(question)
    [post] = api.wait_for("chat.postMessage")
    return post


def test_slash_command_acks_at_once_then_posts_the_answer(
    slack: SlackDriver, slack_api: SlackStandIn
):
    response = slack.command("how many days of leave do I get?")

    assert response.status_code == 200
    assert slack.ack_seconds[-1] < 1.0
    assert "Looking that up" in response.get_data(as_text=True)
    [reply] = slack_api.wait_for("respond")
    assert reply.path == "/respond/command"
    assert reply.data["response_type"] == "in_channel"
    assert reply.data["text"] == "Employees get 25 days of paid leave per year."
    assert "<@U0000001> asked" in reply.text()


def test_slash_command_answers_only_the_asker_when_set_to(
    settings: Settings, slack_api: SlackStandIn, engine: QAEngine
):
    quiet = settings.with_(slack_ephemeral=True)
    app = flask.Flask("quiet")
    mount_slack(app, quiet, engine)

    SlackDriver(app.test_client(), slack_api).command("how many days of leave do I get?")

    [reply] = slack_api.wait_for("respond")
    assert reply.data["response_type"] == "ephemeral"


def test_expired_response_url_falls_back_to_the_web_api(
    slack: SlackDriver, slack_api: SlackStandIn
):
    slack_api.fail("respond", "expired_url")

    slack.command("how many days of leave do I get?")

    [post] = slack_api.wait_for("chat.postMessage")
    assert post.data["channel"] == "C0000001"
    assert post.data["text"] == "Employees get 25 days of paid leave per year."


def test_show_more_reveals_the_other_candidates_and_hide_folds_them(
    slack: SlackDriver, slack_api: SlackStandIn
):
    post = _answer_with_buttons(slack, slack_api, "how do I rotate the API key?")
    more = _buttons(post)[MORE]
    assert more["text"]["text"] == "Show more answers (2)"
    assert "Only workspace admins" not in post.text()

    slack.click(MORE, more["value"], response_url=slack_api.response_url("more"))

    [expanded] = slack_api.wait_for("respond")
    assert expanded.data["replace_original"] is True
    assert "*Only workspace admins can rotate an API key.*" in expanded.text()
    assert "The old API key keeps working for 24 hours" in expanded.text()
    assert _buttons(expanded)[LESS]["text"]["text"] == "Hide other answers"

    slack.click(LESS, more["value"], response_url=slack_api.response_url("less"))
    _, folded = slack_api.wait_for("respond", count=2)
    assert "Only workspace admins" not in folded.text()


@pytest.mark.parametrize(("action_id", "vote"), [(VOTE_UP, "up"), (VOTE_DOWN, "down")])
def test_vote_buttons_store_feedback_in_redis(
    slack: SlackDriver,
    slack_api: SlackStandIn,
    settings: Settings,
    redis_client: redis.Redis,
    action_id: str,
    vote: str,
):
    post = _answer_with_buttons(slack, slack_api, "how do I rotate the API key?")

    slack.click(action_id, _buttons(post)[action_id]["value"])

    [thanks] = slack_api.wait_for("respond")
    assert thanks.data["response_type"] == "ephemeral" and "Thanks" in thanks.data["text"]
    [entry] = FeedbackStore(redis_client, settings.key_prefix).export()
    assert entry["vote"] == vote and entry["user"] == "U0000001"
    assert entry["question"] == "how do I rotate the API key?"
    assert entry["answer"].startswith("To rotate the API key")
    assert entry["sources"][0]["url"] == "https://wiki.example.com/handbook/api-keys"
    assert entry["extra"]["channel"] == "C0000001"


def test_button_of_an_expired_answer_says_so(slack: SlackDriver, slack_api: SlackStandIn):
    slack.click(VOTE_UP, "no-such-answer")

    [reply] = slack_api.wait_for("respond")
    assert "expired" in reply.data["text"]


def test_ask_without_text_opens_a_modal_with_choices_from_the_index(
    slack: SlackDriver, slack_api: SlackStandIn
):
    response = slack.command("")

    assert response.status_code == 200 and slack.ack_seconds[-1] < 1.0
    [opened] = slack_api.wait_for("views.open")
    assert opened.data["trigger_id"] == "1337.42.abcd"
    pickers = {b["block_id"]: b for b in opened.data["view"]["blocks"] if b["type"] == "input"}
    assert [o["value"] for o in pickers[SOURCES]["element"]["options"]] == ["handbook", "policies"]
    assert [o["value"] for o in pickers[TAGS]["element"]["options"]] == ["hr", "security"]
    assert QUESTION in pickers


def test_modal_submission_is_answered_in_the_channel_with_its_filters(
    slack: SlackDriver, slack_api: SlackStandIn
):
    slack.command("")
    [opened] = slack_api.wait_for("views.open")
    values = {
        QUESTION: {QUESTION: {"type": "plain_text_input", "value": "what must I do?"}},
        SOURCES: {
            SOURCES: {"type": "multi_static_select", "selected_options": [{"value": "policies"}]}
        },
        TAGS: {TAGS: {"type": "multi_static_select", "selected_options": []}},
    }

    response = slack.submit(opened.data["view"], values)

    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    [post] = slack_api.wait_for("chat.postMessage")
    assert post.data["channel"] == "C0000001"
    assert "policies" in post.text() and "handbook" not in post.text()
    assert "<@U0000001> asked: what must I do?" in post.text()


def test_modal_submission_without_a_question_keeps_the_form_open(slack: SlackDriver):
    view = {"type": "modal", "callback_id": "qa_ask_modal", "private_metadata": "{}"}
    values = {QUESTION: {QUESTION: {"type": "plain_text_input", "value": "  "}}}

    response = slack.submit(view, values)

    assert json.loads(response.get_data(as_text=True)) == {
        "response_action": "errors",
        "errors": {QUESTION: "Type a question first."},
    }


def test_modal_that_cannot_open_is_explained_to_the_asker(
    slack: SlackDriver, slack_api: SlackStandIn
):
    slack_api.fail("views.open", "expired_trigger_id")

    slack.command("")

    [reply] = slack_api.wait_for("respond")
    assert "couldn't open the question form" in reply.data["text"]
    assert reply.data["response_type"] == "ephemeral"


def test_help_is_shown_at_once(slack: SlackDriver):
    response = slack.command("help")

    assert "source:handbook" in response.get_data(as_text=True)
