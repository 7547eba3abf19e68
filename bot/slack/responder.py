"""The slow half of every listener: ask the engine, format the reply, deliver it.

Nothing here raises into Bolt: an engine, Redis or Slack failure becomes a short visible
apology for the asker and one full log line (with a reference to match the two).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt import BoltRequest, BoltResponse, Respond
from slack_sdk import WebClient

from bot.slack import delivery
from bot.slack.apology import apology
from bot.slack.blocks import answer_message, problem_message
from bot.slack.followup import looks_like_a_question, needs_context, with_context
from bot.slack.modal import ask_modal, read_submission
from bot.slack.scope import ChannelScopes, describe
from bot.slack.state import SlackState
from bot.slack.text import clip, escape, plain_question
from retrieval.engine import QAEngine
from retrieval.query.filters import Filters, parse_filters, split_inline_filters
from retrieval.settings import Settings
from retrieval.types import Answer

log = logging.getLogger(__name__)

HELP = (
    "Ask me about our documents: mention me with a question (`@docs how do I rotate the API "
    "key?`), DM me, or use `/ask how do I rotate the API key?`. Narrow the search with filters "
    'in the question: `source:handbook`, `tag:hr`, `created:2024`, `text:"exact words"`. '
    "`/ask` alone opens a form."
)


class Responder:
    """Turns questions from Slack into replies; one per app. Its public methods are the Bolt
    listeners themselves (Bolt passes `event`, `client`, ... by parameter name)."""

    def __init__(self, engine: QAEngine, settings: Settings | None = None) -> None:
        self.engine = engine
        self.settings = settings = settings or engine.settings
        self.ephemeral = settings.slack_ephemeral
        self.state = SlackState(lambda: engine.index.client, settings.key_prefix)
        self.scopes = ChannelScopes(lambda: engine.index.client, settings)

    # -- events ------------------------------------------------------------------------------

    def skip_redelivery(self, body: dict, request: BoltRequest, next_: Any) -> BoltResponse | None:
        """Slack redelivers an event it thinks was missed: act on each event_id once."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            return next_()
        first = self.state.claim(f"event:{event_id}")
        retry = request.headers.get("x-slack-retry-num")
        if first is False or (first is None and retry):  # unknown: a retry is likely a copy
            log.info("slack: skipping redelivered event %s (retry %s)", event_id, retry)
            return BoltResponse(status=200, body="")
        return next_()

    def answer_mention(self, event: dict, context: dict, client: WebClient) -> None:
        """`@bot question` in a channel: reply in the message's thread."""
        text = plain_question(event.get("text") or "", context.get("bot_user_id"))
        thread = event.get("thread_ts") or event.get("ts")
        self._answer_event(event, client, text, thread, self._earlier(event))

    def answer_dm(self, event: dict, context: dict, client: WebClient) -> None:
        """A direct message: reply in the DM (in its thread if it was sent in one)."""
        text = plain_question(event.get("text") or "", context.get("bot_user_id"))
        self._answer_event(event, client, text, event.get("thread_ts"), self._earlier(event))

    def answer_thread_reply(self, event: dict, context: dict, client: WebClient) -> None:
        """A question in a thread the bot has answered in, mention or not: a follow-up."""
        bot = context.get("bot_user_id")
        if not looks_like_a_question(event.get("text") or "", bot):
            return
        if (earlier := self._earlier(event)) is None:
            return  # not a thread the bot answered in (or follow-ups are off)
        text = plain_question(event.get("text") or "", bot)
        self._answer_event(event, client, text, event["thread_ts"], earlier)

    def _earlier(self, event: dict[str, Any]) -> str | None:
        root = event.get("thread_ts")
        if not root or root == event.get("ts") or not self.settings.slack_followups:
            return None
        return self.state.thread_question(event["channel"], root)

    def _answer_event(
        self,
        event: dict[str, Any],
        client: WebClient,
        text: str,
        thread_ts: str | None,
        earlier: str | None,
    ) -> None:
        """Answer a message once, in its thread (or DM); remember what the thread is about."""
        channel, user = event["channel"], event.get("user") or ""
        if self.state.claim(f"msg:{channel}:{event.get('ts')}") is False:
            return  # the same message came as another event (a mention in a DM) or again
        message, about = self.compose(text, user=user, channel=channel, earlier=earlier)
        if about and self.settings.slack_followups:
            where = thread_ts or event.get("ts") or ""
            self.state.remember_thread(channel, where, about, self.settings.slack_thread_ttl_s)
        delivery.post(client, message, channel=channel, user=user, thread_ts=thread_ts)

    # -- questions ---------------------------------------------------------------------------

    def compose(
        self,
        text: str,
        *,
        user: str,
        channel: str,
        picked: dict[str, list[str]] | None = None,
        earlier: str | None = None,
    ) -> tuple[dict[str, Any], str | None]:
        """The reply to one question, and the question its thread is now about (None if none).

        The channel's scope applies unless the question sets filters; chunks restricted to a
        channel are searched only from that channel (which comes from Slack, never the text).
        """
        try:
            question, filters = split_inline_filters(text)
            if picked:
                filters = filters.merged(parse_filters(picked))
            if not question:
                return problem_message(HELP), None
            if filters.is_empty():
                filters = self.scopes.get(channel)
            used = earlier if earlier and needs_context(question) else None
            query = with_context(question, used) if used else question
            answer = self._ask(query, filters, channel)
        except Exception as e:  # noqa: BLE001 - every failure must become a visible reply
            return problem_message(apology(e, text=text, user=user, channel=channel)), None
        answer.question = question  # shown as asked, not as searched
        notes = _notes(filters, used)
        answer_id = self.state.save_answer(
            answer, {"user": user, "channel": channel, "notes": notes}
        )
        message = answer_message(answer, answer_id=answer_id, asked_by=user, notes=notes)
        return message, used or question

    def _ask(self, query: str, filters: Filters, channel: str) -> Answer:
        """Ask from this channel: its own private captures are searched, no other channel's."""
        return self.engine.ask(query, filters=replace(filters, visible_in=channel))

    def answer_command(self, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        """`/ask question` (or the form, for `/ask` alone; help was shown by the ack)."""
        channel, user = command["channel_id"], command["user_id"]
        text = (command.get("text") or "").strip()
        if not text:
            self.open_modal(command, respond, client)
            return
        if text.lower() in ("help", "?"):
            return
        message, _ = self.compose(text, user=user, channel=channel)
        delivery.respond_then_post(
            respond, client, message, channel=channel, user=user, ephemeral=self.ephemeral
        )

    def answer_submission(
        self, view: dict[str, Any], body: dict[str, Any], client: WebClient
    ) -> None:
        user = body["user"]["id"]
        question, picked, where = read_submission(view)
        channel = str(where.get("channel") or user)
        message, _ = self.compose(question, user=user, channel=channel, picked=picked)
        delivery.post(client, message, channel=channel, user=user, ephemeral=self.ephemeral)

    # -- the modal ---------------------------------------------------------------------------

    def open_modal(self, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        """The question form, with the sources and tags the index holds right now."""
        channel, user = command["channel_id"], command["user_id"]
        note = None
        try:
            facets = self.engine.facets()
        except Exception as e:  # noqa: BLE001 - the form still opens, without filter choices
            log.warning("slack: cannot read filter choices from the index (%s)", e)
            facets, note = {"sources": [], "tags": []}, "_Filter choices are unavailable now._"
        view = ask_modal(
            facets["sources"],
            facets["tags"],
            channel=channel,
            user=user,
            max_question_chars=self.engine.settings.max_question_chars,
            note=note,
        )
        try:
            client.views_open(trigger_id=command["trigger_id"], view=view)
        except Exception as e:  # noqa: BLE001 - every failure must become a visible reply
            log.warning("slack: cannot open the question form (%s)", delivery.describe(e))
            text = (
                ":warning: Sorry, I couldn't open the question form. Type the question "
                f"after the command instead: `{command.get('command', '/ask')} how do I …?`"
            )
            delivery.tell(respond, client, text, channel=channel, user=user)


def _notes(filters: Filters, earlier: str | None) -> list[str]:
    """What the answer says beside the question: what it searched, what it took into account."""
    notes = [f":mag: searched: {describe(filters)}"]
    if earlier:
        quoted = escape(clip(earlier, 200))
        notes.append(f":thread: taking into account the earlier question: “{quoted}”")
    return notes
