"""Reading as a component: which reader reads (`auto` takes the best one that loads, and per
question falls back to the sentence reader), each model-backed reader loaded once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import redis

from retrieval.choices import READERS, check_choice
from retrieval.components.question import Question
from retrieval.components.question_retriever import ms_since
from retrieval.embedding.embedder import Embedder
from retrieval.errors import ModelUnavailable
from retrieval.query.retriever import Retrieval
from retrieval.readers import Reader, Reading
from retrieval.readers.sentence import SentenceReader
from retrieval.settings import Settings

# `auto` answers with the sentence reader only below this span confidence: at 0.1 rather than
# the span reader's own 0.5 it kept the manual's facts and gave back .035 F1 on held-out prose
# (BENCHMARKS.md, the shipped reader)
SENTENCE_BELOW = 0.1


class ReaderRouter:
    """Chooses the reader and reads; a reader that needs a model file loads on first use only,
    so asking with the sentence reader never loads the span model."""

    def __init__(
        self, settings: Settings, embedder: Embedder, client: Callable[[], redis.Redis]
    ) -> None:
        self.settings = settings
        self.sentence = SentenceReader(embedder, settings.sentence_threshold, settings.cache_mb)
        self._client = client  # the index's, for the trained reader; called on first use
        self._optional: dict[str, Reader] = {}  # readers that need a model file: span, trained
        self._unavailable: dict[str, str] = {}  # why one could not load
        self._trained: Any = None  # the TrainedSource, made on first use
        self._lock = threading.Lock()

    def warm_up(self) -> ReaderRouter:
        """Load the configured reader now, not on the first question."""
        self.reader_for(None).warm_up()
        return self

    def reader_for(self, name: str | Reader | None) -> Reader:
        """The reader asked for (a reader object as it is); `auto` takes the best that loads."""
        if name is not None and not isinstance(name, str):
            return name
        name = check_choice("reader", name, READERS) or self.settings.reader
        if name == "sentence":
            return self.sentence
        if name == "span":
            return self.span_reader(download=True)
        if name == "trained":
            return self.trained_reader()
        for optional in (self.trained_reader, self.span_reader):
            try:
                return optional()
            except ModelUnavailable:
                pass
        return self.sentence

    def span_reader(self, download: bool = False) -> Reader:
        """The transformers reader, or ModelUnavailable with the reason it could not load.

        Only an explicit `span` choice may download the model; `auto` uses what is on disk.
        """

        def load() -> Reader:
            from retrieval.readers.hub_span import SpanReader

            settings = self.settings
            return SpanReader(settings.span_model, settings.span_threshold, not download).warm_up()

        return self._optional_reader("span", load, retry=download)

    def trained_reader(self) -> Reader:
        """The reader `qa train-reader` made for this index (a newer one is noticed in ~10 s)."""
        from retrieval.readers.trained import TrainedSource

        with self._lock:
            if self._trained is None:
                s = self.settings
                self._trained = TrainedSource(
                    self._client, s.key_prefix, s.data_dir, s.reader_check_s, s.shipped_reader
                )
        return self._trained.current()

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

    def run(
        self, question: Question, retrieval: Retrieval, reader: Reader
    ) -> tuple[Reading, Reader]:
        """The reading of the retrieved chunks by `reader` (chosen before retrieval, so a bad
        choice costs no search), and the reader that gave it."""
        t = time.perf_counter()
        reading = self._read(reader, retrieval)
        if question.picks_reader(self.settings.reader) and reader.name == "trained":
            reading, reader = self._choose(reading, reader, retrieval)
        retrieval.timings["read"] = ms_since(t)
        return reading, reader

    def _choose(
        self, reading: Reading, span: Reader, retrieval: Retrieval
    ) -> tuple[Reading, Reader]:
        """`auto`, per question: where the span model is unsure, the sentence picker is asked.
        Where the span model is all but sure the passages do not answer (manuals' definition
        lists, mostly), the picker's sentence answers; where it merely hesitates and the
        picker finds an answer, its span answers, vouched for by the picker."""
        if reading.confident:
            return reading, span
        fallback = self._read(self.sentence, retrieval)
        if not fallback.confident:
            return reading, span
        if reading.best_score < SENTENCE_BELOW:
            return fallback, self.sentence
        return replace(reading, threshold=SENTENCE_BELOW), span

    def _read(self, reader: Reader, retrieval: Retrieval) -> Reading:
        if not retrieval.hits:
            return Reading(threshold=reader.threshold)
        return reader.read(
            retrieval.question, retrieval.hits, self.settings.answers, retrieval.query_vector
        )
