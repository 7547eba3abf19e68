"""What users say about answers, kept for `qa train-reader` and the refusal calibration.

Answers are kept for a while under an id (`AnswerStore`), which `/ask` returns and Slack's
buttons carry, so feedback can name the answer it is about, and a person has one vote per
answer: the last one they cast. Votes (👍/👎, with an optional
corrected answer) and captured answers go to a capped Redis stream (`FeedbackStore`) with
the question, the answer and the passage it was read from; `labels()` turns them into
training data with no setting to turn on, and `qa feedback export` into a SQuAD file.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import fields as dataclass_fields
from typing import Any

import redis

from retrieval.errors import InvalidQuestion
from retrieval.redis.replies import reachable, text
from retrieval.training.labels import Label
from retrieval.types import Answer

VOTES = ("up", "down", "capture")  # capture: a reply someone made part of the documents
MAX_ENTRIES = 100_000  # approximate cap (MAXLEN ~): old votes are trimmed first
MAX_CORRECTION_CHARS = 2000
MAX_ANSWER_ID_CHARS = 64  # the ids made here are 16; a longer one is no answer's
ANSWER_TTL_S = 14 * 24 * 3600  # how long an answer can be rated (and its Slack buttons work)
_PAGE = 500
_SOURCE_FIELDS = ("title", "source", "url", "path", "page", "doc_id")
_ANSWER_FIELDS = {f.name for f in dataclass_fields(Answer)}


class AnswerStore:
    """Answers under `{prefix}:answer:<id>`, kept ANSWER_TTL_S for their feedback."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def save(self, answer: Answer, meta: Mapping[str, Any] | None = None) -> str:
        """Keep the answer; returns its id (raises RedisUnavailable when Redis is down)."""
        answer_id = secrets.token_urlsafe(12)
        record = {"answer": answer.to_dict(), "meta": dict(meta or {})}
        payload = json.dumps(record, ensure_ascii=False, default=str)
        with reachable("cannot keep the answer for feedback"):
            self.client.set(self._key(answer_id), payload, ex=ANSWER_TTL_S)
        return answer_id

    def load(self, answer_id: str) -> tuple[Answer, dict[str, Any]] | None:
        """The answer kept under `answer_id`, or None when unknown or expired."""
        if not answer_id or len(answer_id) > MAX_ANSWER_ID_CHARS:
            return None
        with reachable("cannot read the answer"):
            raw = self.client.get(self._key(answer_id))
            if raw is None:  # kept by a release that stored Slack's answers apart
                raw = self.client.get(f"{self.prefix}:slack:answer:{answer_id}")
        if raw is None:
            return None
        record = json.loads(raw)
        data = {k: v for k, v in record["answer"].items() if k in _ANSWER_FIELDS}
        return Answer(**data), record.get("meta") or {}

    def _key(self, answer_id: str) -> str:
        return f"{self.prefix}:answer:{answer_id}"


class FeedbackStore:
    """Appends feedback to the stream `{prefix}:feedback` and reads it back in order."""

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
        correction: str | None = None,
        origin: str = "",
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """Store one vote; returns its stream id. The answer's passage (the first source's
        text) is kept, so the vote stays a label after the document changes."""
        if vote not in VOTES:
            raise InvalidQuestion(f"vote must be one of {', '.join(VOTES)}, not {vote!r}")
        if correction is not None and len(correction) > MAX_CORRECTION_CHARS:
            raise InvalidQuestion(
                f"a corrected answer is at most {MAX_CORRECTION_CHARS} characters"
            )
        passages = [str(s.get("text") or "") for s in sources[:5]]
        entry = {
            "question": question,
            "answer": answer or "",
            "sources": json.dumps([_source(s) for s in sources], ensure_ascii=False),
            "passages": json.dumps(passages, ensure_ascii=False),
            "vote": vote,
            "user": user,
            "origin": origin,
            "correction": correction or "",
            "time": repr(time.time() if at is None else float(at)),
            "extra": json.dumps(dict(extra or {}), ensure_ascii=False, default=str),
        }
        with reachable("cannot store feedback"):
            entry_id = self.client.xadd(self.key, entry, maxlen=MAX_ENTRIES, approximate=True)
        return text(entry_id)

    def export(self, every: bool = False) -> Iterator[dict[str, Any]]:
        """The votes that count, oldest first, as plain dicts ready for JSON: one per person
        per answer, the last they cast (a changed mind replaces the earlier vote). `every`:
        each stored entry, replaced votes too."""
        if every:
            yield from self._entries()
            return
        entries = list(self._entries())
        last = {_voter(e): i for i, e in enumerate(entries) if _voter(e)}
        for i, entry in enumerate(entries):
            if last.get(_voter(entry), i) == i:
                yield entry

    def _entries(self) -> Iterator[dict[str, Any]]:
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
        with reachable("cannot read feedback"):
            return int(self.client.xlen(self.key))

    def labels(self) -> list[Label]:
        """The feedback that says what the answer is, oldest first: a 👍 (the answer given),
        a correction found in one of the passages, a captured reply. A 👎 alone says only
        what the answer is not: it is kept for the refusal calibration, not here."""
        out = []
        for entry in self.export():
            label = _label(entry)
            if label is not None:
                out.append(label)
        return out


def _voter(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    """(person, answer) of a 👍/👎 on a kept answer; None for what is not such a vote."""
    answer_id = (entry.get("extra") or {}).get("answer_id")
    if entry.get("vote") not in ("up", "down") or not answer_id or not entry.get("user"):
        return None
    return entry["user"], str(answer_id)


def _label(entry: Mapping[str, Any]) -> Label | None:
    passages = entry.get("passages") or []
    answer = entry.get("correction") or (entry["answer"] if entry["vote"] != "down" else "")
    if not answer:
        return None
    passage = next((p for p in passages if answer in p), None)
    if passage is None:
        return None  # a correction that is nowhere in the passages: nothing to point at
    doc_id = next(
        (
            s.get("doc_id", "")
            for s, p in zip(entry["sources"], passages, strict=False)
            if p == passage
        ),
        "",
    )
    return Label(entry["question"], answer, passage, doc_id, entry["user"], entry.get("origin", ""))


def _source(source: Mapping[str, Any]) -> dict[str, Any]:
    return {k: source.get(k) for k in _SOURCE_FIELDS if source.get(k) not in (None, "")}


def _entry(entry_id: str, raw: Mapping[Any, Any]) -> dict[str, Any]:
    fields = {text(k): text(v) for k, v in raw.items()}
    return {
        "id": entry_id,
        "time": float(fields.get("time") or 0.0),
        "vote": fields.get("vote", ""),
        "user": fields.get("user", ""),
        "origin": fields.get("origin", ""),
        "question": fields.get("question", ""),
        "answer": fields.get("answer") or None,
        "correction": fields.get("correction") or None,
        "sources": json.loads(fields.get("sources") or "[]"),
        "passages": json.loads(fields.get("passages") or "[]"),
        **(
            {"extra": json.loads(fields["extra"])}
            if fields.get("extra") not in (None, "{}")
            else {}
        ),
    }
