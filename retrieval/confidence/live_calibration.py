"""The engine's view of the calibration record: re-read at most every few seconds, so running
workers pick up a new calibration without a restart; a corrupt record is logged and ignored."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from retrieval.confidence.calibration_record import (
    KINDS,
    CalibrationRecord,
    ReaderCalibration,
    record_key,
)
from retrieval.confidence.coverage import coverage
from retrieval.confidence.model import Confidence
from retrieval.confidence.signals import extract
from retrieval.index.chunks import ChunkIndex
from retrieval.query.retriever import Retrieval
from retrieval.readers import Reader, Reading
from retrieval.redis.live_record import LiveRecord

REFRESH_S = 10.0
UNCALIBRATED = (
    "not calibrated: `score` is the reader's own score, and questions whose words the "
    "documents do not hold are refused; run `qa calibrate`"
)
log = logging.getLogger("qa.calibration")


class LiveCalibration:
    """The index's calibration record as running processes see it (redis/live_record.py)."""

    def __init__(self, index: ChunkIndex, refresh_s: float = REFRESH_S) -> None:
        self.index = index
        self.record = LiveRecord(
            index.client,
            record_key(index),
            CalibrationRecord.from_json,
            what="calibration record",
            log=log,
            refresh_s=refresh_s,
        )
        self._logged: set[tuple[str, str]] = set()  # stale calibrations already logged

    def current(self) -> CalibrationRecord | None:
        return self.record.current()

    def refresh(self) -> None:
        """Read the record now (after `qa calibrate` in this process), not at the next tick."""
        self.record.refresh()

    def for_reader(self, reader: Reader) -> tuple[ReaderCalibration | None, str]:
        """The reader's calibration, if it is valid for this very model, and one line for
        the answer's explanation. A calibration fitted on another model than the one that
        reads now (a retrained reader, another embedding model) is stale: ignored, logged."""
        record = self.current()
        if self.record.error:
            return None, self.record.error
        if record is None:
            return None, UNCALIBRATED
        if (cal := record.readers.get(reader.name)) is None:
            return None, (
                f"not calibrated for the {reader.name} reader: run "
                f"`qa calibrate --reader {reader.name}`"
            )
        stale = stale_because(record, cal, reader, self.index.schema.model)
        if stale:
            if (reader.name, stale) not in self._logged:
                self._logged.add((reader.name, stale))
                log.warning("index %s: %s", self.index.schema.name, stale)
            return None, stale
        day = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M UTC")
        asked = " and ".join(
            f"{len(c.answerable) + len(c.unanswerable)} {KINDS[k]}"
            for k, c in cal.trusted().items()
        )
        return cal, (
            f"calibrated for the {reader.name} reader on {day} from {asked} questions "
            f"(AUROC {cal.auroc:.3f})"
        )

    def confidence(
        self,
        reader: Reader,
        retrieval: Retrieval,
        reading: Reading,
        target: float,
        min_confidence: float | None = None,
    ) -> Confidence:
        """The calibrated confidence, or the reader's own score where there is no calibration."""
        cal, status = self.for_reader(reader)
        if cal is None and min_confidence is not None:  # the caller's threshold, alone
            return Confidence(reading.best_score, min_confidence, False, status)
        if cal is None:
            found = coverage(self.index, retrieval)
            return Confidence(
                reading.best_score,
                min_confidence,
                False,
                status,
                {"coverage": found.to_dict()},
                covered=found.covered,
            )
        signals = extract(retrieval, reading)
        value = cal.model.predict(signals)
        threshold = cal.threshold_for(target) if min_confidence is None else min_confidence
        detail = {
            "refusal_target": target,
            "min_confidence": min_confidence,
            "signals": {k: round(v, 4) for k, v in signals.items()},
        }
        return Confidence(value, threshold, True, status, detail)


def stale_because(
    record: CalibrationRecord, cal: ReaderCalibration, reader: Reader, model: str
) -> str | None:
    """Why a stored calibration no longer describes the reader's answers, or None."""
    fitted_model = record.fingerprint.get("model")
    if fitted_model != model:
        return (
            f"the calibration was fitted with the embedding model {fitted_model}, the index "
            f"now uses {model}: it is ignored until `qa calibrate` runs again"
        )
    if cal.reader_version != reader.version:
        return (
            f"the calibration of the {reader.name} reader was fitted on its version "
            f"{cal.reader_version or '(none)'}, it now reads with {reader.version or '(none)'}"
            ": it is ignored until `qa calibrate` runs again"
        )
    return None
