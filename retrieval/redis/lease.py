"""A key in Redis that says "this is mine while I live": a killed owner cannot leave it behind.

The key is set only if absent (SET NX) with an expiry, which a heartbeat thread renews while
the owner runs; its value says who owns it (host, pid, command, since when). A process killed
outright stops renewing and the key expires within `ttl_s`; one that stops cleanly deletes it.
Renewing and releasing check the value first (a Lua script), so an owner never touches another
owner's key. Used for the training lock, the sync lock and the temporary indexes' owners: the
key existing is the proof that its owner is alive.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from typing import Any

import redis

TTL_S = 60.0  # a killed owner's key outlives it by at most this
log = logging.getLogger("qa.lease")

_OURS = "if redis.call('get', KEYS[1]) == ARGV[1] then return "
_RENEW = _OURS + "redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = _OURS + "redis.call('del', KEYS[1]) end return 0"


class Lease:
    """`Lease(client, key, "qa sync").acquire()` is True when the key is now ours (renewed
    until `release()`), False when someone else holds it (`holder(client.get(key))` says who)."""

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        command: str,
        ttl_s: float = TTL_S,
        heartbeat_s: float | None = None,
    ) -> None:
        self.client, self.key = client, key
        self.ttl_ms = int(ttl_s * 1000)
        self.heartbeat_s = ttl_s / 4 if heartbeat_s is None else heartbeat_s  # 4 beats a TTL
        self.value = json.dumps(
            {
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "command": command,
                "started": time.time(),
            }
        )
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def acquire(self) -> bool:
        if not self.client.set(self.key, self.value, nx=True, px=self.ttl_ms):
            return False
        self._stop.clear()
        self._beat = threading.Thread(target=self._renew, name=f"lease {self.key}", daemon=True)
        self._beat.start()
        return True

    def release(self) -> None:
        """Stop renewing and delete the key if it is still ours; never raises (a key that
        cannot be deleted now expires by itself)."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        try:
            self.client.eval(_RELEASE, 1, self.key, self.value)
        except redis.RedisError as e:
            log.warning("could not release %s (it expires by itself): %s", self.key, e)

    def _renew(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            try:
                # Not renewed: it expired while Redis was away, or was deleted; take it back
                # if it is free.
                if not self.client.eval(
                    _RENEW, 1, self.key, self.value, self.ttl_ms
                ) and not self.client.set(self.key, self.value, nx=True, px=self.ttl_ms):
                    log.error("%s was lost (taken by another process)", self.key)
                    return
            except redis.RedisError as e:  # try again at the next beat
                log.warning("could not renew %s: %s", self.key, e)


def holder(raw: bytes | str | None) -> dict[str, Any] | None:
    """A lease's value as a dict, None when absent or unreadable."""
    try:
        value = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
