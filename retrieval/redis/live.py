"""A small record kept beside the index that running processes follow without a restart.

One GET of its key every `refresh_s` at most, parsed only when its bytes changed. A record
that does not parse (a QAError from `parse`) is logged once and ignored: `current()` is then
None and `error` says why. A lost connection keeps what was read; the question that needs
Redis reports the outage itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

import redis

from retrieval.errors import QAError

T = TypeVar("T")


class LiveRecord(Generic[T]):
    def __init__(
        self, client: redis.Redis, key: str, parse: Callable[[bytes], T], *, what: str,
        log: logging.Logger, refresh_s: float,
    ) -> None:  # fmt: skip
        self.client, self.key, self.parse, self.what, self.log = client, key, parse, what, log
        self.refresh_s = refresh_s
        self.error: str | None = None  # why the stored record is ignored
        self._raw: bytes | None = None
        self._value: T | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def current(self) -> T | None:
        if time.monotonic() - self._checked >= self.refresh_s:
            with self._lock:
                if time.monotonic() - self._checked >= self.refresh_s:
                    self._reload()
                    self._checked = time.monotonic()
        return self._value

    def refresh(self) -> None:
        """Read the record at the next call (after this process wrote it), not at the tick."""
        self._checked = float("-inf")

    def _reload(self) -> None:
        try:
            raw = self.client.get(self.key)
        except redis.RedisError as e:
            self.log.warning("could not re-read the %s: %s", self.what, e)
            return
        if raw == self._raw:
            return
        self._raw, self._value, self.error = raw, None, None
        if raw is not None:
            try:
                self._value = self.parse(raw)
            except QAError as e:
                self.error = str(e)
                self.log.error("%s: %s", self.key, e)
