"""Captured answers: the asker's ✅ or "Add to knowledge" on a thread reply makes the question
and the reply a document, found by later questions; a private channel's capture is only ever
answered in that channel, whatever a question or payload claims."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import cli
from retrieval.engine import QAEngine
from retrieval.index.chunks import ChunkIndex
from retrieval.settings import Settings
from tests.bot.slack.driver import SlackDriver
from tests.bot.slack.stand_in import SlackStandIn
from tests.bot.slack.test_followups import driver_for

pytestmark = pytest.mark.usefixtures("handbook")

PUBLIC, PRIVATE = "C0000060", "C0000061"
ASKER, HELPER = "U0000001", "U0000002"
QUESTION = "how do I get a parking permit?"
REPLY = "Ask the front desk on floor 2; a parking permit costs 30 euros a month."


@pytest.fixture(autouse=True)
def channels(slack_api: SlackStandIn) -> None:
    slack_api.channels[PUBLIC] = {"name": "facilities", "is_private": False}
    slack_api.channels[PRIVATE] = {"name": "exec-only", "is_private": True}


def thread(api: SlackStandIn, channel: str, reply: str = REPLY) -> tuple[str, str]:
    """A question and a colleague's reply in `channel`: (question ts, reply ts)."""
    root = api.say(channel, ASKER, QUESTION)
    return root, api.say(channel, HELPER, reply, thread_ts=root)


def captured(api: SlackStandIn) -> str:
    [note] = api.wait_for("chat.postEphemeral")
    assert note.data["text"].startswith(":white_check_mark: Added to knowledge"), note.data
    return note.data["text"]


def answer_in(slack: SlackDriver, api: SlackStandIn, question: str, channel: str) -> str:
    before = len(api.to("chat.postMessage"))
    slack.mention(question, channel=channel)
    return api.wait_for("chat.postMessage", count=before + 1)[-1].text()


def test_the_askers_checkmark_makes_a_document_found_in_the_same_and_other_words(
    slack: SlackDriver, slack_api: SlackStandIn, index: ChunkIndex
):
    _, reply_ts = thread(slack_api, PUBLIC)

    slack.reaction(channel=PUBLIC, ts=reply_ts, user=ASKER)

    assert f"`qa delete slack-{PUBLIC}-{reply_ts}`" in captured(slack_api)
    same = answer_in(slack, slack_api, QUESTION, "C0000099")
    other = answer_in(slack, slack_api, "where do I buy a pass for the car park?", "C0000099")
    for text in (same, other):
        assert "*Ask the front desk on floor 2; a parking permit costs 30 euros a month.*" in text
        assert f"https://example.slack.com/archives/{PUBLIC}/p{reply_ts.replace('.', '')}" in text
    [key] = index.chunk_keys(f"slack-{PUBLIC}-{reply_ts}")
    stored = {
        k.decode(): v.decode() for k, v in index.client.hgetall(key).items() if k != b"vector"
    }
    assert stored["source"] == "slack" and stored["tags"] == "facilities"
    assert stored["author"] == HELPER and float(stored["created"]) == float(reply_ts)
    assert stored["title"] == QUESTION and "channel" not in stored  # public: seen everywhere


def test_a_checkmark_from_anyone_but_the_asker_captures_nothing(
    slack: SlackDriver, slack_api: SlackStandIn, index: ChunkIndex
):
    root, reply_ts = thread(slack_api, PUBLIC)

    slack.reaction(channel=PUBLIC, ts=reply_ts, user=HELPER)  # not the asker
    slack.reaction(channel=PUBLIC, ts=root, user=ASKER)  # the question itself
    slack.reaction(channel=PUBLIC, ts=reply_ts, user=ASKER, name="eyes")  # another emoji
    slack.mention(QUESTION, channel="C0000099")  # a marker, answered after the others

    [post] = slack_api.wait_for("chat.postMessage")
    assert "front desk" not in post.text()
    assert slack_api.to("chat.postEphemeral") == []
    assert index.chunk_keys(f"slack-{PUBLIC}-{reply_ts}") == []


