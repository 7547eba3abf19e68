"""The QA engine: one object per process that turns a question into an explained answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import redis

from retrieval.answer import build_answer
from retrieval.embedder import Embedder
from retrieval.errors import InvalidQuestion, ModelUnavailable
from retrieval.filters import Filters, parse_filters
from retrieval.index import ChunkIndex
from retrieval.readers import Reading
from retrieval.readers.sentence import SentenceReader
from retrieval.retriever import MODES, Retrieval, Retriever
from retrieval.settings import Settings
from retrieval.store import connect, open_index
from retrieval.types import Answer


class QAEngine:
    """Built once (models loaded once); `ask()` is safe to call from many threads."""

    def __init__(self, settings: Settings, client: redis.Redis | None = None) -> None:
        self.settings = settings
        self.embedder = Embedder(settings)
        self._client = client
        self._index: ChunkIndex | None = None
        self._span_reader: Any = None
        self._span_error: str | None = None
        self._lock = threading.Lock()

    # -- components, built on first use ------------------------------------------------------

    @property
    def index(self) -> ChunkIndex:
        with self._lock:
            if self._index is None:
                client = self._client if self._client is not None else connect(self.settings)
                self._index = open_index(self.settings, self.embedder, client)
        return self._index

    @property
    def retriever(self) -> Retriever:
        return Retriever(self.index, self.settings.candidate_pool, self.settings.rrf_k)

    @property
    def sentence_reader(self) -> SentenceReader:
        return SentenceReader(self.embedder, self.settings.sentence_threshold)

    def span_reader(self, download: bool = False) -> Any:
        """The transformers reader, or ModelUnavailable with the reason it could not load.

        Only an explicit `span` choice may download the model; `auto` uses what is on disk.
        """
        with self._lock:
            if self._span_reader is None and (self._span_error is None or download):
                from retrieval.readers.span import SpanReader

                try:
                    self._span_reader = SpanReader(
                        self.settings.span_model, self.settings.span_threshold, not download
                    ).warm_up()
                except ModelUnavailable as e:
                    self._span_error = str(e)
        if self._span_reader is None:
            raise ModelUnavailable(self._span_error or "span reader unavailable")
        return self._span_reader

    def warm_up(self) -> QAEngine:
        self.embedder.warm_up()
        if self.settings.reader in ("auto", "span"):
            try:
                self.span_reader(download=self.settings.reader == "span")
            except ModelUnavailable:
                if self.settings.reader == "span":
                    raise
        return self

    def reader_for(self, name: str | None) -> tuple[str, Any]:
        name = name or self.settings.reader
        if name not in ("auto", "span", "sentence"):
            raise InvalidQuestion(f"reader must be auto, span or sentence, not {name!r}")
        if name == "sentence":
            return "sentence", self.sentence_reader
        try:
            return "span", self.span_reader(download=name == "span")
        except ModelUnavailable:
            if name == "span":
                raise
            return "sentence", self.sentence_reader

    # -- asking ------------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        k: int | None = None,
        filters: Filters | Mapping[str, Any] | None = None,
        reader: str | None = None,
        mode: str | None = None,
        ef_runtime: int | None = None,
    ) -> Answer:
        """Answer from the top-k chunks, with sources and an explanation (or the reason not)."""
        started = time.perf_counter()
        reader_name, reader_obj = self.reader_for(reader)
        retrieval = self.retrieve(question, k, filters, mode, ef_runtime)
        t = time.perf_counter()
        if retrieval.hits:
            reading = reader_obj.read(
                retrieval.question, retrieval.hits, self.settings.answers, retrieval.query_vector
            )
        else:
            reading = Reading(threshold=reader_obj.threshold)
        timings = {**retrieval.timings, "read": _ms(t), "total": _ms(started)}
        return build_answer(
            retrieval=retrieval, reader=reader_name, reading=reading, timings=timings,
            count=self.retriever.count, settings=self.settings,
        )  # fmt: skip

    def retrieve(
        self,
        question: str,
        k: int | None = None,
        filters: Filters | Mapping[str, Any] | None = None,
        mode: str | None = None,
        ef_runtime: int | None = None,
    ) -> Retrieval:
        """The top-k chunks for a question, in rank order, without reading them."""
        question = self.validate(question, k, mode)
        k = k or self.settings.top_k
        mode = mode or self.settings.retrieval_mode
        filters = filters if isinstance(filters, Filters) else parse_filters(filters)
        t = time.perf_counter()
        qvec = self.embedder.embed_query(question) if mode != "keyword" else None
        embed_ms = _ms(t)
        t = time.perf_counter()
        retrieval = self.retriever.retrieve(question, qvec, k, filters, mode, ef_runtime)
        retrieval.timings = {"embed": embed_ms, "retrieve": _ms(t), **retrieval.timings}
        return retrieval

    def validate(self, question: str, k: int | None, mode: str | None) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InvalidQuestion(
                'the question is empty: ask something, e.g. qa ask "how do I ...?"'
            )
        question = " ".join(question.split())
        if len(question) > self.settings.max_question_chars:
            raise InvalidQuestion(
                f"the question is {len(question)} characters long; the limit is "
                f"{self.settings.max_question_chars}. Shorten it."
            )
        if k is not None and not 1 <= k <= self.settings.max_k:
            raise InvalidQuestion(f"k must be between 1 and {self.settings.max_k}, not {k}")
        if mode is not None and mode not in MODES:
            raise InvalidQuestion(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        return question

    # -- status ------------------------------------------------------------------------------

    def ready(self) -> dict[str, Any]:
        """What a readiness probe checks: Redis answers, the index exists, models are loaded."""
        self.index.client.ping()
        info = self.index.info()
        return {
            "redis": "ok",
            "index": self.index.schema.name,
            "chunks": int(info.get("num_docs", 0)),
            "embedder": self.embedder.identity,
            "reader": self.reader_for(None)[0],
        }

    def facets(self, limit: int = 100) -> dict[str, list[str]]:
        """The sources and tags present in the index, for pickers (e.g. Slack's modal)."""
        return {
            "sources": self.index.tag_values("source")[:limit],
            "tags": self.index.tag_values("tags")[:limit],
        }


def _ms(t: float) -> float:
    return round((time.perf_counter() - t) * 1000, 2)
