"""How an index stores its vectors: the field, its type and the index behind the name.

Recorded in the index's meta record, so that every process encodes what it writes and what it
asks in the type the index expects, whatever its own settings say (an index built FLOAT32
keeps working after the default became FLOAT16, until `qa reindex` migrates it).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from retrieval.redis.replies import text

VECTOR_TYPES = {"FLOAT32": np.float32, "FLOAT16": np.float16}
RECORD = {"index": "physical", "vector_field": "vector_field", "vector_type": "vector_type"}
NEXT = {k: f"next_{v}" for k, v in RECORD.items()}  # the layout a migration is building


@dataclass(frozen=True)
class Layout:
    index: str  # the RediSearch index holding the chunks; the schema's name is its alias once
    vector_field: str = "vector"  # migrated (`qa reindex`), so queries always use that name
    vector_type: str = "FLOAT16"

    @property
    def dtype(self) -> type[np.floating]:
        return VECTOR_TYPES[self.vector_type]

    def pack(self, vector: np.ndarray) -> bytes:
        """One vector as the index's blob: float16 bytes for a FLOAT16 index."""
        return np.asarray(vector, dtype=self.dtype).tobytes()

    def record(self, fields: Mapping[str, str] = RECORD) -> dict[str, str]:
        return {fields[k]: getattr(self, k) for k in RECORD}

    @classmethod
    def from_record(
        cls, raw: Mapping[Any, Any], fields: Mapping[str, str] = RECORD
    ) -> Layout | None:
        d = {text(k): text(v) for k, v in raw.items()}
        if not all(d.get(f) for f in fields.values()):
            return None
        return cls(**{k: d[f] for k, f in fields.items()})


class CachedLayout:
    """The layout and the one a migration is building, re-read at most every `ttl` seconds."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self.value: tuple[Layout, Layout | None] | None = None
        self.read_at = 0.0

    def fresh(self) -> bool:
        return self.value is not None and time.monotonic() - self.read_at < self.ttl

    def set(self, value: tuple[Layout, Layout | None]) -> tuple[Layout, Layout | None]:
        self.value, self.read_at = value, time.monotonic()
        return value
