"""A chunk's fields as data: one table from which FT.CREATE's declarations, the fields returned
with hits, the chunk hash written to Redis and the `Hit` read back are all derived."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from retrieval.index.copies import content_hash
from retrieval.types import Chunk, DocMeta, Hit


@dataclass(frozen=True)
class ChunkField:
    """One field of a chunk hash.

    `value` is what a chunk is written with; None leaves the field out (each field costs ~60
    bytes per chunk, and a missing field reads as empty everywhere: `Hit`, filters).
    `declared` is its FT.CREATE type and options; None: stored, never searched or filtered.
    A field with `parse` comes back with every hit, parsed into the `Hit` attribute of its name.
    """

    name: str
    value: Callable[[DocMeta, Chunk], Any]
    declared: tuple[str | float, ...] | None = None
    parse: Callable[[str], Any] | None = None

    @property
    def declaration(self) -> tuple[str | float, ...]:
        """The field as FT.CREATE's SCHEMA (and FT.ALTER's ADD) lists it."""
        assert self.declared is not None, f"{self.name} is not indexed"
        return (self.name, *self.declared)


def _given(value: str) -> str | None:
    """An empty string is left out, like a missing value."""
    return value or None


def split_tags(value: str) -> tuple[str, ...]:
    """Tags as stored, on chunks and in document records: joined by commas."""
    return tuple(t for t in value.split(",") if t)


def _page(value: str) -> int | None:
    return int(value) if value else None


# Indexed fields in FT.CREATE's order (the vector follows them), then the stored-only ones.
FIELDS: tuple[ChunkField, ...] = (
    ChunkField("text", lambda m, c: c.text, ("TEXT",), parse=str),
    ChunkField(
        "title", lambda m, c: _given(c.title or m.title), ("TEXT", "WEIGHT", 2.0), parse=str
    ),
    ChunkField("heading", lambda m, c: _given(c.heading_path), ("TEXT",), parse=str),
    ChunkField("source", lambda m, c: _given(m.source), ("TAG",), parse=str),
    ChunkField(
        "tags", lambda m, c: _given(",".join(m.tags)), ("TAG", "SEPARATOR", ","), parse=split_tags
    ),
    ChunkField("doc_id", lambda m, c: m.doc_id, ("TAG",), parse=str),
    ChunkField("content_hash", lambda m, c: content_hash(c.text), ("TAG",)),
    ChunkField("created", lambda m, c: m.created, ("NUMERIC",)),
    ChunkField("modified", lambda m, c: m.modified, ("NUMERIC",)),
    ChunkField("position", lambda m, c: c.position, ("NUMERIC", "SORTABLE"), parse=int),
    ChunkField("page", lambda m, c: c.page, ("NUMERIC",), parse=_page),
    # Private Slack captures carry their channel's id; every other chunk has no such field,
    # which INDEXMISSING (RediSearch 2.10+) makes searchable as `ismissing(@channel)`.
    ChunkField("channel", lambda m, c: _given(m.channel), ("TAG", "INDEXMISSING")),
    ChunkField("url", lambda m, c: _given(m.url), parse=str),
    ChunkField("path", lambda m, c: _given(m.path), parse=str),
    ChunkField("start", lambda m, c: c.start, parse=int),
    ChunkField("end", lambda m, c: c.end, parse=int),
    ChunkField("author", lambda m, c: _given(m.author)),
)

INDEXED = tuple(f for f in FIELDS if f.declared is not None)
PARSERS = {f.name: f.parse for f in FIELDS if f.parse is not None}
HIT_FIELDS = tuple(PARSERS)  # what FT.SEARCH returns with hits: never the vector
CHANNEL_FIELD = next(f for f in FIELDS if f.name == "channel").declaration


def chunk_hash(meta: DocMeta, chunk: Chunk) -> dict[str, Any]:
    """A chunk's hash, less its vectors (one per layout, which the writer adds)."""
    values = ((f.name, f.value(meta, chunk)) for f in FIELDS)
    return {name: value for name, value in values if value is not None}


def parse_hit(key: str, returned: Mapping[str, str]) -> Hit:
    """A hit from the fields FT.SEARCH returned (others, like `distance`, are ignored); a
    field the chunk was written without keeps the `Hit` default."""
    parsed = {name: parse(returned[name]) for name, parse in PARSERS.items() if name in returned}
    return Hit(**{"key": key, "doc_id": "", "text": "", "score": 0.0, **parsed})
