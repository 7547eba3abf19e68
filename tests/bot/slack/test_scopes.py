"""Channel scopes: `/ask-scope` sets a channel's default filters (admins only); questions
there search only inside them unless they set their own; DMs share a workspace default."""

from __future__ import annotations

import pytest

from retrieval.engine import QAEngine
from retrieval.settings import Settings
from tests.bot.slack.driver import SlackDriver
from tests.bot.slack.stand_in import SlackStandIn
from tests.bot.slack.test_followups import driver_for, heading

pytestmark = pytest.mark.usefixtures("handbook")

ADMIN, MEMBER = "U00ADMIN1", "U0000001"
KEY_QUESTION = "how do I rotate the API key?"


@pytest.fixture(autouse=True)
def people(slack_api: SlackStandIn) -> None:
    slack_api.users[ADMIN] = {"is_admin": True}
    slack_api.users[MEMBER] = {"is_admin": False, "is_owner": False}


def scope(
    slack: SlackDriver,
    api: SlackStandIn,
    text: str,
    *,
    user: str = ADMIN,
    channel: str = "C0000050",
) -> str:
    """Run `/ask-scope text` and return what the person reads."""
    before = len(api.to("respond"))
    slack.command(text, name="/ask-scope", channel=channel, user=user)
    return api.wait_for("respond", count=before + 1)[-1].data["text"]


def test_a_scoped_channel_never_answers_from_another_source(
    slack: SlackDriver, slack_api: SlackStandIn
):
    said = scope(slack, slack_api, "source:policies")
    slack.mention(KEY_QUESTION, channel="C0000050")
    slack.mention(KEY_QUESTION, channel="C0000051")  # another channel: unscoped

    assert "now search: source policies" in said
    posts = slack_api.wait_for("chat.postMessage", count=2)
    [scoped] = [p for p in posts if p.data["channel"] == "C0000050"]
    [other] = [p for p in posts if p.data["channel"] == "C0000051"]
    assert "wiki.example.com/handbook" not in scoped.text()
    assert "Security policy" in scoped.text()
    assert ":mag: searched: source policies" in heading(scoped)
    assert other.data["text"].startswith("To rotate the API key")
    assert ":mag: searched: everything" in heading(other)


def test_a_question_with_its_own_filters_ignores_the_scope(
    slack: SlackDriver, slack_api: SlackStandIn
):
    scope(slack, slack_api, "source:policies")
    slack.mention(f"{KEY_QUESTION} source:handbook", channel="C0000050")

    [post] = slack_api.wait_for("chat.postMessage")
    assert post.data["text"].startswith("To rotate the API key")
    assert ":mag: searched: source handbook" in heading(post)


def test_a_member_who_is_not_an_admin_cannot_change_the_scope(
    slack: SlackDriver, slack_api: SlackStandIn
):
    said = scope(slack, slack_api, "source:policies", user=MEMBER)
    slack.mention(KEY_QUESTION, channel="C0000050")

    assert "Only workspace admins" in said
    [post] = slack_api.wait_for("chat.postMessage")
    assert post.data["text"].startswith("To rotate the API key")
    assert [c.data["user"] for c in slack_api.to("users.info")] == [MEMBER]


def test_members_of_the_configured_group_may_change_the_scope(
    settings: Settings, engine: QAEngine, slack_api: SlackStandIn
):
    driver = driver_for(settings.with_(slack_scope_admins="S0000001"), engine, slack_api)
    slack_api.groups["S0000001"] = [MEMBER]

    said = scope(driver, slack_api, "tag:security", user=MEMBER)

    assert "now search: tag security" in said


def test_ask_scope_alone_shows_the_scope_to_anyone(slack: SlackDriver, slack_api: SlackStandIn):
    assert "search: everything" in scope(slack, slack_api, "", user=MEMBER)
    scope(slack, slack_api, "source:policies tag:security")

    said = scope(slack, slack_api, "", user=MEMBER)

    assert "Questions in this channel search: tag security, source policies" in said


def test_clearing_the_scope_searches_everything_again(slack: SlackDriver, slack_api: SlackStandIn):
    scope(slack, slack_api, "source:policies")
    assert "now search: everything" in scope(slack, slack_api, "clear")

    slack.mention(KEY_QUESTION, channel="C0000050")

    [post] = slack_api.wait_for("chat.postMessage")
    assert post.data["text"].startswith("To rotate the API key")


def test_dms_use_the_workspace_default(
    settings: Settings, engine: QAEngine, slack_api: SlackStandIn
):
    driver = driver_for(settings.with_(slack_dm_scope="source:policies"), engine, slack_api)

    driver.dm(KEY_QUESTION)

    [post] = slack_api.wait_for("chat.postMessage")
    assert "wiki.example.com/handbook" not in post.text()
    assert ":mag: searched: source policies" in heading(post)


def test_ask_scope_in_a_dm_sets_the_default_of_every_dm(
    slack: SlackDriver, slack_api: SlackStandIn
):
    said = scope(slack, slack_api, "source:policies", channel="D0000077")
    slack.dm(KEY_QUESTION)  # another person's DM with the bot

    assert "Questions in DMs with me now search: source policies" in said
    [post] = slack_api.wait_for("chat.postMessage")
    assert ":mag: searched: source policies" in heading(post)


@pytest.mark.parametrize(
    "hostile",
    [
        'source:"policies} | @source:{handbook"',
        'source:"policies)|(@source:{handbook}"',
        'source:"*"',
        'tag:"security | handbook"',
        'source:"handbook\\\\"',
        'source:"-@source:{policies}"',
    ],
)
def test_scope_values_with_filter_syntax_are_only_values(
    slack: SlackDriver, slack_api: SlackStandIn, hostile: str
):
    said = scope(slack, slack_api, hostile)
    slack.mention(KEY_QUESTION, channel="C0000050")

    assert "now search: " in said
    [post] = slack_api.wait_for("chat.postMessage")
    assert "couldn't find an answer: no document matches the filters" in post.text()
    assert "wiki.example.com" not in post.text() and "files.example.com" not in post.text()


@pytest.mark.parametrize("text", ["please use source:hr", "hr", 'source:"hr'])
def test_a_scope_that_is_not_filters_is_refused_and_changes_nothing(
    slack: SlackDriver, slack_api: SlackStandIn, text: str
):
    said = scope(slack, slack_api, text)
    slack.mention(KEY_QUESTION, channel="C0000050")

    assert said.startswith(":warning:") and "/ask-scope source:hr tag:policy" in said
    [post] = slack_api.wait_for("chat.postMessage")
    assert post.data["text"].startswith("To rotate the API key")


def test_scopes_can_be_turned_off(settings: Settings, engine: QAEngine, slack_api: SlackStandIn):
    driver = driver_for(settings.with_(slack_scopes=False), engine, slack_api)

    said = scope(driver, slack_api, "source:policies")

    assert "turned off" in said