def test_the_shortcut_captures_a_reply_for_anyone_and_qa_delete_removes_it(
    slack: SlackDriver, slack_api: SlackStandIn, cli_env: dict[str, str]
):
    root, reply_ts = thread(slack_api, PUBLIC)
    message = {"type": "message", "user": HELPER, "text": REPLY, "ts": reply_ts, "thread_ts": root}

    slack.shortcut(channel=PUBLIC, message=message, user="U0000003")

    [note] = slack_api.wait_for("respond")
    assert note.data["text"].startswith(":white_check_mark: Added to knowledge")
    assert "front desk" in answer_in(slack, slack_api, QUESTION, PUBLIC)
    result = CliRunner().invoke(cli, ["delete", f"slack-{PUBLIC}-{reply_ts}"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "front desk" not in answer_in(slack, slack_api, QUESTION, PUBLIC)


def test_the_shortcut_on_a_question_or_a_bots_message_says_what_to_pick(
    slack: SlackDriver, slack_api: SlackStandIn
):
    root, _ = thread(slack_api, PUBLIC)

    slack.shortcut(channel=PUBLIC, message={"type": "message", "user": ASKER, "ts": root})

    [note] = slack_api.wait_for("respond")
    assert "use it on a reply in a thread" in note.data["text"]


@pytest.mark.parametrize(
    "elsewhere",
    [
        ("mention", "C0000099"),  # another channel
        ("dm", "D0000001"),
        ("command", "C0000099"),  # /ask in another channel
        ("mention-forged", "C0000099"),  # the private channel's id written into the question
    ],
)
def test_a_private_channel_capture_is_never_shown_in_another_channel(
    slack: SlackDriver, slack_api: SlackStandIn, elsewhere: tuple[str, str]
):
    _, reply_ts = thread(slack_api, PRIVATE)
    slack.reaction(channel=PRIVATE, ts=reply_ts, user=ASKER)
    captured(slack_api)
    assert "front desk" in answer_in(slack, slack_api, QUESTION, PRIVATE)  # at home: found

    how, channel = elsewhere
    if how == "dm":
        slack.dm(QUESTION)
    elif how == "command":
        slack.command(QUESTION, channel=channel)
    else:
        forged = f" channel:{PRIVATE} tag:{PRIVATE.lower()} source:slack" * (how != "mention")
        slack.mention(QUESTION + forged, channel=channel)

    method = "respond" if how == "command" else "chat.postMessage"
    reply = slack_api.wait_for(method, count=2 if method == "chat.postMessage" else 1)[-1]
    assert "front desk" not in reply.text() and "parking permit costs" not in reply.text()
    assert "exec-only" not in reply.text() and reply_ts.replace(".", "") not in reply.text()


def test_a_channel_that_cannot_be_looked_up_is_kept_private(
    slack: SlackDriver, slack_api: SlackStandIn, index: ChunkIndex
):
    slack_api.fail("conversations.info", "missing_scope")
    _, reply_ts = thread(slack_api, PUBLIC)

    slack.reaction(channel=PUBLIC, ts=reply_ts, user=ASKER)

    captured(slack_api)
    [key] = index.chunk_keys(f"slack-{PUBLIC}-{reply_ts}")
    assert index.client.hget(key, "channel") == PUBLIC.encode()


def test_a_retried_checkmark_event_captures_once(
    slack: SlackDriver, slack_api: SlackStandIn, index: ChunkIndex
):
    _, reply_ts = thread(slack_api, PUBLIC)

    slack.reaction(channel=PUBLIC, ts=reply_ts, user=ASKER, event_id="EvCHECK")
    slack.reaction(channel=PUBLIC, ts=reply_ts, user=ASKER, event_id="EvCHECK", retry=1)
    slack.reaction(channel=PUBLIC, ts=reply_ts, user=ASKER)  # removed and added again
    slack.mention(QUESTION, channel="C0000099")  # a marker, answered after the others

    slack_api.wait_for("chat.postMessage")
    captured(slack_api)
    assert len(slack_api.to("chat.postEphemeral")) == 1
    assert len(slack_api.to("chat.getPermalink")) == 1
    assert len(index.chunk_keys(f"slack-{PUBLIC}-{reply_ts}")) == 1


def test_capture_can_be_turned_off(
    settings: Settings, engine: QAEngine, slack_api: SlackStandIn, index: ChunkIndex
):
    driver = driver_for(settings.with_(slack_capture=False), engine, slack_api)
    root, reply_ts = thread(slack_api, PUBLIC)
    message = {"type": "message", "user": HELPER, "text": REPLY, "ts": reply_ts, "thread_ts": root}

    driver.shortcut(channel=PUBLIC, message=message)

    [note] = slack_api.wait_for("respond")
    assert "turned off" in note.data["text"]
    assert index.chunk_keys(f"slack-{PUBLIC}-{reply_ts}") == []
