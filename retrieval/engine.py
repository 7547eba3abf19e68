"""The QA engine: one object per process that turns a question into an explained answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import redis

from retrieval import text
from retrieval.answers.answer import build_answer
from retrieval.calibration.live import LiveCalibration
from retrieval.choices import (
    CONFIDENCE_RANGE,
    MIN_K,
    MODES,
    READERS,
    check_choice,
    check_range,
    normalize_question,
)
from retrieval.embedding.embedder import Embedder
from retrieval.errors import ModelUnavailable
from retrieval.index.chunks import ChunkIndex
from retrieval.index.open import open_index
from retrieval.query.filters import Filters, parse_filters
from retrieval.query.rerank_weights import LiveWeights
from retrieval.query.retriever import Retrieval, Retriever
from retrieval.readers import Reader, Reading
from retrieval.readers.sentence import SentenceReader
from retrieval.redis.connection import connect
from retrieval.settings import Settings
from retrieval.types import Answer

# `auto` answers with the sentence reader only below this span confidence: at 0.1 rather than
# the span reader's own 0.5 it kept the manual's facts and gave back .035 F1 on held-out prose
# (BENCHMARKS.md, the shipped reader)
SENTENCE_BELOW = 0.1


class QAEngine:
    """Built once (models loaded once); `ask()` is safe to call from many threads.

    Tests and the evaluation pass the parts they already hold (`embedder`, `client`); the
    index, the retriever and the optional readers are built on first use, once.
    """

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        client: redis.Redis | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder if embedder is not None else Embedder(settings)
        self.sentence_reader = SentenceReader(
            self.embedder, settings.sentence_threshold, settings.cache_mb
        )
        text.set_cache_mb(settings.cache_mb)  # the process's caches: the last engine's bound
        self._client = client
        self._index: ChunkIndex | None = None
        self._retriever: Retriever | None = None
        self._calibration: LiveCalibration | None = None
        self._weights: LiveWeights | None = None
        self._optional: dict[str, Reader] = {}  # readers that need a model file: span, trained
        self._unavailable: dict[str, str] = {}  # why one could not load
        self._trained: Any = None  # the TrainedSource, made on first use
        self._private = False  # does the index hold private captures? (true stays true)
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
    def calibration(self) -> LiveCalibration:
        index = self.index
        with self._lock:
            if self._calibration is None:
                self._calibration = LiveCalibration(index)
        return self._calibration

    @property
    def rerank_weights(self) -> LiveWeights:
        """The index's fitted rerank weights (`qa train`), re-read every QA_READER_CHECK_S."""
        index = self.index
        with self._lock:
            if self._weights is None:
                self._weights = LiveWeights(index, self.settings.reader_check_s)
        return self._weights

    @property
    def retriever(self) -> Retriever:
        weights = self.rerank_weights
        with self._lock:
            if self._retriever is None:
                self._retriever = Retriever(
                    weights.index,
                    self.settings.candidate_pool,
                    self.settings.rrf_k,
                    self.settings.keyword_max_share,
                    self.settings.keyword_floor,
                )
                self._retriever.weights = weights.current
        return self._retriever

    def span_reader(self, download: bool = False) -> Reader:
        """The transformers reader, or ModelUnavailable with the reason it could not load.

        Only an explicit `span` choice may download the model; `auto` uses what is on disk.
        """

        def load() -> Reader:
            from retrieval.readers.span import SpanReader

            settings = self.settings
            return SpanReader(settings.span_model, settings.span_threshold, not download).warm_up()

        return self._optional_reader("span", load, retry=download)

    def _optional_reader(self, name: str, load: Callable[[], Reader], retry: bool) -> Reader:
        """Load a model-backed reader once; remember why it failed (tried again on `retry`)."""
        with self._lock:
            if name not in self._optional and (name not in self._unavailable or retry):
                try:
                    self._optional[name] = load()
                    self._unavailable.pop(name, None)
                except ModelUnavailable as e:
                    self._unavailable[name] = str(e)
        if name not in self._optional:
            raise ModelUnavailable(self._unavailable.get(name) or f"{name} reader unavailable")
        return self._optional[name]

    def warm_up(self) -> QAEngine:
        self.embedder.warm_up()
        self.reader_for(None)  # loads the configured reader now, not on the first question
        return self

    def reader_for(self, name: str | None) -> Reader:
        """The reader asked for; `auto` takes the best one that loads."""
        name = check_choice("reader", name, READERS) or self.settings.reader
        if name == "sentence":
            return self.sentence_reader
        if name == "span":
            return self.span_reader(download=True)
        if name == "trained":
            return self.trained_reader()
        for optional in (self.trained_reader, self.span_reader):
            try:
                return optional()
            except ModelUnavailable:
                pass
        return self.sentence_reader

    def trained_reader(self) -> Reader:
        """The reader `qa train-reader` made for this index (a newer one is noticed in ~10 s)."""
        from retrieval.readers.trained import TrainedSource

        with self._lock:
            if self._trained is None:
                s = self.settings
                self._trained = TrainedSource(
                    lambda: self.index.client,
                    s.key_prefix,
                    s.data_dir,
                    s.reader_check_s,
                    s.shipped_reader,
                )
        return self._trained.current()

    # -- asking ------------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        k: int | None = None,
        filters: Filters | Mapping[str, Any] | None = None,
        reader: str | None = None,
        mode: str | None = None,
        ef_runtime: int | None = None,
        min_confidence: float | None = None,
    ) -> Answer:
        """Answer from the top-k chunks, with sources and an explanation (or the reason not).

        `min_confidence` (0..1) refuses answers less sure than that, instead of the threshold
        calibrated for the index (`qa calibrate`) or, before any calibration, the rule that
        refuses questions whose words the documents do not hold (0: refuse on nothing but the
        reader's own abstention).
        """
        started = time.perf_counter()
        check_range("min_confidence", min_confidence, *CONFIDENCE_RANGE)
        retrieval, reading, chosen = self.examine(question, k, filters, reader, mode, ef_runtime)
        t = time.perf_counter()
        confidence = self.calibration.confidence(
            chosen, retrieval, reading, self.settings.refusal_target, min_confidence
        )
        timings = {**retrieval.timings, "confidence": _ms(t), "total": _ms(started)}
        return build_answer(
            retrieval=retrieval, reader=chosen.name, reading=reading, timings=timings,
            count=self.retriever.count, settings=self.settings, confidence=confidence,
            lookup=self.index.near_copies.notes,
        )  # fmt: skip

    def examine(
        self, question: str, k: int | None = None,
        filters: Filters | Mapping[str, Any] | None = None, reader: str | Reader | None = None,
        mode: str | None = None, ef_runtime: int | None = None,
    ) -> tuple[Retrieval, Reading, Reader]:  # fmt: skip
        """The retrieval and the reading behind an answer: what the calibration learns from
        (`reader` may be another index's: the calibration reads real questions elsewhere)."""
        question = self.validate(question, k, mode)
        chosen = self.reader_for(reader) if reader is None or isinstance(reader, str) else reader
        retrieval = self._retrieve(question, k, filters, mode, ef_runtime)
        t = time.perf_counter()
        reading = self._read(chosen, retrieval)
        if _picks(reader, self.settings.reader) and chosen.name == "trained":
            reading, chosen = self._choose(reading, chosen, retrieval)
        retrieval.timings["read"] = _ms(t)
        return retrieval, reading, chosen

    def _choose(
        self, reading: Reading, span: Reader, retrieval: Retrieval
    ) -> tuple[Reading, Reader]:
        """`auto`, per question: where the span model is unsure, the sentence picker is asked.
        Where the span model is all but sure the passages do not answer (manuals' definition
        lists, mostly), the picker's sentence answers; where it merely hesitates and the
        picker finds an answer, its span answers, vouched for by the picker."""
        if reading.confident:
            return reading, span
        fallback = self._read(self.sentence_reader, retrieval)
        if not fallback.confident:
            return reading, span
        if reading.best_score < SENTENCE_BELOW:
            return fallback, self.sentence_reader
        return replace(reading, threshold=SENTENCE_BELOW), span

    def _read(self, reader: Reader, retrieval: Retrieval) -> Reading:
        if not retrieval.hits:
            return Reading(threshold=reader.threshold)
        return reader.read(
            retrieval.question, retrieval.hits, self.settings.answers, retrieval.query_vector
        )

    def retrieve(
        self,
        question: str,
        k: int | None = None,
        filters: Filters | Mapping[str, Any] | None = None,
        mode: str | None = None,
        ef_runtime: int | None = None,
    ) -> Retrieval:
        """The top-k chunks for a question, in rank order, without reading them."""
        return self._retrieve(self.validate(question, k, mode), k, filters, mode, ef_runtime)

    def retrieve_many(
        self, questions: Sequence[str], k: int | None = None, filters: Filters | None = None,
        batch: int = 64,
    ) -> Iterator[Retrieval]:  # fmt: skip
        """Hybrid retrieval of many questions, embedded in batches (training asks thousands)."""
        k = k or self.settings.top_k
        filters = self._visible(filters or Filters())
        for b in range(0, len(questions), batch):
            part = list(questions[b : b + batch])
            for question, vector in zip(part, self.embedder.embed(part), strict=True):
                yield self.retriever.retrieve(question, vector, k, filters, "hybrid")

    def _retrieve(
        self,
        question: str,
        k: int | None,
        filters: Filters | Mapping[str, Any] | None,
        mode: str | None,
        ef_runtime: int | None,
    ) -> Retrieval:
        k = k or self.settings.top_k
        mode = mode or self.settings.retrieval_mode
        filters = self._visible(filters if isinstance(filters, Filters) else parse_filters(filters))
        t = time.perf_counter()
        qvec = self.embedder.embed_query(question) if mode != "keyword" else None
        embed_ms = _ms(t)
        t = time.perf_counter()
        retrieval = self.retriever.retrieve(question, qvec, k, filters, mode, ef_runtime)
        retrieval.timings = {"embed": embed_ms, "retrieve": _ms(t), **retrieval.timings}
        return retrieval

    def _visible(self, filters: Filters) -> Filters:
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

    def validate(self, question: str, k: int | None, mode: str | None) -> str:
        """The question with white space folded; InvalidQuestion says what to send instead."""
        question = normalize_question(question, self.settings.max_question_chars)
        check_range("k", k, MIN_K, self.settings.max_k)
        check_choice("mode", mode, MODES)
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
            "reader": self.reader_for(None).name,
        }

    def facets(self, limit: int = 100) -> dict[str, list[str]]:
        """The sources and tags present in the index, for pickers (e.g. Slack's modal)."""
        return {
            "sources": self.index.tag_values("source")[:limit],
            "tags": self.index.tag_values("tags")[:limit],
        }


def _picks(asked: str | Reader | None, configured: str) -> bool:
    """Whether `auto` chooses the reader (asked for, or configured and nothing asked)."""
    return asked == "auto" or (asked is None and configured == "auto")


def _ms(t: float) -> float:
    return round((time.perf_counter() - t) * 1000, 2)
