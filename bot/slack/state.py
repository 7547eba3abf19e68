"""What the Slack front end keeps in Redis: delivery claims (for deduplication across
workers), the answers behind the buttons (`AnswerStore`, shared with HTTP), so a click
can expand or rate an answer, and the question each thread is about, so a follow-up
there is read in its light.

Redis trouble never stops a reply: claiming and saving report "unknown" instead of raising.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis

from retrieval.errors import QAError
from retrieval.feedback import AnswerStore, FeedbackStore
from retrieval.types import Answer

log = logging.getLogger(__name__)

CLAIM_TTL_S = 24 * 3600  # Slack retries within minutes; a day is plenty


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
        try:
            return self.answers().save(answer, meta)
        except (QAError, redis.RedisError, TypeError, ValueError) as e:
            log.warning("slack: cannot store the answer for its buttons (%s)", e)
            return None

    def load_answer(self, answer_id: str) -> tuple[Answer, dict[str, Any]] | None:
        """The answer saved under `answer_id`, or None if it expired; raises if Redis is down."""
        return self.answers().load(answer_id)

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

    def answers(self) -> AnswerStore:
        return AnswerStore(self._client(), self.prefix)

    def _thread_key(self, channel: str, thread_ts: str) -> str:
        return f"{self.prefix}:slack:thread:{channel}:{thread_ts}"
