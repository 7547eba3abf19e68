"""The calibration record: one small, versioned JSON value stored beside the index.

Per reader it holds the model and, per kind of question it was fitted on, the out-of-fold
confidences of answerable and unanswerable ones (a `Curve`), so the threshold for any refusal
target (and the whole curve) is read off them without calibrating again. A record that does
not parse, or that an older release wrote, is an error, never a guess.
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retrieval.confidence.model import LogisticModel, auroc
from retrieval.errors import QAError
from retrieval.index.chunks import ChunkIndex
from retrieval.redis.live_record import unreadable, versioned

VERSION = 2  # 2: curves per kind of question (1 held the synthetic ones only)
# The kinds of questions a calibration asks; a threshold keeps its promise on each it trusts.
SYNTHETIC = "synthetic"  # generated from the index's own chunks
SAMPLE = "sample"  # written by people, about the bundled sample's held-out articles
LABELS = "labels"  # this index's users' verdicts (👍/👎, captured answers)
KINDS = {SYNTHETIC: "synthetic", SAMPLE: "sample people's", LABELS: "users'"}  # for messages
MIN_POINTS = 30  # answerable questions a curve needs before its threshold is trusted
CURVE_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


class CorruptCalibration(QAError):
    code = "corrupt_calibration"


def record_key(index: ChunkIndex) -> str:
    return index.schema.calibration_key


def fingerprint(index: ChunkIndex) -> dict[str, Any]:
    """What the calibration was fitted on: a different one means the index changed since."""
    return {"chunks": index.count_chunks(), "model": index.schema.model}


@dataclass(frozen=True)
class Curve:
    """Out-of-fold confidences of one kind of question, sorted: the refusals any threshold
    makes among them."""

    answerable: tuple[float, ...]
    unanswerable: tuple[float, ...]

    def quota(self, target: float) -> float:
        """The highest threshold that refuses at most `target` of the answerable questions."""
        k = int(np.floor(target * len(self.answerable) + 1e-9))  # answerable ones it may refuse
        return self.answerable[k] if k < len(self.answerable) else 1.0 + 1e-6

    def refused(self, threshold: float) -> tuple[float, float]:
        """(share of answerable refused, share of unanswerable refused) at a threshold."""
        a = np.searchsorted(self.answerable, threshold, side="left")
        u = np.searchsorted(self.unanswerable, threshold, side="left")
        return float(a / max(len(self.answerable), 1)), float(u / max(len(self.unanswerable), 1))

    @functools.cached_property  # read into every calibrated answer's status line
    def auroc(self) -> float:
        return auroc(self.answerable, self.unanswerable)

    def to_dict(self) -> dict[str, list[float]]:
        return {
            "answerable": [round(x, 4) for x in self.answerable],
            "unanswerable": [round(x, 4) for x in self.unanswerable],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Curve:
        scores = [tuple(sorted(float(x) for x in d[k])) for k in ("answerable", "unanswerable")]
        if not all(0 <= x <= 1 for s in scores for x in s):
            raise ValueError("confidences must be numbers in 0..1")
        return cls(*scores)


@dataclass(frozen=True)
class ReaderCalibration:
    model: LogisticModel
    curves: dict[str, Curve]  # by kind of question: SYNTHETIC always, SAMPLE and LABELS if asked
    reader_version: str = ""  # the reader's model it was fitted on (`Reader.version`)

    def trusted(self) -> dict[str, Curve]:
        """The curves a threshold must keep its promise on: the index's own questions, and
        real ones: its users' once they are MIN_POINTS answerable, else the sample's."""
        users = self.curves.get(LABELS)
        real = LABELS if users is not None and len(users.answerable) >= MIN_POINTS else SAMPLE
        return {k: c for k, c in self.curves.items() if k in (SYNTHETIC, real) and c.answerable}

    def threshold_for(self, target: float) -> float:
        """The confidence to refuse below: the highest that refuses at most `target` of the
        answerable questions of every trusted curve (the harder kind decides)."""
        quotas = [c.quota(target) for c in self.trusted().values()]
        return min(quotas) if quotas else 0.5

    def refused(self, threshold: float, kind: str = SYNTHETIC) -> tuple[float, float]:
        return self.curves[kind].refused(threshold)

    @property
    def auroc(self) -> float:
        """How well the confidence ranks real questions (synthetic ones where none were asked)."""
        trusted = self.trusted()
        real = [c for k, c in trusted.items() if k != SYNTHETIC]
        return (real or list(trusted.values()) or [Curve((), ())])[0].auroc

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.to_dict(),
            "auroc": round(self.auroc, 4),
            "curves": {k: c.to_dict() for k, c in self.curves.items()},
            "reader_version": self.reader_version,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReaderCalibration:
        curves = {str(k): Curve.from_dict(v) for k, v in d["curves"].items()}
        if not curves.get(SYNTHETIC, Curve((), ())).answerable:
            raise ValueError("no synthetic answerable confidences")
        return cls(LogisticModel.from_dict(d["model"]), curves, str(d.get("reader_version", "")))


@dataclass(frozen=True)
class CalibrationRecord:
    readers: dict[str, ReaderCalibration]
    target: float
    questions: int
    seconds: float
    fingerprint: dict[str, Any]
    created: float = field(default_factory=time.time)

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": VERSION,
                "created": self.created,
                "target": self.target,
                "questions": self.questions,
                "seconds": round(self.seconds, 1),
                "fingerprint": self.fingerprint,
                "readers": {name: r.to_dict() for name, r in self.readers.items()},
            }
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> CalibrationRecord:
        then = "it is ignored: run `qa calibrate` again"
        with unreadable(CorruptCalibration, "the calibration record", then):
            d = versioned(raw, VERSION)
            readers = {str(k): ReaderCalibration.from_dict(v) for k, v in d["readers"].items()}
            target = float(d["target"])
            if not readers or not 0 < target < 1 or not math.isfinite(float(d["created"])):
                raise ValueError("no reader, or a target outside 0..1")
            return cls(
                readers,
                target,
                int(d["questions"]),
                float(d["seconds"]),
                dict(d["fingerprint"]),
                float(d["created"]),
            )


def save(index: ChunkIndex, record: CalibrationRecord) -> None:
    index.client.set(record_key(index), record.to_json())


def load(index: ChunkIndex) -> CalibrationRecord | None:
    """The stored record, None when the index was never calibrated; CorruptCalibration if bad."""
    raw = index.client.get(record_key(index))
    return None if raw is None else CalibrationRecord.from_json(raw)
