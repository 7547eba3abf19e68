"""Reading Redis replies and Redis errors the same way everywhere.

RESP2 replies arrive as bytes and flat lists; RediSearch's FT.SEARCH reply is a count followed
by (key, [score], fields) runs. Each is decoded here once, and a lost connection always
becomes `RedisUnavailable` with a message that says what to check.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis

from retrieval.errors import RedisUnavailable


def text(value: Any) -> str:
    """A reply value as text (bytes are UTF-8; anything undecodable is replaced, not raised)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def pairs(flat: Any) -> dict[str, Any]:
    """FT.INFO-style flat [key, value, ...] lists (RESP2) into a dict."""
    if isinstance(flat, dict):
        return {text(k): v for k, v in flat.items()}
    items = list(flat)
    return {
        text(items[i]): (text(items[i + 1]) if isinstance(items[i + 1], bytes) else items[i + 1])
        for i in range(0, len(items) - 1, 2)
    }


@contextmanager
def reachable(doing: str = "") -> Iterator[None]:
    """Turn a lost connection into RedisUnavailable, naming what was being done."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as e:
        prefix = f"{doing}: " if doing else ""
        raise RedisUnavailable(
            f"{prefix}Redis is unreachable ({e}); is it running? Check REDIS_URL."
        ) from e


@dataclass
class Found:
    """One document of an FT.SEARCH reply."""

    key: str
    fields: dict[str, str] = field(default_factory=dict)
    score: float | None = None  # with WITHSCORES


@dataclass
class SearchReply:
    total: int  # every match, not only the page returned
    docs: list[Found]


def parse_search(reply: Any, scores: bool, content: bool) -> SearchReply:
    """An FT.SEARCH reply (RESP2) as its total and documents, in order."""
    step = 1 + int(scores) + int(content)
    docs = []
    for i in range(1, len(reply), step):
        found = Found(text(reply[i]))
        if scores:
            found.score = float(reply[i + 1])
        if content:
            raw = reply[i + step - 1]
            found.fields = {text(raw[j]): text(raw[j + 1]) for j in range(0, len(raw) - 1, 2)}
        docs.append(found)
    return SearchReply(int(reply[0]), docs)
