"""Follow-ups in a thread: a reply that leans on the thread's question is answered in its
light (and says so); one that stands on its own is answered as typed; chatter is left alone."""

from __future__ import annotations

import json

import pytest
from slack_bolt import BoltRequest

from bot.slack.followup import looks_like_a_question, needs_context, with_context
from bot.slack.socket_mode import socket_mode_handler
from ingest.document import Document
from ingest.pipeline import IngestPipeline
from retrieval.engine import QAEngine
from retrieval.settings import Settings
from retrieval.types import DocMeta
from tests.bot.slack.driver import SlackDriver
from tests.bot.slack.stand_in import BOT_USER_ID, TEAM_ID, Call, SlackStandIn

LEAVE_QUESTION = "how many days of paid leave do I get?"
LAPTOP_QUESTION = "do contractors get a laptop?"
FOLLOW_UP = "and how many days of leave do they get?"


@pytest.fixture()
def contractors(handbook: None, pipeline: IngestPipeline) -> None:
    """Two documents about contractors: their leave, and their laptops."""
    pipeline.ingest(
        [
            Document(
                DocMeta("contractor-leave", "Contractor leave", "handbook", ("hr",)),
                "Contractors get 10 days of unpaid leave per year, agreed with their manager.",
            ),
            Document(
                DocMeta("contractor-laptops", "Contractor laptops", "it", ("it",)),
                "Contractors receive a loaner laptop from the IT desk on their first day.",
            ),
        ]
    )


pytestmark = pytest.mark.usefixtures("contractors")


def test_follow_up_in_a_thread_is_answered_with_the_first_question_as_context(
    slack: SlackDriver, slack_api: SlackStandIn
):
    _, root = slack.mention(LAPTOP_QUESTION, channel="C0000042")
    slack_api.wait_for("chat.postMessage")

    slack.thread_reply(FOLLOW_UP, channel="C0000042", thread_ts=root)

    first, follow_up = slack_api.wait_for("chat.postMessage", count=2)
    assert first.data["text"].startswith("Contractors receive a loaner laptop")
    assert follow_up.data["thread_ts"] == root
    assert follow_up.data["text"].startswith("Contractors get 10 days of unpaid leave")
    asked, *notes = heading(follow_up)
    assert asked.endswith(f"asked: {FOLLOW_UP}")  # shown as asked, not as searched
    assert f":thread: taking into account the earlier question: “{LAPTOP_QUESTION}”" in notes
    assert ":mag: searched: everything" in notes


def test_the_same_words_without_the_thread_find_something_else(
    slack: SlackDriver, slack_api: SlackStandIn
):
    """The control for the test above: the context is what finds the contractors' leave."""
    slack.mention(FOLLOW_UP, channel="C0000042")

    [post] = slack_api.wait_for("chat.postMessage")
    assert post.data["text"].startswith("Employees get 25 days")
    assert not any("earlier question" in note for note in heading(post))


def heading(post: Call) -> list[str]:
    """The texts beside the question at the top of an answer: who asked, and the notes."""
    return [e["text"] for e in post.data["blocks"][0]["elements"]]


def test_follow_up_that_stands_on_its_own_is_answered_as_typed(
    slack: SlackDriver, slack_api: SlackStandIn
):
    _, root = slack.mention(LEAVE_QUESTION, channel="C0000042")
    slack_api.wait_for("chat.postMessage")

    slack.thread_reply("how do I rotate the API key?", channel="C0000042", thread_ts=root)

    _, follow_up = slack_api.wait_for("chat.postMessage", count=2)
    assert follow_up.data["text"].startswith("To rotate the API key")
    assert not any("earlier question" in note for note in heading(follow_up))


def test_a_mention_in_the_thread_is_a_follow_up_too_and_answered_once(
    slack: SlackDriver, slack_api: SlackStandIn
):
    """With message.channels on, a mention in a thread arrives twice: as app_mention and as
    a message. Either way it is answered once, with the thread's question."""
    _, root = slack.mention(LAPTOP_QUESTION, channel="C0000042")
    slack_api.wait_for("chat.postMessage")

    text = f"<@{BOT_USER_ID}> {FOLLOW_UP}"
    _, ts = slack.thread_reply(text, channel="C0000042", thread_ts=root)
    mention = {"type": "app_mention", "user": "U0000001", "text": text, "ts": ts}
    slack.event({**mention, "channel": "C0000042", "thread_ts": root})
    slack.mention("how do I rotate the API key?", channel="C0000043")  # a marker

    posts = slack_api.wait_for("chat.postMessage", count=3)
    assert len(slack_api.to("chat.postMessage")) == 3
    [follow_up] = [p for p in posts if p.data["text"].startswith("Contractors get 10 days")]
    assert any("earlier question" in note for note in heading(follow_up))


