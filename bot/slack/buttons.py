"""The answer buttons: show the other candidate answers, and the 👍/👎 votes.

Each click finds its answer in Redis by the id in the button's value (kept 14 days).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.slack import delivery
from bot.slack.apology import apology
from bot.slack.blocks import MORE, VOTE_UP, answer_message
from bot.slack.state import SlackState


class Buttons:
    """The lazy listeners of the buttons under an answer."""

    def __init__(self, state: SlackState) -> None:
        self.state = state

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
            notes=meta.get("notes") or (),
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
                origin="slack",
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
        sorry = apology(
            error, text=text, user=body["user"]["id"], channel=_channel(body), doing=doing
        )
        self._tell(body, respond, client, sorry)

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


def _channel(body: dict[str, Any]) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
