"""The QA engine: one object per process that turns a question into an explained answer."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import redis

from retrieval import text
from retrieval.components.answer_builder import AnswerBuilder
from retrieval.components.confidence_scorer import ConfidenceScorer
from retrieval.components.question import Question
from retrieval.components.question_retriever import QuestionRetriever
from retrieval.components.reader_router import ReaderRouter
from retrieval.confidence.live_calibration import LiveCalibration
from retrieval.embedding.embedder import Embedder
from retrieval.index.chunks import ChunkIndex
from retrieval.query.filters import Filters
from retrieval.query.rerank_weights import LiveWeights
from retrieval.query.retriever import Retrieval, Retriever
from retrieval.readers import Reader, Reading
from retrieval.settings import Settings
from retrieval.types import Answer


class QAEngine:
    """Built once (models loaded once); `ask()` is safe to call from many threads. It wires the
    components (retrieval/components/), which build their parts on first use, once; tests and
    the evaluation pass the parts they already hold (`embedder`, `client`)."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        client: redis.Redis | None = None,
    ) -> None:
        self.embedder = embedder if embedder is not None else Embedder(settings)
        text.set_cache_mb(settings.cache_mb)  # the process's caches: the last engine's bound
        self.retrieving = QuestionRetriever(settings, self.embedder, client)
        self.reading = ReaderRouter(settings, self.embedder, lambda: self.index.client)
        self.scoring = ConfidenceScorer(settings, lambda: self.index)
        self.composing = AnswerBuilder(settings, self.retrieving)
        self._parts = (self.retrieving, self.reading, self.scoring, self.composing)

    @property
    def settings(self) -> Settings:
        return self.retrieving.settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        for part in self._parts:  # new settings reach every component
            part.settings = settings

    @property
    def index(self) -> ChunkIndex:
        return self.retrieving.index

    @property
    def retriever(self) -> Retriever:
        return self.retrieving.retriever

    @property
    def rerank_weights(self) -> LiveWeights:
        return self.retrieving.weights

    @property
    def calibration(self) -> LiveCalibration:
        return self.scoring.calibration

    def reader_for(self, name: str | Reader | None) -> Reader:
        """The reader asked for (a reader object as it is); `auto` takes the best that loads."""
        return self.reading.reader_for(name)

    def warm_up(self) -> QAEngine:
        """Load the embedding model and the configured reader now, not on the first question."""
        for part in self._parts:
            part.warm_up()
        return self

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
        """Answer from the top-k chunks, with sources and an explanation (or the reason not);
        `min_confidence` (0..1) overrides the refusal threshold (0: refuse only on abstention)."""
        started = time.perf_counter()
        asked = Question(question, k, filters, mode, reader, ef_runtime, min_confidence)
        retrieval, reading, chosen = self.examine(asked)
        confidence = self.scoring.run(asked, retrieval, reading, chosen)
        return self.composing.run(retrieval, reading, chosen, confidence, started)

    def examine(
        self,
        question: str | Question,
        k: int | None = None,
        filters: Filters | Mapping[str, Any] | None = None,
        reader: str | Reader | None = None,
        mode: str | None = None,
        ef_runtime: int | None = None,
    ) -> tuple[Retrieval, Reading, Reader]:
        """What an answer rests on, for the calibration (`reader` may be another index's)."""
        if not isinstance(question, Question):
            question = Question(question, k, filters, mode, reader, ef_runtime)
        asked = question.checked(self.settings)
        chosen = self.reader_for(asked.reader)  # before retrieval: a bad choice costs no search
        retrieval = self.retrieving.run(asked)
        reading, chosen = self.reading.run(asked, retrieval, chosen)
        return retrieval, reading, chosen

    def retrieve(
        self,
        question: str,
        k: int | None = None,
        filters: Filters | Mapping[str, Any] | None = None,
        mode: str | None = None,
        ef_runtime: int | None = None,
    ) -> Retrieval:
        """The top-k chunks for a question, in rank order, without reading them."""
        asked = Question(question, k, filters, mode, ef_runtime=ef_runtime)
        return self.retrieving.run(asked.checked(self.settings))

    def retrieve_many(
        self,
        questions: Sequence[str],
        k: int | None = None,
        filters: Filters | None = None,
        batch: int = 64,
    ) -> Iterator[Retrieval]:
        """Hybrid retrieval of many questions, embedded in batches (training asks thousands)."""
        return self.retrieving.retrieve_many(questions, k, filters, batch)

    def ready(self) -> dict[str, Any]:
        """What a readiness probe checks: Redis answers, the index exists, models are loaded."""
        return {**self.retrieving.ready(), "reader": self.reader_for(None).name}

    def facets(self, limit: int = 100) -> dict[str, list[str]]:
        """The sources and tags present in the index, for pickers (e.g. Slack's modal)."""
        return self.retrieving.facets(limit)
