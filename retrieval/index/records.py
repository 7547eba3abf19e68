"""The per-document record hash (one per document, beside its chunks) and its codec: the
fields it holds, and how each is written and read back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from retrieval.index.fields import split_tags
from retrieval.redis.replies import text
from retrieval.types import DocMeta


@dataclass(frozen=True)
class StoredDoc:
    doc_id: str
    content_hash: str
    generation: str  # the content hash's first 12 characters, in its chunks' keys
    chunks: int
    title: str = ""
    source: str = ""
    path: str = ""
    url: str = ""
    updated: float = 0.0  # when the record was last switched
    folder: str = ""
    tags: tuple[str, ...] = ()
    created: float | None = None
    modified: float | None = None
    described: bool = True  # False: a record older than tags and dates in records

    @classmethod
    def of(
        cls, meta: DocMeta, content_hash: str, generation: str, chunks: int, updated: float
    ) -> StoredDoc:
        """The record a document's new content is switched in with (`ChunkIndex.replace`)."""
        return cls(
            doc_id=meta.doc_id,
            content_hash=content_hash,
            generation=generation,
            chunks=chunks,
            title=meta.title,
            source=meta.source,
            path=meta.path,
            url=meta.url,
            updated=updated,
            folder=meta.folder,
            tags=meta.tags,
            created=meta.created,
            modified=meta.modified,
        )

    def record(self) -> dict[str, str | int | float]:
        """The record hash as written (`described` is implied: every record has `tags`)."""
        return {
            "doc_id": self.doc_id,
            "hash": self.content_hash,
            "generation": self.generation,
            "chunks": self.chunks,
            "title": self.title,
            "source": self.source,
            "path": self.path,
            "url": self.url,
            "folder": self.folder,
            "tags": ",".join(self.tags),
            "created": _or_empty(self.created),
            "modified": _or_empty(self.modified),
            "updated": self.updated,
        }

    @classmethod
    def from_record(cls, raw: Mapping[Any, Any]) -> StoredDoc:
        """A record as HGETALL returns it (bytes); fields an older version did not write
        read as empty."""
        d = {text(k): text(v) for k, v in raw.items()}
        return cls(
            doc_id=d.get("doc_id", ""),
            content_hash=d.get("hash", ""),
            generation=d.get("generation", ""),
            chunks=int(d.get("chunks", 0)),
            title=d.get("title", ""),
            source=d.get("source", ""),
            path=d.get("path", ""),
            url=d.get("url", ""),
            updated=float(d.get("updated", 0)),
            folder=d.get("folder", ""),
            tags=split_tags(d.get("tags", "")),
            created=_float_or_none(d.get("created")),
            modified=_float_or_none(d.get("modified")),
            described="tags" in d,
        )


def _or_empty(value: float | None) -> float | str:
    return "" if value is None else value


def _float_or_none(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
