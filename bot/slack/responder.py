"""The slow half of every listener: ask the engine, format the reply, deliver it.

Nothing here raises into Bolt: an engine, Redis or Slack failure becomes a short visible
apology for the asker and one full log line (with a reference to match the two).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.slack import delivery
from bot.slack.blocks import MORE, VOTE_UP, answer_message, problem_message
from bot.slack.modal import ask_modal, read_submission
from bot.slack.state import SlackState
from bot.slack.text import escape
from retrieval.engine import QAEngine
from retrieval.errors import FilterError, InvalidQuestion, QAError
from retrieval.filters import parse_filters, split_inline_filters

log = logging.getLogger(__name__)

HELP = (
    "Ask me about our documents: mention me with a question (`@docs how do I rotate the API "
    "key?`), DM me, or use `/ask how do I rotate the API key?`. Narrow the search with filters "
    'in the question: `source:handbook`, `tag:hr`, `created:2024`, `text:"exact words"`. '
    "`/ask` alone opens a form."
)
_TROUBLE = {
    "redis_unavailable": "the document store (Redis) can't be reached",
    "search_module_missing": "the document store has no search module",
    "index_missing": "the document index doesn't exist yet",
    "index_schema_mismatch": "the document index was built with different settings",
    "model_unavailable": "the answering model isn't available",
    "bad_configuration": "the bot is misconfigured",
}


class Responder:
    """Turns questions from Slack into replies; one per app, shared by all listeners."""

    def __init__(self, engine: QAEngine, ephemeral: bool | None = None) -> None:
        self.engine = engine
        self.ephemeral = engine.settings.slack_ephemeral if ephemeral is None else ephemeral
        self.state = SlackState(lambda: engine.index.client, engine.settings.key_prefix)

    # -- questions ---------------------------------------------------------------------------

    def compose(
        self, text: str, *, user: str, channel: str, picked: dict[str, list[str]] | None = None
    ) -> dict[str, Any]:
        """The reply to one question: the answer, or an apology that says what to try."""
        try:
            question, filters = split_inline_filters(text)
            if picked:
                filters = filters.merged(parse_filters(picked))
            if not question:
                return problem_message(HELP)
            answer = self.engine.ask(question, filters=filters)
        except Exception as e:  # noqa: BLE001 - every failure must become a visible reply
            return problem_message(self.apology(e, text=text, user=user, channel=channel))
        answer_id = self.state.save_answer(answer, {"user": user, "channel": channel})
        return answer_message(answer, answer_id=answer_id, asked_by=user)

    def answer_message_event(
        self, event: dict[str, Any], client: WebClient, text: str, thread_ts: str | None
    ) -> None:
        """A mention or a DM: answer once, in the thread (or DM) it came from."""
        channel, user = event["channel"], event.get("user") or ""
        if self.state.claim(f"msg:{channel}:{event.get('ts')}") is False:
            return  # the same message came as another event (a mention in a DM) or again
        message = self.compose(text, user=user, channel=channel)
        delivery.post(client, message, channel=channel, user=user, thread_ts=thread_ts)

    def answer_command(self, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        channel, user = command["channel_id"], command["user_id"]
        message = self.compose(command.get("text") or "", user=user, channel=channel)
        delivery.respond_then_post(
            respond, client, message, channel=channel, user=user, ephemeral=self.ephemeral
        )

    def answer_submission(self, view: dict[str, Any], user: str, client: WebClient) -> None:
        question, picked, where = read_submission(view)
        channel = str(where.get("channel") or user)
        message = self.compose(question, user=user, channel=channel, picked=picked)
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

    # -- buttons -----------------------------------------------------------------------------

    def toggle_answers(
        self, action: dict[str, Any], body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        """Show (or hide again) the other candidate answers under the best one."""
        if (loaded := self._load(action, body, respond, client)) is None:
            return
        answer, meta = loaded
        message = answer_message(
            answer,
            answer_id=action["value"],
            expanded=action["action_id"] == MORE,
            asked_by=meta.get("user"),
        )
        if not delivery.update(respond, message):
            self._tell(body, respond, client, ":warning: Sorry, I couldn't update that message.")

    def record_vote(
        self, action: dict[str, Any], body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        if (loaded := self._load(action, body, respond, client)) is None:
            return
        answer, meta = loaded
        vote = "up" if action["action_id"] == VOTE_UP else "down"
        extra = {
            "answer_id": action["value"],
            "channel": _channel(body) or meta.get("channel"),
            "reader": answer.reader,
            "score": answer.score,
            "reason": answer.reason,
        }
        try:
            self.state.feedback().record(
                question=answer.question,
                answer=answer.answer,
                sources=answer.sources,
                vote=vote,
                user=body["user"]["id"],
                extra=extra,
            )
        except Exception as e:  # noqa: BLE001 - every failure must become a visible reply
            self._apologise(e, body, respond, client, "(vote)", "save your vote")
            return
        thanks = ":thumbsup: Thanks, noted!" if vote == "up" else "Thanks, noted. :memo:"
        self._tell(body, respond, client, thanks)

    def _apologise(
        self,
        error: Exception,
        body: dict[str, Any],
        respond: Respond,
        client: WebClient,
        text: str,
        doing: str,
    ) -> None:
        """A button's work failed: log it in full, tell the clicker briefly."""
        apology = self.apology(
            error, text=text, user=body["user"]["id"], channel=_channel(body), doing=doing
        )
        self._tell(body, respond, client, apology)

    def _load(
        self, action: dict[str, Any], body: dict[str, Any], respond: Respond, client: WebClient
    ) -> tuple[Any, dict[str, Any]] | None:
        try:
            loaded = self.state.load_answer(str(action.get("value") or ""))
        except Exception as e:  # noqa: BLE001 - every failure must become a visible reply
            self._apologise(e, body, respond, client, "(button)", "find that answer")
            return None
        if loaded is None:
            self._tell(
                body, respond, client, "That answer has expired: ask again to use its buttons."
            )
        return loaded

    def _tell(self, body: dict[str, Any], respond: Respond, client: WebClient, text: str) -> None:
        delivery.tell(respond, client, text, channel=_channel(body), user=body["user"]["id"])

    # -- errors ------------------------------------------------------------------------------

    def apology(
        self, error: Exception, *, text: str, user: str, channel: str | None, doing: str = "answer"
    ) -> str:
        """What the asker reads when answering failed; the log gets the details."""
        if isinstance(error, InvalidQuestion | FilterError):
            log.info("slack: rejected question from %s: %s", user, error)
            return f":warning: {escape(str(error))}"
        ref = secrets.token_hex(4)
        log.error(
            "slack: could not %s for %s in %s [ref %s] (message %r): %s: %s",
            doing,
            user,
            channel,
            ref,
            text,
            type(error).__name__,
            error,
            exc_info=error,
        )
        code = error.code if isinstance(error, QAError) else ""
        trouble = _TROUBLE.get(code, "something went wrong on my side")
        return (
            f":warning: Sorry, I couldn't {doing}: {trouble}. Try again in a few minutes; "
            f"if it keeps failing, tell whoever runs this bot (ref `{ref}`)."
        )


def _channel(body: dict[str, Any]) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
