"""The calibration record: one small, versioned JSON value stored beside the index.

Per reader it holds the model and the out-of-fold confidences of the synthetic answerable and
unanswerable questions, so the threshold for any refusal target (and the whole curve) is read
off them without calibrating again. A record that does not parse is an error, never a guess.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retrieval.calibration.model import LogisticModel
from retrieval.errors import QAError
from retrieval.index import ChunkIndex

VERSION = 1
CURVE_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


class CorruptCalibration(QAError):
    code = "corrupt_calibration"


def record_key(index: ChunkIndex) -> str:
    return index.schema.calibration_key


def fingerprint(index: ChunkIndex) -> dict[str, Any]:
    """What the calibration was fitted on: a different one means the index changed since."""
    return {"chunks": index.count_chunks(), "model": index.schema.model}


@dataclass(frozen=True)
class ReaderCalibration:
    model: LogisticModel
    answerable: tuple[float, ...]  # out-of-fold confidences, sorted
    unanswerable: tuple[float, ...]
    auroc: float

    def threshold_for(self, target: float) -> float:
        """The confidence to refuse below: one that refuses at most `target` of the answerable
        questions and, among those, the most unanswerable ones for the answerable ones it
        costs (the largest difference of the two shares; the lower threshold on a tie).

        The target is a ceiling, not a quota: where the two kinds separate well, refusing
        more answerable questions would buy almost no refusals of the others.
        """
        if not self.answerable:
            return 0.5
        k = int(np.floor(target * len(self.answerable) + 1e-9))  # answerable ones it may refuse
        cap = self.answerable[k] if k < len(self.answerable) else 1.0 + 1e-6
        unanswerable = np.asarray(self.unanswerable)
        # The best thresholds lie just above an unanswerable confidence (refusing it).
        candidates = np.unique(np.append(np.minimum(unanswerable[unanswerable < cap] + 1e-6, cap),
                                         [0.0, cap]))  # fmt: skip
        a = np.searchsorted(self.answerable, candidates, side="left") / len(self.answerable)
        u = np.searchsorted(unanswerable, candidates, side="left") / max(len(unanswerable), 1)
        return float(candidates[int(np.argmax(u - a))])  # argmax: the first, i.e. the lowest

    def refused(self, threshold: float) -> tuple[float, float]:
        """(share of answerable refused, share of unanswerable refused) at a threshold."""
        a = np.searchsorted(self.answerable, threshold, side="left") / max(len(self.answerable), 1)
        u = np.searchsorted(self.unanswerable, threshold, side="left")
        return float(a), float(u / max(len(self.unanswerable), 1))

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.to_dict(), "auroc": round(self.auroc, 4),
            "answerable": [round(x, 4) for x in self.answerable],
            "unanswerable": [round(x, 4) for x in self.unanswerable],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReaderCalibration:
        scores = [tuple(sorted(float(x) for x in d[k])) for k in ("answerable", "unanswerable")]
        if not all(0 <= x <= 1 for s in scores for x in s) or not scores[0]:
            raise ValueError("confidences must be numbers in 0..1")
        return cls(LogisticModel.from_dict(d["model"]), *scores, float(d["auroc"]))


@dataclass(frozen=True)
class CalibrationRecord:
    readers: dict[str, ReaderCalibration]
    target: float
    questions: int
    seconds: float
    fingerprint: dict[str, Any]
    created: float = field(default_factory=time.time)

    def to_json(self) -> str:
        return json.dumps({
            "version": VERSION, "created": self.created, "target": self.target,
            "questions": self.questions, "seconds": round(self.seconds, 1),
            "fingerprint": self.fingerprint,
            "readers": {name: r.to_dict() for name, r in self.readers.items()},
        })  # fmt: skip

    @classmethod
    def from_json(cls, raw: str | bytes) -> CalibrationRecord:
        try:
            d = json.loads(raw)
            if d.get("version") != VERSION:
                raise ValueError(f"version {d.get('version')!r}, this program reads {VERSION}")
            readers = {str(k): ReaderCalibration.from_dict(v) for k, v in d["readers"].items()}
            target = float(d["target"])
            if not readers or not 0 < target < 1 or not math.isfinite(float(d["created"])):
                raise ValueError("no reader, or a target outside 0..1")
            return cls(
                readers, target, int(d["questions"]), float(d["seconds"]),
                dict(d["fingerprint"]), float(d["created"]),
            )  # fmt: skip
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise CorruptCalibration(
                f"the calibration record is unreadable ({type(e).__name__}: {str(e)[:120]}); "
                "it is ignored: run `qa calibrate` again"
            ) from e


def save(index: ChunkIndex, record: CalibrationRecord) -> None:
    index.client.set(record_key(index), record.to_json())


def load(index: ChunkIndex) -> CalibrationRecord | None:
    """The stored record, None when the index was never calibrated; CorruptCalibration if bad."""
    raw = index.client.get(record_key(index))
    return None if raw is None else CalibrationRecord.from_json(raw)
