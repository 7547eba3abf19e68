"""A small record kept beside the index that running processes follow without a restart.

One GET of its key every `refresh_s` at most, parsed only when its bytes changed. A record
that does not parse (a QAError from `parse`) is logged once and ignored: `current()` is then
None and `error` says why. A lost connection keeps what was read; the question that needs
Redis reports the outage itself.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

import redis

from retrieval.errors import QAError

T = TypeVar("T")


class LiveRecord(Generic[T]):
    def __init__(
        self,
        client: redis.Redis,
        key: str,
        parse: Callable[[bytes], T],
        *,
        what: str,
        log: logging.Logger,
        refresh_s: float,
    ) -> None:
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


def versioned(raw: str | bytes, version: int) -> dict[str, Any]:
    """A record's JSON, ValueError unless this release wrote it (its `version`)."""
    d = json.loads(raw)
    if not isinstance(d, dict) or d.get("version") != version:
        found = d.get("version") if isinstance(d, dict) else None
        raise ValueError(
            f"written by another release (version {found!r}, this one reads {version})"
        )
    return d


@contextmanager
def unreadable(error: type[QAError], what: str, then: str) -> Iterator[None]:
    """Reading a record: whatever does not parse or make sense becomes `error`, saying what
    is unreadable and what happens `then`; never a guess."""
    try:
        yield
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise error(f"{what} is unreadable ({type(e).__name__}: {str(e)[:120]}); {then}") from e
