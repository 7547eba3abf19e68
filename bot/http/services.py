"""The long-lived objects of one app (engine, metrics, tokens), kept in `app.extensions`."""

from __future__ import annotations

import functools
import logging
import os
import signal
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TypeVar

import redis
from flask import Response, after_this_request, current_app, request

from bot.http.auth import TokenCheck
from bot.http.errors import AnswerTimeout
from bot.http.observability import Metrics
from retrieval.engine import QAEngine
from retrieval.errors import QAError
from retrieval.feedback import AnswerStore, FeedbackStore
from retrieval.settings import Settings
from retrieval.types import Answer

T = TypeVar("T")
EXTENSION = "qa"
ANSWER_THREADS = 8
log = logging.getLogger("qa.http")


class Deadline:
    """Runs engine calls in a small pool so a request can give up after `timeout_s`.

    A call that overruns keeps its thread; under gunicorn, if it is still running once the
    504 is sent, the worker asks to be replaced, so a stuck reader cannot hold it forever.
    """

    def __init__(self, timeout_s: float, threads: int = ANSWER_THREADS) -> None:
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="qa-answer")

    def run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        future: Future[T] = self._pool.submit(fn, *args, **kwargs)
        try:
            return future.result(timeout=self.timeout_s)
        except FutureTimeout:
            future.cancel()
            if request.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
                after_this_request(functools.partial(_recycle_if_running, future))
            raise AnswerTimeout(
                f"no answer within {self.timeout_s:g}s; try a narrower question, a smaller k "
                "or the sentence reader"
            ) from None


def _recycle_if_running(future: Future, response: Response) -> Response:
    response.call_on_close(lambda: future.done() or recycle_worker())
    return response


def recycle_worker() -> None:
    """Ask gunicorn for a graceful restart of this worker (the master forks a fresh one)."""
    log.warning("a request overran its deadline and is still running; replacing this worker")
    os.kill(os.getpid(), signal.SIGTERM)


@dataclass
class Services:
    settings: Settings
    engine: QAEngine
    tokens: TokenCheck
    metrics: Metrics = field(default_factory=Metrics)
    deadline: Deadline = field(init=False)

    def __post_init__(self) -> None:
        self.deadline = Deadline(self.settings.request_timeout_s)

    def answers(self) -> AnswerStore:
        return AnswerStore(self.engine.index.client, self.settings.key_prefix)

    def feedback(self) -> FeedbackStore:
        return FeedbackStore(self.engine.index.client, self.settings.key_prefix)

    def keep(self, answer: Answer) -> str | None:
        """The id `POST /feedback` names the answer by; None (logged) when Redis cannot keep
        it: the answer is still worth sending."""
        try:
            return self.answers().save(answer)
        except (QAError, redis.RedisError) as e:
            log.warning("cannot keep the answer for feedback: %s", e)
            return None


def services() -> Services:
    return current_app.extensions[EXTENSION]
