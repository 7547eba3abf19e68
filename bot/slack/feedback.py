"""Users' votes on answers (Slack's 👍/👎), kept in a capped Redis stream for `qa feedback`.

Only Slack records votes, so the store lives with the Slack code; it needs nothing of Slack,
should another front end collect votes too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import redis

from retrieval.errors import InvalidQuestion
from retrieval.replies import reachable, text

VOTES = ("up", "down")
MAX_ENTRIES = 100_000  # approximate cap (MAXLEN ~): old votes are trimmed first
_PAGE = 500
_SOURCE_FIELDS = ("title", "source", "url", "path", "page", "doc_id")


class FeedbackStore:
    """Appends votes to the stream `{prefix}:feedback` and reads them back in order."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.key = f"{prefix}:feedback"

    def record(
        self,
        *,
        question: str,
        answer: str | None,
        sources: Sequence[Mapping[str, Any]],
        vote: str,
        user: str,
        at: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """Store one vote; returns its stream id. `extra` holds context (channel, answer id...)."""
        if vote not in VOTES:
            raise InvalidQuestion(f"vote must be one of {', '.join(VOTES)}, not {vote!r}")
        fields = {
            "question": question,
            "answer": answer or "",
            "sources": json.dumps([_source(s) for s in sources], ensure_ascii=False),
            "vote": vote,
            "user": user,
            "time": repr(time.time() if at is None else float(at)),
            "extra": json.dumps(dict(extra or {}), ensure_ascii=False, default=str),
        }
        with reachable("cannot store feedback"):
            entry_id = self.client.xadd(self.key, fields, maxlen=MAX_ENTRIES, approximate=True)
        return text(entry_id)

    def export(self) -> Iterator[dict[str, Any]]:
        """Every stored vote, oldest first, as plain dicts ready for JSON."""
        start = "-"
        while True:
            with reachable("cannot read feedback"):
                page = self.client.xrange(self.key, min=start, max="+", count=_PAGE)
            for entry_id, fields in page:
                yield _entry(text(entry_id), fields)
            if len(page) < _PAGE:
                return
            start = "(" + text(page[-1][0])  # exclusive: continue after the last one read

    def count(self) -> int:
        return int(self.client.xlen(self.key))


def _source(source: Mapping[str, Any]) -> dict[str, Any]:
    return {k: source.get(k) for k in _SOURCE_FIELDS if source.get(k) not in (None, "")}


def _entry(entry_id: str, raw: Mapping[Any, Any]) -> dict[str, Any]:
    fields = {text(k): text(v) for k, v in raw.items()}
    return {
        "id": entry_id,
        "time": float(fields.get("time") or 0.0),
        "vote": fields.get("vote", ""),
        "user": fields.get("user", ""),
        "question": fields.get("question", ""),
        "answer": fields.get("answer") or None,
        "sources": json.loads(fields.get("sources") or "[]"),
        **(
            {"extra": json.loads(fields["extra"])}
            if fields.get("extra") not in (None, "{}")
            else {}
        ),
    }
