"""Temporary indexes (`qa-eval-*`: evaluation, calibration, training's sample) and their owners.

A temporary index is dropped by the process that made it, on its way out; one killed with
SIGKILL cannot, and its index would stay in Redis for good. So each one's owner holds a
lease (retrieval/redis/lease.py) on its `owner_key` from before the index is written until it
is dropped: a live owner, on this host or another, renews it; a dead one's expires within a
minute. An index whose owner key is gone is stale and `sweep` drops it. One kept on purpose
(`qa eval --keep-index`) gets an owner key without expiry that says so.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import redis

from retrieval.index.chunks import ChunkIndex
from retrieval.index.schema import IndexSchema
from retrieval.redis.lease import TTL_S, Lease, holder
from retrieval.redis.replies import text

PREFIX = "qa-eval-"
OWNER_TTL_S = TTL_S  # a killed owner's index is stale after this (read when an owner starts)
log = logging.getLogger("qa.index")


def owner_key(name: str) -> str:
    return _schema(name).owner_key


def _schema(name: str) -> IndexSchema:
    """A temporary index's schema, as far as finding and dropping it needs (its keys are
    prefixed with its name: bot/evaluation.py, temporary_settings)."""
    return IndexSchema(name, name, 0, "")


class Owner(Lease):
    """This process's claim on the temporary index `name`."""

    def __init__(self, client: redis.Redis, name: str, command: str = "temporary index") -> None:
        super().__init__(client, owner_key(name), command, OWNER_TTL_S)

    def keep(self) -> None:
        """The index outlives this process on purpose: never stale."""
        self.release()
        self.client.set(self.key, json.dumps({"kept": True, "since": time.time()}))


@dataclass(frozen=True)
class Temporary:
    name: str
    state: str  # "live" (its owner runs), "kept" (on purpose) or "stale" (its owner is gone)
    owner: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state, "owner": self.owner}


def listed(client: redis.Redis) -> list[Temporary]:
    """Every temporary index in this Redis, with whether its owner still runs."""
    names = sorted(n for n in map(text, client.execute_command("FT._LIST")) if n.startswith(PREFIX))
    found = []
    for name in names:
        who = holder(client.get(owner_key(name)))
        state = "stale" if who is None else "kept" if who.get("kept") else "live"
        found.append(Temporary(name, state, who))
    return found


def sweep(client: redis.Redis) -> list[str]:
    """Drop the temporary indexes whose owner is gone (killed, or of an older release that
    recorded none), with their chunks and records. Returns their names."""
    dropped = []
    for found in listed(client):
        if found.state != "stale":
            continue
        ChunkIndex(client, _schema(found.name)).drop()
        log.info("dropped the stale temporary index %s (its owner is gone)", found.name)
        dropped.append(found.name)
    return dropped
