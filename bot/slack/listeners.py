"""Every Slack listener, registered in one place. Each acks at once; the work is lazy.

Slack wants an answer to every request within 3 seconds, so an ack function only checks the
input and returns, and a lazy function (run by Bolt in a thread after the ack) asks the
engine and posts. Events from bots, edits and Slack's redeliveries are acknowledged and
dropped, so the bot never answers itself, another bot, or the same question twice.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltRequest, BoltResponse, Respond
from slack_sdk import WebClient

from bot.slack.blocks import LESS, MORE, VOTE_DOWN, VOTE_UP
from bot.slack.modal import CALLBACK_ID, QUESTION
from bot.slack.responder import HELP, Responder
from bot.slack.text import escape, plain_question
from retrieval.engine import QAEngine

log = logging.getLogger(__name__)

_PERSON_SUBTYPES = (None, "file_share", "thread_broadcast")


def register_listeners(app: App, engine: QAEngine, ephemeral: bool | None = None) -> Listeners:
    """Wire the app's events, command, modal and buttons to one Responder."""
    on = Listeners(Responder(engine, ephemeral))
    app.use(on.skip_redelivery)
    app.event("app_mention", matchers=[from_a_person])(ack=acknowledge, lazy=[on.answer_mention])
    app.event("message", matchers=[dm_from_a_person])(ack=acknowledge, lazy=[on.answer_dm])
    app.event("app_mention")(acknowledge)  # from a bot: ignored
    app.event("message")(acknowledge)  # channel chatter, edits, bots: ignored
    app.command(re.compile(r"^/"))(ack=on.ack_command, lazy=[on.answer_command])
    app.view(CALLBACK_ID)(ack=on.ack_submission, lazy=[on.answer_submission])
    buttons = re.compile(f"^({MORE}|{LESS})$")
    app.action(buttons)(ack=acknowledge, lazy=[on.toggle_answers])
    app.action(re.compile(f"^({VOTE_UP}|{VOTE_DOWN})$"))(ack=acknowledge, lazy=[on.record_vote])
    app.error(on.log_error)
    return on


def acknowledge(ack: Ack) -> None:
    ack()


def from_a_person(event: dict[str, Any]) -> bool:
    """A person's own message: not a bot's, not an edit, deletion or join notice."""
    human = bool(event.get("user")) and not event.get("bot_id")
    return human and event.get("subtype") in _PERSON_SUBTYPES


def dm_from_a_person(event: dict[str, Any]) -> bool:
    return event.get("channel_type") == "im" and from_a_person(event)


class Listeners:
    """The callbacks; each delegates to the Responder."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder

    def skip_redelivery(self, body: dict, request: BoltRequest, next_: Any) -> BoltResponse | None:
        """Slack redelivers an event it thinks was missed: answer each event_id once."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            return next_()
        first = self.responder.state.claim(f"event:{event_id}")
        retry = request.headers.get("x-slack-retry-num")
        if first is False or (first is None and retry):  # unknown: a retry is likely a copy
            log.info("slack: skipping redelivered event %s (retry %s)", event_id, retry)
            return BoltResponse(status=200, body="")
        return next_()

    def answer_mention(self, event: dict, context: dict, client: WebClient) -> None:
        """`@bot question` in a channel: reply in the message's thread."""
        text = plain_question(event.get("text") or "", context.get("bot_user_id"))
        thread = event.get("thread_ts") or event.get("ts")
        self.responder.answer_message_event(event, client, text, thread)

    def answer_dm(self, event: dict, context: dict, client: WebClient) -> None:
        """A direct message: reply in the DM (in its thread if it was sent in one)."""
        text = plain_question(event.get("text") or "", context.get("bot_user_id"))
        self.responder.answer_message_event(event, client, text, event.get("thread_ts"))

    def ack_command(self, ack: Ack, command: dict) -> None:
        """`/ask`: help, the form, or a quick "looking" note while the answer is prepared."""
        text = (command.get("text") or "").strip()
        if text.lower() in ("help", "?"):
            ack(text=HELP)
        elif text:
            ack(text=f":mag: Looking that up: _{escape(plain_question(text)[:200])}_")
        else:
            ack()

    def answer_command(self, command: dict, respond: Respond, client: WebClient) -> None:
        text = (command.get("text") or "").strip()
        if not text:
            self.responder.open_modal(command, respond, client)
        elif text.lower() not in ("help", "?"):
            self.responder.answer_command(command, respond, client)

    def ack_submission(self, ack: Ack, view: dict) -> None:
        """The form closes at once; an empty question keeps it open with a hint."""
        values = view.get("state", {}).get("values", {})
        if not (values.get(QUESTION, {}).get(QUESTION, {}).get("value") or "").strip():
            ack(response_action="errors", errors={QUESTION: "Type a question first."})
        else:
            ack()

    def answer_submission(self, view: dict, body: dict, client: WebClient) -> None:
        self.responder.answer_submission(view, body["user"]["id"], client)

    def toggle_answers(self, action: dict, body: dict, respond: Respond, client: WebClient) -> None:
        self.responder.toggle_answers(action, body, respond, client)

    def record_vote(self, action: dict, body: dict, respond: Respond, client: WebClient) -> None:
        self.responder.record_vote(action, body, respond, client)

    def log_error(self, error: Exception, body: dict) -> None:
        """Errors Bolt caught outside the lazy functions (which handle their own)."""
        kind = body.get("type") or body.get("command") or "request"
        log.error("slack: listener failed on %s: %s", kind, error, exc_info=error)
