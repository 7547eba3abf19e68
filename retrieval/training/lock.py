"""One training per index at a time: a lease in Redis (retrieval/redis/lease.py) that a
killed process cannot leave behind, whose value names the holder so a second run can say who.

A process killed outright stops renewing and the key expires within `ttl_s`; a process stopped
by SIGTERM or Ctrl-C deletes it on its way out.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import redis

from retrieval.errors import QAError
from retrieval.redis.lease import TTL_S, Lease, holder

if TYPE_CHECKING:
    from retrieval.index.chunks import ChunkIndex

__all__ = ["TTL_S", "TrainingBusy", "TrainingLock", "busy_message", "holder"]


class TrainingBusy(QAError):
    code = "training_busy"
    status = 409


class TrainingLock(Lease):
    """`with TrainingLock(client, key, "qa train"):` holds the index's training lock or raises
    TrainingBusy naming the holder."""

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        command: str,
        index: str = "",
        ttl_s: float = TTL_S,
        heartbeat_s: float | None = None,
    ) -> None:
        super().__init__(client, key, command, ttl_s, heartbeat_s)
        self.index = index or key

    @classmethod
    def of(cls, index: ChunkIndex, command: str) -> TrainingLock:
        """The lock of `index`: held by `qa train`, `qa train-reader`, `qa calibrate` and
        `qa reindex`, which each rewrite what the others read."""
        return cls(index.client, index.schema.training_lock_key, command, index.schema.name)

    def acquire(self) -> bool:
        if not super().acquire():
            raw = self.client.get(self.key)
            raise TrainingBusy(busy_message(self.index, raw, self.ttl_ms / 1000))
        return True

    def __enter__(self) -> TrainingLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


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
    command = str(who.get("command", "?"))
    doing = "reindexed" if command == "qa reindex" else "trained"
    return (
        f"index {index} is already being {doing}: `{command}` by pid "
        f"{who.get('pid', '?')} on {who.get('host', '?')} {when}. Wait for it "
        f"to finish; if that process was killed, its lock expires within {ttl_s:.0f} seconds"
    )
