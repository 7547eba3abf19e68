"""A local stand-in for Slack's Web API and response URLs that records every call.

It is the one fake these tests use: Slack's servers cannot be reached from here. The app
talks to it through `WebClient(base_url=...)` and the response_url in each payload.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER_ID, BOT_ID, TEAM_ID = "UBOT0001", "BBOT0001", "T0000001"


@dataclass
class Call:
    method: str  # "chat.postMessage", ... or "respond" for a response_url
    data: dict[str, Any]
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """Everything a person would read: the text and every text in the blocks."""
        return self.data.get("text", "") + "\n" + json.dumps(self.data.get("blocks") or [])


class SlackStandIn:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, list[str]] = {}
        # What the workspace holds, for the read methods: messages per channel (oldest first),
        # users.info profiles, conversations.info records and user group members.
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, list[str]] = {}
        self._changed = threading.Condition()
        self._ts = itertools.count(1)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"http://127.0.0.1:{self.server.server_port}/respond/{name}"

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """Make the next `times` calls of `method` fail with Slack error `error`."""
        self.failures.setdefault(method, []).extend([error] * times)

    def to(self, method: str) -> list[Call]:
        with self._changed:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 15.0) -> list[Call]:
        """The first `count` calls of `method`, waiting for them (bounded) if need be."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(found := [c for c in self.calls if c.method == method]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(f"{count} x {method} not called in {timeout}s: {seen}")
                self._changed.wait(left)
            return found[:count]

    def record(self, call: Call) -> str | None:
        """Store the call; returns the error to answer with, if one was planned."""
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
            planned = self.failures.get(call.method)
            return planned.pop(0) if planned else None

    def reply(self, method: str, data: dict[str, Any]) -> dict[str, Any]:
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Example",
                "user": "docs",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            return {
                "ok": True,
                "channel": data.get("channel"),
                "ts": ts,
                "message": {"text": data.get("text"), "ts": ts},
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V0000001", **(data.get("view") or {})}}
        return self._read(method, data) or {"ok": True}

    def say(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> str:
        """A person's message in the workspace, as conversations.replies will return it."""
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        message = {"type": "message", "user": user, "text": text, "ts": ts}
        message |= {"thread_ts": thread_ts} if thread_ts else {}
        self.messages.setdefault(channel, []).append(message)
        if thread_ts:  # the parent learns it has a thread
            for m in self.messages[channel]:
                if m["ts"] == thread_ts:
                    m["thread_ts"] = thread_ts
        return ts

    def _read(self, method: str, data: dict[str, Any]) -> dict[str, Any] | None:
        channel = data.get("channel", "")
        if method == "conversations.replies":
            found = self.messages.get(channel, [])
            root = next((m.get("thread_ts") or m["ts"] for m in found if m["ts"] == data["ts"]), "")
            thread = [m for m in found if m["ts"] == root or m.get("thread_ts") == root]
            return {"ok": True, "messages": thread[: int(data.get("limit") or 1000)]}
        if method == "conversations.info":
            return {"ok": True, "channel": {"id": channel, **self.channels.get(channel, {})}}
        if method == "chat.getPermalink":
            ts = data["message_ts"].replace(".", "")
            return {"ok": True, "permalink": f"https://example.slack.com/archives/{channel}/p{ts}"}
        if method == "users.info":
            return {"ok": True, "user": {"id": data["user"], **self.users.get(data["user"], {})}}
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.groups.get(data["usergroup"], [])}
        return None

    def __enter__(self) -> SlackStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(stand_in: SlackStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the Web API's read methods come as GET with a query
            path, _, query = self.path.partition("?")
            method = path.removeprefix("/api/")
            data = dict(parse_qsl(query))
            error = stand_in.record(Call(method, data, path, dict(self.headers)))
            body = {"ok": False, "error": error} if error else stand_in.reply(method, data)
            self._send(200, json.dumps(body).encode(), "application/json")

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                data = json.loads(raw or "{}")
            else:
                data = dict(parse_qsl(raw))
                for key in ("blocks", "view"):
                    if isinstance(data.get(key), str):
                        data[key] = json.loads(data[key])
            responding = self.path.startswith("/respond/")
            method = "respond" if responding else self.path.removeprefix("/api/")
            error = stand_in.record(Call(method, data, self.path, dict(self.headers)))
            if responding:
                self._send(404 if error else 200, (error or "ok").encode(), "text/plain")
            else:
                body = {"ok": False, "error": error} if error else stand_in.reply(method, data)
                self._send(200, json.dumps(body).encode(), "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler
