"""Retrieval as a component: the index, its rerank weights and the hybrid retriever, built on
first use, once, and the chunks a question may see."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import redis

from retrieval.components.question import Question
from retrieval.embedding.embedder import Embedder
from retrieval.index.chunks import ChunkIndex
from retrieval.index.open import open_index
from retrieval.query.filters import Filters, parse_filters
from retrieval.query.rerank_weights import LiveWeights
from retrieval.query.retriever import Retrieval, Retriever
from retrieval.redis.connection import connect
from retrieval.settings import Settings


class QuestionRetriever:
    """The top-k chunks for a question; safe to call from many threads.

    Nothing touches Redis before the first question (a probe or a test may pass a `client`).
    """

    def __init__(
        self, settings: Settings, embedder: Embedder, client: redis.Redis | None = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self._client = client
        self._index: ChunkIndex | None = None
        self._weights: LiveWeights | None = None
        self._retriever: Retriever | None = None
        self._private = False  # does the index hold private captures? (true stays true)
        self._lock = threading.Lock()

    def warm_up(self) -> QuestionRetriever:
        """Load the embedding model now, not on the first question (Redis is left for then)."""
        self.embedder.warm_up()
        return self

    @property
    def index(self) -> ChunkIndex:
        with self._lock:
            if self._index is None:
                client = self._client if self._client is not None else connect(self.settings)
                self._index = open_index(self.settings, self.embedder, client)
        return self._index

    @property
    def weights(self) -> LiveWeights:
        """The index's fitted rerank weights (`qa train`), re-read every QA_READER_CHECK_S."""
        index = self.index
        with self._lock:
            if self._weights is None:
                self._weights = LiveWeights(index, self.settings.reader_check_s)
        return self._weights

    @property
    def retriever(self) -> Retriever:
        weights = self.weights
        with self._lock:
            if self._retriever is None:
                s = self.settings
                self._retriever = Retriever(
                    weights.index,
                    s.candidate_pool,
                    s.rrf_k,
                    s.keyword_max_share,
                    s.keyword_floor,
                    s.keyword_scope,
                    s.keyword_candidates,
                )
                self._retriever.weights = weights.current
        return self._retriever

    def run(self, question: Question) -> Retrieval:
        """The top-k chunks for a checked question, in rank order, with the time each step took."""
        k = question.k or self.settings.top_k
        mode = question.mode or self.settings.retrieval_mode
        filters = question.filters
        filters = self.visible(filters if isinstance(filters, Filters) else parse_filters(filters))
        t = time.perf_counter()
        qvec = self.embedder.embed_query(question.text) if mode != "keyword" else None
        embed_ms = ms_since(t)
        t = time.perf_counter()
        retrieval = self.retriever.retrieve(
            question.text, qvec, k, filters, mode, question.ef_runtime
        )
        retrieval.timings = {"embed": embed_ms, "retrieve": ms_since(t), **retrieval.timings}
        return retrieval

    def retrieve_many(
        self,
        questions: Sequence[str],
        k: int | None = None,
        filters: Filters | None = None,
        batch: int = 64,
    ) -> Iterator[Retrieval]:
        """Hybrid retrieval of many questions, embedded in batches (training asks thousands)."""
        k = k or self.settings.top_k
        filters = self.visible(filters or Filters())
        for b in range(0, len(questions), batch):
            part = list(questions[b : b + batch])
            for question, vector in zip(part, self.embedder.embed(part), strict=True):
                yield self.retriever.retrieve(question, vector, k, filters, "hybrid")

    def visible(self, filters: Filters) -> Filters:
        """Private Slack captures are searched only from their channel (`visible_in`): never
        over HTTP, the CLI or another channel. Until the index holds one, no clause at all (it
        costs ranking quality); once it does, always (the flag is written before the chunks,
        and is never cleared). Where the server cannot index the channel field (RediSearch <
        2.10), Slack refuses private captures, so the flag is never set."""
        if not self._private:
            self._private = self.index.holds_private()
        if not self._private:
            return replace(filters, visible_in=None)
        return filters if filters.visible_in is not None else replace(filters, visible_in="")

    def ready(self) -> dict[str, Any]:
        """Redis answers, the index exists, the embedding model is named: a readiness probe."""
        self.index.client.ping()
        info = self.index.info()
        return {
            "redis": "ok",
            "index": self.index.schema.name,
            "chunks": int(info.get("num_docs", 0)),
            "embedder": self.embedder.identity,
        }

    def facets(self, limit: int = 100) -> dict[str, list[str]]:
        """The sources and tags present in the index, for pickers (e.g. Slack's modal)."""
        return {
            "sources": self.index.tag_values("source")[:limit],
            "tags": self.index.tag_values("tags")[:limit],
        }


def ms_since(t: float) -> float:
    """Milliseconds since `t` (a `time.perf_counter()`), as the answer's timings show them."""
    return round((time.perf_counter() - t) * 1000, 2)
