"""What the Slack front end keeps in Redis: delivery claims (for deduplication across
workers), the answers behind the buttons, so a click can expand or rate an answer, and the
question each thread is about, so a follow-up there is read in its light.

Redis trouble never stops a reply: claiming and saving report "unknown" instead of raising.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import redis

from bot.slack.feedback import FeedbackStore
from retrieval.errors import QAError
from retrieval.types import Answer

log = logging.getLogger(__name__)

CLAIM_TTL_S = 24 * 3600  # Slack retries within minutes; a day is plenty
ANSWER_TTL_S = 14 * 24 * 3600  # how long "show more answers" and the votes keep working
_ANSWER_FIELDS = {f.name for f in fields(Answer)}


class SlackState:
    """Redis keys under `{prefix}:slack:`; `client` is called lazily (Redis may be down)."""

    def __init__(self, client: Callable[[], redis.Redis], prefix: str) -> None:
        self._client = client
        self.prefix = prefix

    def claim(self, name: str, ttl_s: int = CLAIM_TTL_S) -> bool | None:
        """True the first time `name` is claimed, False after; None if Redis cannot tell."""
        try:
            key = f"{self.prefix}:slack:seen:{name}"
            return bool(self._client().set(key, "1", nx=True, ex=ttl_s))
        except (QAError, redis.RedisError) as e:
            log.warning("slack: cannot record delivery %s in Redis (%s)", name, e)
            return None

    def save_answer(self, answer: Answer, meta: dict[str, Any]) -> str | None:
        """Keep the answer for its buttons; returns its id, or None if it could not be kept."""
        answer_id = secrets.token_urlsafe(12)
        record = {"answer": answer.to_dict(), "meta": meta}
        try:
            payload = json.dumps(record, ensure_ascii=False, default=str)
            self._client().set(self._answer_key(answer_id), payload, ex=ANSWER_TTL_S)
        except (QAError, redis.RedisError, TypeError, ValueError) as e:
            log.warning("slack: cannot store the answer for its buttons (%s)", e)
            return None
        return answer_id

    def load_answer(self, answer_id: str) -> tuple[Answer, dict[str, Any]] | None:
        """The answer saved under `answer_id`, or None if it expired; raises if Redis is down."""
        if not answer_id or len(answer_id) > 64:
            return None
        raw = self._client().get(self._answer_key(answer_id))
        if raw is None:
            return None
        record = json.loads(raw)
        data = {k: v for k, v in record["answer"].items() if k in _ANSWER_FIELDS}
        return Answer(**data), record.get("meta") or {}

    def remember_thread(self, channel: str, thread_ts: str, question: str, ttl_s: int) -> None:
        """The question a thread is about, for its follow-ups; lost quietly if Redis is down."""
        try:
            self._client().set(self._thread_key(channel, thread_ts), question, ex=ttl_s)
        except (QAError, redis.RedisError) as e:
            log.warning("slack: cannot remember the question of a thread (%s)", e)

    def thread_question(self, channel: str, thread_ts: str) -> str | None:
        """The question the bot answered in this thread, or None (none, expired, Redis down)."""
        try:
            raw = self._client().get(self._thread_key(channel, thread_ts))
        except (QAError, redis.RedisError) as e:
            log.warning("slack: cannot read the question of a thread (%s)", e)
            return None
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw

    def feedback(self) -> FeedbackStore:
        return FeedbackStore(self._client(), self.prefix)

    def _answer_key(self, answer_id: str) -> str:
        return f"{self.prefix}:slack:answer:{answer_id}"

    def _thread_key(self, channel: str, thread_ts: str) -> str:
        return f"{self.prefix}:slack:thread:{channel}:{thread_ts}"