def test_retried_follow_up_event_is_answered_once(slack: SlackDriver, slack_api: SlackStandIn):
    _, root = slack.mention(LEAVE_QUESTION, channel="C0000042")
    slack_api.wait_for("chat.postMessage")
    ts = slack_api.say("C0000042", "U0000001", "and for contractors?", thread_ts=root)
    event = {"type": "message", "channel_type": "channel", "channel": "C0000042"}
    event |= {"user": "U0000001", "text": "and for contractors?", "ts": ts, "thread_ts": root}

    slack.event(event, event_id="EvFOLLOW")
    slack.event(event, event_id="EvFOLLOW", retry=1)
    slack.event(event, event_id="EvFOLLOW2")  # the same message again, under a new event id
    slack.mention("how do I rotate the API key?", channel="C0000043")  # a marker

    slack_api.wait_for("chat.postMessage", count=3)
    assert len(slack_api.to("chat.postMessage")) == 3


@pytest.mark.parametrize(
    "reply",
    [
        "thanks, that helps",  # not a question
        "<@U0000005> can you check this?",  # addressed to a colleague
    ],
)
def test_thread_chatter_is_left_alone(slack: SlackDriver, slack_api: SlackStandIn, reply: str):
    _, root = slack.mention(LEAVE_QUESTION, channel="C0000042")
    slack_api.wait_for("chat.postMessage")

    slack.thread_reply(reply, channel="C0000042", thread_ts=root)
    slack.mention("how do I rotate the API key?", channel="C0000043")  # a marker

    _, marker = slack_api.wait_for("chat.postMessage", count=2)
    assert marker.data["channel"] == "C0000043"
    assert len(slack_api.to("chat.postMessage")) == 2


def test_questions_in_threads_the_bot_never_answered_are_left_alone(
    slack: SlackDriver, slack_api: SlackStandIn
):
    root = slack_api.say("C0000042", "U0000002", "lunch at noon?")
    slack.thread_reply("what about contractors?", channel="C0000042", thread_ts=root)
    slack.mention("how do I rotate the API key?", channel="C0000043")  # a marker

    [marker] = slack_api.wait_for("chat.postMessage")
    assert marker.data["channel"] == "C0000043"


def test_follow_ups_can_be_turned_off(
    settings: Settings, engine: QAEngine, slack_api: SlackStandIn
):
    driver = driver_for(settings.with_(slack_followups=False), engine, slack_api)
    _, root = driver.mention(LEAVE_QUESTION, channel="C0000042")
    slack_api.wait_for("chat.postMessage")

    driver.thread_reply("and for contractors?", channel="C0000042", thread_ts=root)
    driver.mention("how do I rotate the API key?", channel="C0000043")  # a marker

    _, marker = slack_api.wait_for("chat.postMessage", count=2)
    assert marker.data["channel"] == "C0000043"


def test_socket_mode_answers_a_follow_up_with_its_thread_question(
    settings: Settings, engine: QAEngine, slack_api: SlackStandIn
):
    settings = settings.with_(slack_signing_secret=None, slack_app_token="xapp-1-test")
    handler = socket_mode_handler(settings, engine)
    try:
        root = "1700000005.000100"
        first = {"type": "app_mention", "text": f"<@{BOT_USER_ID}> {LAPTOP_QUESTION}", "ts": root}
        follow = {"type": "message", "channel_type": "channel", "text": FOLLOW_UP}
        follow |= {"ts": "1700000005.000200", "thread_ts": root}
        for n, event in enumerate((first, follow)):
            event |= {"user": "U0000001", "channel": "C0000001"}
            body = {"type": "event_callback", "team_id": TEAM_ID, "event_id": f"EvS{n}"}
            handler.app.dispatch(
                BoltRequest(body=json.dumps({**body, "event": event}), mode="socket_mode")
            )
            slack_api.wait_for("chat.postMessage", count=n + 1)

        follow_up = slack_api.to("chat.postMessage")[1]
        assert follow_up.data["thread_ts"] == root
        assert follow_up.data["text"].startswith("Contractors get 10 days")
    finally:
        handler.close()


def driver_for(settings: Settings, engine: QAEngine, slack_api: SlackStandIn) -> SlackDriver:
    import flask

    from bot.slack.http_mode import mount_slack

    app = flask.Flask("slack-settings")
    mount_slack(app, settings, engine)
    return SlackDriver(app.test_client(), slack_api)


@pytest.mark.parametrize(
    ("followup", "leans"),
    [
        ("and for contractors?", True),  # a continuation
        ("what about part-time staff?", True),
        ("does it carry over?", True),  # points back
        ("how long is that valid?", True),
        ("contractors?", True),  # too short to stand alone
        ("how do I rotate the API key?", False),
        ("where is the HR portal for leave requests?", False),
    ],
)
def test_which_follow_ups_lean_on_the_thread(followup: str, leans: bool):
    assert needs_context(followup) is leans


def test_the_follow_up_weighs_more_than_the_context():
    query = with_context("and for contractors?", LEAVE_QUESTION)

    assert query.startswith("and for contractors? contractors ")
    assert query.split()[4:] == ["many", "days", "leave"]  # the 3 longest earlier words, in order


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("and for contractors?", True),
        ("what about interns", True),
        ("and interns", True),
        ("thanks!", False),
        ("ok, got it", False),
        ("<@U0000005> is this right?", False),
        (f"<@{BOT_USER_ID}> thanks", False),
        (f"<@{BOT_USER_ID}> what about interns", True),
    ],
)
def test_which_thread_replies_are_questions_for_the_bot(text: str, asks: bool):
    assert looks_like_a_question(text, BOT_USER_ID) is asks
