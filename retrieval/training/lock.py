"""One training per index at a time: a lock in Redis that a killed process cannot leave behind.

The lock is a key set only if absent (SET NX) with an expiry, which a heartbeat thread renews
while training runs; its value says who holds it (host, pid, command, since when), so a second
run can name the holder. A process killed outright stops renewing and the key expires within
`ttl_s`; a process stopped by SIGTERM or Ctrl-C deletes it on its way out. Renewing and
releasing check the value first (a Lua script), so a run never touches another run's lock.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from datetime import UTC, datetime
from typing import Any

import redis

from retrieval.errors import QAError

TTL_S = 60.0  # a killed holder's lock outlives it by at most this
HEARTBEAT_S = 15.0
log = logging.getLogger("qa.training")

_OURS = "if redis.call('get', KEYS[1]) == ARGV[1] then return "
_RENEW = _OURS + "redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = _OURS + "redis.call('del', KEYS[1]) end return 0"


class TrainingBusy(QAError):
    code = "training_busy"
    status = 409


class TrainingLock:
    """`with TrainingLock(client, key, "qa train"):` holds the index's training lock or raises
    TrainingBusy naming the holder."""

    def __init__(
        self, client: redis.Redis, key: str, command: str, index: str = "",
        ttl_s: float = TTL_S, heartbeat_s: float = HEARTBEAT_S,
    ) -> None:  # fmt: skip
        self.client, self.key, self.index = client, key, index or key
        self.ttl_ms = int(ttl_s * 1000)
        self.heartbeat_s = heartbeat_s
        self.value = json.dumps({
            "host": socket.gethostname(), "pid": os.getpid(), "command": command,
            "started": time.time(),
        })  # fmt: skip
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def acquire(self) -> None:
        if not self.client.set(self.key, self.value, nx=True, px=self.ttl_ms):
            raw = self.client.get(self.key)
            raise TrainingBusy(busy_message(self.index, raw, self.ttl_ms / 1000))
        self._stop.clear()
        self._beat = threading.Thread(target=self._renew, name="training-lock", daemon=True)
        self._beat.start()

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        try:
            self.client.eval(_RELEASE, 1, self.key, self.value)
        except redis.RedisError as e:  # it expires by itself
            log.warning("could not release the training lock %s: %s", self.key, e)

    def _renew(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            try:
                if not self.client.eval(_RENEW, 1, self.key, self.value, self.ttl_ms):
                    log.error("the training lock %s was lost (expired or taken)", self.key)
                    return
            except redis.RedisError as e:  # try again at the next beat
                log.warning("could not renew the training lock %s: %s", self.key, e)

    def __enter__(self) -> TrainingLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(raw: bytes | str | None) -> dict[str, Any] | None:
    """The lock's value as a dict, None when absent or unreadable."""
    try:
        value = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def busy_message(index: str, raw: bytes | str | None, ttl_s: float = TTL_S) -> str:
    who = holder(raw)
    if who is None:  # released or expired in between, or not ours to read
        return f"index {index} is being trained by another process: try again in a minute"
    try:  # a value some other program wrote: say what is known, never fail on it
        since = datetime.fromtimestamp(float(who.get("started", 0)), UTC)
        minutes = max(0.0, (time.time() - since.timestamp()) / 60)
        when = f"since {since.strftime('%Y-%m-%d %H:%M:%S UTC')} ({minutes:.0f} minutes ago)"
    except (TypeError, ValueError, OverflowError, OSError):
        when = "since an unknown time"
    return (
        f"index {index} is already being trained: `{who.get('command', '?')}` by pid "
        f"{who.get('pid', '?')} on {who.get('host', '?')} {when}. Wait for it "
        f"to finish; if that process was killed, its lock expires within {ttl_s:.0f} seconds"
    )
