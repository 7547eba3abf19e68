"""Getting a reply in front of the asker even when a Slack API call fails.

Each reply is tried in order: where it belongs with its blocks, there as plain text (in case
Slack refused the blocks), then in the asker's DM with the bot (in case Slack refused the
place: not in the channel, archived...). Failures are logged; nothing here raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

log = logging.getLogger(__name__)

Message = dict[str, Any]
Respond = Callable[..., Any]
NO_PREVIEWS = {"unfurl_links": False, "unfurl_media": False}  # source links would flood threads


def post(
    client: WebClient,
    message: Message,
    *,
    channel: str,
    user: str | None,
    thread_ts: str | None = None,
    ephemeral: bool = False,
) -> bool:
    """Post `message` (text + blocks) in `channel`; True once some version of it got through."""
    if ephemeral and user:

        def here(m: Message) -> Any:
            return client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **m)
    else:

        def here(m: Message) -> Any:
            return client.chat_postMessage(channel=channel, thread_ts=thread_ts, **NO_PREVIEWS, **m)

    attempts: list[tuple[str, Callable[[], Any]]] = [
        ("with blocks", lambda: here(message)),
        ("as plain text", lambda: here({"text": message["text"]})),
    ]
    if user and user != channel:
        attempts.append(("in the asker's DM", lambda: _dm(client, user, channel, message)))
    return _first_success(attempts, where=channel)


def respond_then_post(
    respond: Respond,
    client: WebClient,
    message: Message,
    *,
    channel: str,
    user: str,
    ephemeral: bool,
) -> bool:
    """Reply through a slash command's response_url; fall back to the Web API."""
    kind = "ephemeral" if ephemeral else "in_channel"

    def via_response_url() -> None:
        reply = respond(response_type=kind, replace_original=False, **NO_PREVIEWS, **message)
        if reply is not None and getattr(reply, "status_code", 200) != 200:
            raise RuntimeError(f"response_url answered {reply.status_code}: {reply.body}")

    if _first_success([("via response_url", via_response_url)], where=channel):
        return True
    return post(client, message, channel=channel, user=user, ephemeral=ephemeral)


def update(respond: Respond, message: Message) -> bool:
    """Replace the message a button sits on (works for ephemeral messages too)."""

    def replace() -> None:
        reply = respond(replace_original=True, **message)
        if reply is not None and getattr(reply, "status_code", 200) != 200:
            raise RuntimeError(f"response_url answered {reply.status_code}: {reply.body}")

    return _first_success([("replacing the message", replace)], where="response_url")


def tell(respond: Respond, client: WebClient, text: str, *, channel: str | None, user: str) -> bool:
    """A short note to one user (a thank-you, an apology) next to a button they clicked."""

    def via_response_url() -> None:
        reply = respond(text=text, response_type="ephemeral", replace_original=False)
        if reply is not None and getattr(reply, "status_code", 200) != 200:
            raise RuntimeError(f"response_url answered {reply.status_code}: {reply.body}")

    attempts = [("via response_url", via_response_url)]
    if channel:
        attempts.append(
            (
                "as an ephemeral message",
                lambda: client.chat_postEphemeral(channel=channel, user=user, text=text),
            )
        )
    attempts.append(("in a DM", lambda: client.chat_postMessage(channel=user, text=text)))
    return _first_success(attempts, where=channel or user)


def _dm(client: WebClient, user: str, channel: str, message: Message) -> Any:
    note = f"_I couldn't reply in <#{channel}>, so here is my reply._"
    blocks = [{"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}]
    blocks += message.get("blocks") or [
        {"type": "section", "text": {"type": "mrkdwn", "text": message["text"]}}
    ]
    return client.chat_postMessage(
        channel=user, text=message["text"], blocks=blocks[:50], **NO_PREVIEWS
    )


def _first_success(attempts: list[tuple[str, Callable[[], Any]]], where: str) -> bool:
    for how, attempt in attempts:
        try:
            attempt()
            return True
        except Exception as e:  # noqa: BLE001 - any failure (API, network): try the next way
            log.warning("slack: posting to %s %s failed: %s", where, how, describe(e))
    log.error("slack: could not deliver a reply to %s in any way", where)
    return False


def describe(error: Exception) -> str:
    response = getattr(error, "response", None)
    if response is not None and hasattr(response, "get"):
        return str(response.get("error") or error)
    return f"{type(error).__name__}: {error}"
