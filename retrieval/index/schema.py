"""The index schema as data: names, key layout and HNSW settings in one place (a chunk's
fields, which FT.CREATE declares before the vector: fields.py)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from retrieval.index.fields import INDEXED
from retrieval.settings import Settings


@dataclass(frozen=True)
class IndexSchema:
    name: str
    prefix: str
    dim: int
    model: str
    # Defaults are the settings' own (retrieval/settings.py says why each value).
    vector_type: str = Settings.vector_type
    m: int = Settings.hnsw_m
    ef_construction: int = Settings.hnsw_ef_construction
    ef_runtime: int = Settings.hnsw_ef_runtime

    @classmethod
    def for_settings(cls, settings: Settings, dim: int, model: str) -> IndexSchema:
        return cls(
            name=settings.index_name,
            prefix=settings.key_prefix,
            dim=dim,
            model=model,
            vector_type=settings.vector_type,
            m=settings.hnsw_m,
            ef_construction=settings.hnsw_ef_construction,
            ef_runtime=settings.hnsw_ef_runtime,
        )

    @property
    def chunk_prefix(self) -> str:
        return f"{self.prefix}:chunk:"

    @property
    def meta_key(self) -> str:
        return f"{self.prefix}:meta:{self.name}"

    @property
    def calibration_key(self) -> str:
        """The index's calibration record (retrieval/confidence/calibration_record.py)."""
        return f"{self.prefix}:calibration:{self.name}"

    @property
    def rerank_key(self) -> str:
        """The index's fitted rerank weights (retrieval/query/rerank_weights.py)."""
        return f"{self.prefix}:rerank:{self.name}"

    @property
    def owner_key(self) -> str:
        """A temporary index's owner, alive or kept (retrieval/index/temporary.py)."""
        return f"{self.prefix}:owner:{self.name}"

    @property
    def training_lock_key(self) -> str:
        """Held while `qa train` or `qa train-reader` runs (retrieval/training/lock.py)."""
        return f"{self.prefix}:lock:train:{self.name}"

    @staticmethod
    def slot_tag(doc_id: str) -> str:
        """Hash tag shared by a document's keys, so they live in one cluster slot."""
        return hashlib.sha1(doc_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]

    def doc_key(self, doc_id: str) -> str:
        return f"{self.prefix}:doc:{{{self.slot_tag(doc_id)}}}"

    def chunk_key(self, doc_id: str, generation: str, position: int) -> str:
        return f"{self.chunk_prefix}{{{self.slot_tag(doc_id)}}}:{generation}:{position:05d}"

    def create_args(
        self, name: str | None = None, vector_field: str = "vector", vector_type: str | None = None
    ) -> list[str | int]:
        """Arguments of FT.CREATE for this schema (a migration names another index and field).

        NOOFFSETS: no query needs term positions (no phrases, no highlighting), and they cost
        ~400 bytes per chunk at COVID-QA scale (BENCHMARKS.md, memory).
        """
        vector = {
            "TYPE": vector_type or self.vector_type,
            "DIM": self.dim,
            "DISTANCE_METRIC": "COSINE",
            "M": self.m,
            "EF_CONSTRUCTION": self.ef_construction,
            "EF_RUNTIME": self.ef_runtime,
        }
        hnsw = [x for pair in vector.items() for x in pair]
        fields = [x for field in INDEXED for x in field.declaration]
        head = [name or self.name, "ON", "HASH", "PREFIX", 1, self.chunk_prefix, "NOOFFSETS"]
        return [*head, "SCHEMA", *fields, vector_field, "VECTOR", "HNSW", len(hnsw), *hnsw]
