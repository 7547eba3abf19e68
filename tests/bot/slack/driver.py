"""Sends what Slack sends to /slack/events: signed events, commands, clicks, submissions."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from flask.testing import FlaskClient
from slack_sdk.signature import SignatureVerifier

from tests.bot.slack.stand_in import BOT_USER_ID, TEAM_ID, SlackStandIn

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


class SlackDriver:
    """Sends what Slack sends: signed events, commands, clicks and form submissions."""

    def __init__(self, client: FlaskClient, api: SlackStandIn) -> None:
        self.client = client
        self.api = api
        self.ack_seconds: list[float] = []
        self._ids = iter(range(1, 10_000))

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
    ) -> Any:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        started = time.perf_counter()
        response = self.client.post(
            "/slack/events",
            data=body,
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": signature or "",
                **(headers or {}),
            },
        )
        self.ack_seconds.append(time.perf_counter() - started)
        return response

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> Any:
        body = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": "A0000001",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(json.dumps(body), "application/json", headers=headers if retry else None)

    def mention(
        self,
        text: str,
        *,
        channel: str = "C0000001",
        user: str = "U0000001",
        thread_ts: str | None = None,
        bot_id: str | None = None,
        **kw: Any,
    ) -> tuple[Any, str]:
        ts = f"{int(time.time())}.{next(self._ids):06d}"
        event = {
            "type": "app_mention",
            "user": user,
            "text": f"<@{BOT_USER_ID}> {text}",
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
        }
        event |= {"thread_ts": thread_ts} if thread_ts else {}
        event |= {"bot_id": bot_id} if bot_id else {}
        return self.event(event, **kw), ts

    def dm(self, text: str, *, user: str = "U0000001", **fields: Any) -> Any:
        ts = f"{int(time.time())}.{next(self._ids):06d}"
        event = {
            "type": "message",
            "channel_type": "im",
            "channel": "D0000001",
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            **fields,
        }
        return self.event({k: v for k, v in event.items() if v is not None})

    def thread_reply(
        self, text: str, *, channel: str, thread_ts: str, user: str = "U0000001", **kw: Any
    ) -> tuple[Any, str]:
        """A message in a channel's thread, as message.channels delivers it (no mention)."""
        ts = self.api.say(channel, user, text, thread_ts=thread_ts)
        event = {
            "type": "message",
            "channel_type": "channel",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": ts,
            "thread_ts": thread_ts,
            "event_ts": ts,
        }
        return self.event(event, **kw), ts

    def reaction(
        self, *, channel: str, ts: str, user: str, name: str = "white_check_mark", **kw: Any
    ) -> Any:
        event = {
            "type": "reaction_added",
            "user": user,
            "reaction": name,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": f"{int(time.time())}.{next(self._ids):06d}",
        }
        return self.event(event, **kw)

    def shortcut(self, *, channel: str, message: dict[str, Any], user: str = "U0000002") -> Any:
        """The "Add to knowledge" message shortcut on `message`."""
        return self.interact(
            {
                "type": "message_action",
                "callback_id": "qa_add_to_knowledge",
                "trigger_id": "1337.44.abcd",
                "user": {"id": user, "name": "bo"},
                "channel": {"id": channel, "name": "some-channel"},
                "message": message,
                "message_ts": message["ts"],
                "response_url": self.api.response_url("shortcut"),
            }
        )

    def command(
        self,
        text: str,
        *,
        response_url: str | None = None,
        name: str = "/ask",
        channel: str = "C0000001",
        user: str = "U0000001",
    ) -> Any:
        form = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "ana",
            "command": name,
            "text": text,
            "api_app_id": "A0000001",
            "response_url": response_url or self.api.response_url("command"),
            "trigger_id": "1337.42.abcd",
        }
        return self.post(urlencode(form), "application/x-www-form-urlencoded")

    def interact(self, payload: dict[str, Any]) -> Any:
        base = {
            "team": {"id": TEAM_ID},
            "user": {"id": "U0000001", "name": "ana"},
            "api_app_id": "A0000001",
            "token": "legacy",
        }
        body = urlencode({"payload": json.dumps({**base, **payload})})
        return self.post(body, "application/x-www-form-urlencoded")

    def click(self, action_id: str, value: str, *, response_url: str | None = None) -> Any:
        return self.interact(
            {
                "type": "block_actions",
                "trigger_id": "1337.43.abcd",
                "container": {
                    "type": "message",
                    "message_ts": "1.000001",
                    "channel_id": "C0000001",
                },
                "channel": {"id": "C0000001"},
                "response_url": response_url or self.api.response_url("click"),
                "actions": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "block_id": "qa_buttons",
                        "value": value,
                        "action_ts": str(time.time()),
                    }
                ],
            }
        )

    def submit(self, view: dict[str, Any], values: dict[str, Any]) -> Any:
        submitted = {**view, "id": "V0000001", "state": {"values": values}}
        return self.interact({"type": "view_submission", "view": submitted})
