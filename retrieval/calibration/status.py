"""What `qa calibrate --status` and `qa index info` say about an index's calibration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from retrieval.calibration.live import UNCALIBRATED
from retrieval.calibration.record import (
    CURVE_THRESHOLDS,
    CalibrationRecord,
    CorruptCalibration,
    fingerprint,
    load,
)
from retrieval.index import ChunkIndex


def summary(index: ChunkIndex, target: float) -> dict[str, Any]:
    """The calibration's state (calibrated, not calibrated, corrupt) with its main numbers."""
    try:
        record = load(index)
    except CorruptCalibration as e:
        return {"state": "corrupt", "message": str(e)}
    if record is None:
        return {"state": "not calibrated", "message": UNCALIBRATED}
    now = fingerprint(index)
    return {
        "state": "calibrated",
        "created": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "synthetic_questions": record.questions,
        "seconds": record.seconds,
        "refusal_target": target,
        "index_changed_since": now != record.fingerprint,
        "readers": {
            name: {"auroc": round(cal.auroc, 4), "threshold": round(cal.threshold_for(target), 4)}
            for name, cal in record.readers.items()
        },
    }


def curve_lines(record: CalibrationRecord, target: float) -> list[str]:
    """Per reader: share of answerable vs unanswerable (synthetic) questions refused."""
    lines = []
    for name, cal in record.readers.items():
        chosen = cal.threshold_for(target)
        lines += [
            "",
            f"{name} reader: AUROC {cal.auroc:.3f}; threshold {chosen:.3f} for a refusal "
            f"target of {target:.2f}",
            f"  {'threshold':>9}  {'answerable refused':>18}  {'unanswerable refused':>20}",
        ]
        for t in sorted({*CURVE_THRESHOLDS, chosen}):
            a, u = cal.refused(t)
            mark = "  <- in use" if t == chosen else ""
            lines.append(f"  {t:9.3f}  {a:18.3f}  {u:20.3f}{mark}")
    return lines
