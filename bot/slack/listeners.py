"""Every Slack listener, registered in one place. Each acks at once; the work is lazy.

Slack wants an answer to every request within 3 seconds, so an ack function only checks the
input and returns, and a lazy function (run by Bolt in a thread after the ack) does the work.
The lazy functions are the Responder's, Buttons' and Capturer's methods themselves. Events
from bots, edits and Slack's redeliveries are acknowledged and dropped, so the bot never
answers itself, another bot, or the same message twice.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App

from bot.slack.blocks import LESS, MORE, VOTE_DOWN, VOTE_UP
from bot.slack.buttons import Buttons
from bot.slack.capture import CAPTURE_CALLBACK, CHECKMARK, Capturer
from bot.slack.modal import CALLBACK_ID, QUESTION
from bot.slack.responder import HELP, Responder
from bot.slack.text import escape, plain_question

log = logging.getLogger(__name__)

_PERSON_SUBTYPES = (None, "file_share", "thread_broadcast")
SCOPE_COMMAND = "/ask-scope"


def register_listeners(app: App, responder: Responder) -> None:
    """Wire the app's events, commands, form, shortcut and buttons to their handlers."""
    buttons = Buttons(responder.state)
    capturer = Capturer(responder)
    app.use(responder.skip_redelivery)
    app.event("app_mention", matchers=[from_a_person])(
        ack=acknowledge, lazy=[responder.answer_mention]
    )
    app.event("message", matchers=[dm_from_a_person])(ack=acknowledge, lazy=[responder.answer_dm])
    app.event("message", matchers=[thread_reply_from_a_person])(
        ack=acknowledge, lazy=[responder.answer_thread_reply]
    )
    app.event("reaction_added", matchers=[checkmark_on_a_message])(
        ack=acknowledge, lazy=[capturer.capture_reaction]
    )
    for ignored in ("app_mention", "message", "reaction_added"):  # bots, chatter, edits...
        app.event(ignored)(acknowledge)
    app.command(SCOPE_COMMAND)(ack=acknowledge, lazy=[responder.scopes.command])
    app.command(re.compile(r"^/"))(ack=ack_command, lazy=[responder.answer_command])
    app.view(CALLBACK_ID)(ack=ack_submission, lazy=[responder.answer_submission])
    app.shortcut(CAPTURE_CALLBACK)(ack=acknowledge, lazy=[capturer.capture_shortcut])
    toggles = re.compile(f"^({MORE}|{LESS})$")
    app.action(toggles)(ack=acknowledge, lazy=[buttons.toggle_answers])
    app.action(re.compile(f"^({VOTE_UP}|{VOTE_DOWN})$"))(
        ack=acknowledge, lazy=[buttons.record_vote]
    )
    app.error(log_error)


def acknowledge(ack: Ack) -> None:
    ack()


def from_a_person(event: dict[str, Any]) -> bool:
    """A person's own message: not a bot's, not an edit, deletion or join notice."""
    human = bool(event.get("user")) and not event.get("bot_id")
    return human and event.get("subtype") in _PERSON_SUBTYPES


def dm_from_a_person(event: dict[str, Any]) -> bool:
    return event.get("channel_type") == "im" and from_a_person(event)


def thread_reply_from_a_person(event: dict[str, Any]) -> bool:
    """A reply inside a channel's thread (message.channels, .groups, .mpim), from a person."""
    thread = event.get("thread_ts")
    in_thread = bool(thread) and thread != event.get("ts")
    return in_thread and event.get("channel_type") != "im" and from_a_person(event)


def checkmark_on_a_message(event: dict[str, Any]) -> bool:
    item = event.get("item") or {}
    return event.get("reaction") == CHECKMARK and item.get("type") == "message"


def ack_command(ack: Ack, command: dict) -> None:
    """`/ask`: help, the form, or a quick "looking" note while the answer is prepared."""
    text = (command.get("text") or "").strip()
    if text.lower() in ("help", "?"):
        ack(text=HELP)
    elif text:
        ack(text=f":mag: Looking that up: _{escape(plain_question(text)[:200])}_")
    else:
        ack()


def ack_submission(ack: Ack, view: dict) -> None:
    """The form closes at once; an empty question keeps it open with a hint."""
    values = view.get("state", {}).get("values", {})
    if not (values.get(QUESTION, {}).get(QUESTION, {}).get("value") or "").strip():
        ack(response_action="errors", errors={QUESTION: "Type a question first."})
    else:
        ack()


def log_error(error: Exception, body: dict) -> None:
    """Errors Bolt caught outside the lazy functions (which handle their own)."""
    kind = body.get("type") or body.get("command") or "request"
    log.error("slack: listener failed on %s: %s", kind, error, exc_info=error)
