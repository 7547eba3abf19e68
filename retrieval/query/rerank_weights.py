"""The index's own rerank weights: one small, versioned JSON value stored beside the index.

`qa train` fits them on questions generated from the index's chunks (training/rerank_fitting.py).
Every engine re-reads the record at most every QA_READER_CHECK_S, so running servers use new
weights without a restart. A record that does not parse, that another release wrote, or that
was fitted with another embedding model is logged once and ignored: the defaults rank then.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from retrieval.errors import QAError
from retrieval.index.chunks import ChunkIndex
from retrieval.query.rerank import FEATURES, WEIGHTS
from retrieval.redis.live_record import LiveRecord, unreadable, versioned

VERSION = 1
log = logging.getLogger("qa.rerank")


class CorruptWeights(QAError):
    code = "corrupt_rerank_weights"


@dataclass(frozen=True)
class RerankRecord:
    weights: dict[str, float]
    questions: int  # generated questions whose chunk was among the fused candidates
    scores: dict[str, float]  # MRR and hit@1 of the defaults and of the fitted weights
    model: str  # the embedding model of the index it was fitted on
    chunks: int
    seconds: float
    created: float = field(default_factory=time.time)

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": VERSION,
                "weights": self.weights,
                "questions": self.questions,
                "scores": self.scores,
                "model": self.model,
                "chunks": self.chunks,
                "seconds": round(self.seconds, 1),
                "created": self.created,
            }
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> RerankRecord:
        then = "it is ignored and the default weights rank: run `qa train` again"
        with unreadable(CorruptWeights, "the rerank weights record", then):
            d = versioned(raw, VERSION)
            weights = {name: float(d["weights"][name]) for name in FEATURES}
            if not all(math.isfinite(w) and w >= 0 for w in weights.values()) or not any(
                weights.values()
            ):
                raise ValueError("weights must be finite, non-negative and not all zero")
            return cls(
                weights,
                int(d["questions"]),
                {str(k): float(v) for k, v in d["scores"].items()},
                str(d["model"]),
                int(d["chunks"]),
                float(d["seconds"]),
                float(d["created"]),
            )


def save(index: ChunkIndex, record: RerankRecord) -> None:
    index.client.set(index.schema.rerank_key, record.to_json())


def load(index: ChunkIndex) -> RerankRecord | None:
    """The stored record, None when never fitted; CorruptWeights when unreadable."""
    raw = index.client.get(index.schema.rerank_key)
    return None if raw is None else RerankRecord.from_json(raw)


class LiveWeights:
    """The weights to rank with now: the index's record as running processes see it
    (redis/live_record.py), else the defaults."""

    def __init__(self, index: ChunkIndex, refresh_s: float = 10.0) -> None:
        self.index = index
        self.record = LiveRecord(
            index.client,
            index.schema.rerank_key,
            self._parse,
            what="rerank weights",
            log=log,
            refresh_s=refresh_s,
        )

    @property
    def error(self) -> str | None:
        return self.record.error

    def current(self) -> Mapping[str, float]:
        record = self.record.current()
        return WEIGHTS if record is None else record.weights

    def refresh(self) -> None:
        """Read the record at the next question (after `qa train` in this process)."""
        self.record.refresh()

    def describe(self) -> dict[str, Any]:
        weights = self.current()
        return {"weights": dict(weights), "fitted": weights is not WEIGHTS, "error": self.error}

    def _parse(self, raw: bytes) -> RerankRecord:
        record = RerankRecord.from_json(raw)
        if record.model != self.index.schema.model:
            raise CorruptWeights(
                f"the rerank weights were fitted with the embedding model {record.model}, the "
                f"index now uses {self.index.schema.model}: they are ignored until `qa train` "
                "runs again"
            )
        return record
