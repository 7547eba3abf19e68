"""The engine's view of the calibration record: re-read at most every few seconds, so running
workers pick up a new calibration without a restart; a corrupt record is logged and ignored."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

import redis

from retrieval.calibration.coverage import coverage
from retrieval.calibration.model import Confidence
from retrieval.calibration.record import CalibrationRecord, CorruptCalibration, record_key
from retrieval.calibration.signals import extract
from retrieval.index import ChunkIndex
from retrieval.readers import Reading
from retrieval.retriever import Retrieval

REFRESH_S = 10.0
UNCALIBRATED = (
    "not calibrated: `score` is the reader's own score, and questions whose words the "
    "documents do not hold are refused; run `qa calibrate`"
)
log = logging.getLogger("qa.calibration")


class LiveCalibration:
    """One GET of a small key every REFRESH_S at most; parsed only when its bytes changed."""

    def __init__(self, index: ChunkIndex, refresh_s: float = REFRESH_S) -> None:
        self.index = index
        self.refresh_s = refresh_s
        self.error: str | None = None  # why the stored record is ignored
        self._raw: bytes | None = None
        self._record: CalibrationRecord | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def current(self) -> CalibrationRecord | None:
        if time.monotonic() - self._checked >= self.refresh_s:
            with self._lock:
                if time.monotonic() - self._checked >= self.refresh_s:
                    self._reload()
                    self._checked = time.monotonic()
        return self._record

    def refresh(self) -> None:
        """Read the record now (after `qa calibrate` in this process), not at the next tick."""
        self._checked = float("-inf")

    def _reload(self) -> None:
        try:
            raw = self.index.client.get(record_key(self.index))
        except redis.RedisError as e:  # keep what we have; the question itself will report it
            log.warning("could not re-read the calibration record: %s", e)
            return
        if raw == self._raw:
            return
        self._raw, self._record, self.error = raw, None, None
        if raw is not None:
            try:
                self._record = CalibrationRecord.from_json(raw)
            except CorruptCalibration as e:
                self.error = str(e)
                log.error("index %s: %s", self.index.schema.name, e)

    def status(self, reader: str) -> str:
        """One line for the answer's explanation."""
        record = self.current()
        if self.error:
            return self.error
        if record is None:
            return UNCALIBRATED
        if (cal := record.readers.get(reader)) is None:
            return f"not calibrated for the {reader} reader: run `qa calibrate --reader {reader}`"
        day = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"calibrated for the {reader} reader on {day} from {record.questions} synthetic "
            f"questions (AUROC {cal.auroc:.3f})"
        )

    def confidence(
        self,
        reader: str,
        retrieval: Retrieval,
        reading: Reading,
        target: float,
        min_confidence: float | None = None,
    ) -> Confidence:
        """The calibrated confidence, or the reader's own score where there is no calibration."""
        record = self.current()
        cal = record.readers.get(reader) if record is not None else None
        status = self.status(reader)
        if cal is None and min_confidence is not None:  # the caller's threshold, alone
            return Confidence(reading.best_score, min_confidence, False, status)
        if cal is None:
            found = coverage(self.index, retrieval)
            return Confidence(reading.best_score, min_confidence, False, status,
                              {"coverage": found.to_dict()}, covered=found.covered)  # fmt: skip
        signals = extract(retrieval, reading)
        value = cal.model.predict(signals)
        threshold = cal.threshold_for(target) if min_confidence is None else min_confidence
        detail = {"refusal_target": target, "min_confidence": min_confidence,
                  "signals": {k: round(v, 4) for k, v in signals.items()}}  # fmt: skip
        return Confidence(value, threshold, True, status, detail)
