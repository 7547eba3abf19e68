"""Confidence as a component: how sure the answer is, from the index's live calibration."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from retrieval.components.question import Question
from retrieval.components.question_retriever import ms_since
from retrieval.confidence.live_calibration import LiveCalibration
from retrieval.confidence.model import Confidence
from retrieval.index.chunks import ChunkIndex
from retrieval.query.retriever import Retrieval
from retrieval.readers import Reader, Reading
from retrieval.settings import Settings


class ConfidenceScorer:
    """The calibrated confidence of a reading, or the reader's own score before `qa calibrate`."""

    def __init__(self, settings: Settings, index: Callable[[], ChunkIndex]) -> None:
        self.settings = settings
        self._index = index  # the retriever's, opened on first use
        self._calibration: LiveCalibration | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> ConfidenceScorer:
        """Nothing to load: the calibration record is read with the first answer (and every
        few seconds after, so a new `qa calibrate` needs no restart)."""
        return self

    @property
    def calibration(self) -> LiveCalibration:
        index = self._index()
        with self._lock:
            if self._calibration is None:
                self._calibration = LiveCalibration(index)
        return self._calibration

    def run(
        self, question: Question, retrieval: Retrieval, reading: Reading, reader: Reader
    ) -> Confidence:
        """The confidence; answers below it are refused at `question.min_confidence` where the
        caller set one, else at the threshold calibrated for the index (`qa calibrate`), else,
        before any calibration, where the documents do not hold the question's words. The time
        it took joins the retrieval's timings."""
        t = time.perf_counter()
        confidence = self.calibration.confidence(
            reader, retrieval, reading, self.settings.refusal_target, question.min_confidence
        )
        retrieval.timings["confidence"] = ms_since(t)
        return confidence
