"""What is stored, at a glance: each document with where it is shown, its tags and date, and
the references people may use to name it (what `qa ask` printed, a path, a URL, an id)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from retrieval.index.chunks import ChunkIndex
from retrieval.index.records import StoredDoc
from retrieval.places import UrlMap, shown_place
from retrieval.redis.replies import text


@dataclass(frozen=True)
class Listed:
    doc: StoredDoc
    shown: str  # the URL, else the path, as answers show the document

    @property
    def date(self) -> str:
        when = self.doc.created or self.doc.modified
        return dt.datetime.fromtimestamp(when, dt.UTC).date().isoformat() if when else ""

    def to_dict(self) -> dict[str, object]:
        d = self.doc
        return {
            "doc_id": d.doc_id,
            "shown": self.shown,
            "title": d.title,
            "source": d.source,
            "tags": list(d.tags),
            "date": self.date,
            "created": d.created,
            "modified": d.modified,
            "chunks": d.chunks,
            "path": d.path,
            "url": d.url,
            "folder": d.folder,
        }


def listed(index: ChunkIndex, maps: tuple[UrlMap, ...]) -> list[Listed]:
    """Every stored document, sorted by where it is shown."""
    docs = _described(index, list(index.documents()))
    out = []
    for d in docs:
        url, path = shown_place(d.path, d.url, d.folder, maps)
        out.append(Listed(d, url or path or d.doc_id))
    return sorted(out, key=lambda x: (x.shown, x.doc.doc_id))


def tag_counts(docs: Iterable[Listed]) -> list[tuple[str, int]]:
    """Each tag with the number of documents that carry it, the most used first."""
    counts = Counter(t for x in docs for t in x.doc.tags)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def references(docs: Iterable[Listed]) -> dict[str, set[str]]:
    """Every name of each document -> the ids it names: its id, path, URL and what answers
    show (a path inside the ingested folder, a mapped URL)."""
    refs: dict[str, set[str]] = {}
    for x in docs:
        for ref in (x.doc.doc_id, x.doc.path, x.doc.url, x.shown):
            if ref:
                refs.setdefault(ref, set()).add(x.doc.doc_id)
    return refs


def resolve(ref: str, refs: dict[str, set[str]]) -> set[str]:
    """The documents `ref` names, as given or as a path on this machine."""
    found = refs.get(ref) or refs.get(ref.rstrip("/"))
    if not found and not ref.startswith(("http://", "https://")):
        found = refs.get(str(Path(ref).expanduser().resolve()))
    return found or set()


def _described(index: ChunkIndex, docs: list[StoredDoc]) -> list[StoredDoc]:
    """Records written before tags and dates were kept in them take those from their first
    chunk, which has always carried them."""
    older = [d for d in docs if not d.described and d.chunks]
    if not older:
        return docs
    pipe = index.client.pipeline(transaction=False)
    for d in older:
        key = index.schema.chunk_key(d.doc_id, d.generation, 0)
        pipe.hmget(key, "tags", "created", "modified")
    found = {}
    for d, (tags, created, modified) in zip(older, pipe.execute(), strict=True):
        found[d.doc_id] = replace(
            d,
            tags=tuple(t for t in text(tags or b"").split(",") if t),
            created=_number(created),
            modified=_number(modified),
        )
    return [found.get(d.doc_id, d) for d in docs]


def _number(raw: bytes | None) -> float | None:
    try:
        return float(text(raw)) if raw else None
    except ValueError:
        return None
