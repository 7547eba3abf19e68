"""What `qa calibrate --status` and `qa index info` say about an index's calibration."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from retrieval.calibration.verdicts import MIN_LABELS, verdicts
from retrieval.confidence.calibration_record import (
    CURVE_THRESHOLDS,
    KINDS,
    CalibrationRecord,
    CorruptCalibration,
    Curve,
    ReaderCalibration,
    fingerprint,
    load,
)
from retrieval.confidence.live_calibration import UNCALIBRATED
from retrieval.feedback import FeedbackStore
from retrieval.index.chunks import ChunkIndex

Z95 = 1.96


def summary(index: ChunkIndex, target: float) -> dict[str, Any]:
    """The calibration's state (calibrated, not calibrated, corrupt) with its main numbers:
    per reader and kind of question, the refusals expected at the threshold in use."""
    labels = _labels(index)
    try:
        record = load(index)
    except CorruptCalibration as e:
        return {"state": "corrupt", "message": str(e), "labels": labels}
    if record is None:
        return {"state": "not calibrated", "message": UNCALIBRATED, "labels": labels}
    return {
        "state": "calibrated",
        "created": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "synthetic_questions": record.questions,
        "seconds": record.seconds,
        "refusal_target": target,
        "index_changed_since": fingerprint(index) != record.fingerprint,
        "labels": labels,
        "readers": {name: _reader(cal, target) for name, cal in record.readers.items()},
    }


def _labels(index: ChunkIndex) -> dict[str, Any]:
    found = verdicts(FeedbackStore(index.client, index.schema.prefix).export())
    return {
        "verdicts": len(found),
        "answerable": sum(v.answerable for v in found),
        "used_from": MIN_LABELS,
    }


def _reader(cal: ReaderCalibration, target: float) -> dict[str, Any]:
    threshold = cal.threshold_for(target)
    return {
        "auroc": round(cal.auroc, 4),
        "threshold": round(threshold, 4),
        "trusted": sorted(cal.trusted()),
        "expected": {kind: expected(curve, threshold) for kind, curve in cal.curves.items()},
    }


def expected(curve: Curve, threshold: float) -> dict[str, Any]:
    """Refused shares at `threshold`, each with its 95% (Wilson) interval and sample size."""
    a, u = curve.refused(threshold)
    return {
        "answerable_refused": _share(a, len(curve.answerable)),
        "unanswerable_refused": _share(u, len(curve.unanswerable)),
        "auroc": round(curve.auroc, 4) if curve.answerable and curve.unanswerable else None,
    }


def _share(p: float, n: int) -> dict[str, Any]:
    low, high = wilson(p, n)
    return {"share": round(p, 4), "low": round(low, 4), "high": round(high, 4), "n": n}


def wilson(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a share p observed on n questions."""
    if n == 0:
        return 0.0, 1.0
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def curve_lines(record: CalibrationRecord, target: float) -> list[str]:
    """Per reader and kind of question: the share of answerable vs unanswerable refused."""
    lines = []
    for name, cal in record.readers.items():
        chosen = cal.threshold_for(target)
        lines += [
            "",
            f"{name} reader: threshold {chosen:.3f} for a refusal target of "
            f"{target:.2f}, kept on {' and '.join(KINDS[k] for k in cal.trusted())} "
            "questions",
        ]
        quotas = {k: c.quota(target) for k, c in cal.trusted().items()}
        if len(quotas) > 1:
            decides = min(quotas, key=quotas.__getitem__)
            others = ", ".join(
                f"{KINDS[k]} ones alone {q:.3f}" for k, q in quotas.items() if k != decides
            )
            lines.append(f"  set by {KINDS[decides]} questions, the harder ones ({others})")
        for kind, curve in cal.curves.items():
            at = expected(curve, chosen)
            a, u = at["answerable_refused"], at["unanswerable_refused"]
            lines.append(
                f"  {KINDS[kind]} questions ({a['n']} answerable, {u['n']} not; AUROC "
                f"{curve.auroc:.3f}): refuses {a['share']:.3f} of the answerable "
                f"({a['low']:.3f}-{a['high']:.3f}) and {u['share']:.3f} of the others"
            )
        kinds = list(cal.curves)
        lines.append("  threshold  " + "  ".join(f"{KINDS[k][:18]:>18} refused" for k in kinds))
        lines.append("             " + "  ".join(f"{'answerable / not':>26}" for _ in kinds))
        for t in sorted({*CURVE_THRESHOLDS, chosen}):
            cells = "  ".join("{:>12.3f} / {:<11.3f}".format(*cal.refused(t, k)) for k in kinds)
            lines.append(f"  {t:9.3f}  {cells}" + ("  <- in use" if t == chosen else ""))
    return lines
