"""The chunk index in Redis: creation, atomic per-document replacement, listing and deletion."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import redis
from redis.client import Pipeline

from retrieval.errors import ConcurrentUpdate, IndexMissing, SchemaMismatch
from retrieval.index.copies import content_hash
from retrieval.index.layout import NEXT, RECORD, CachedLayout, Layout
from retrieval.index.near_copies import NearCopies
from retrieval.index.schema import CHANNEL_FIELD, IndexSchema
from retrieval.redis.replies import SearchReply, pairs, parse_search, reachable, text
from retrieval.redis.syntax import escape_tag
from retrieval.types import Chunk, DocMeta

log = logging.getLogger(__name__)

WRITE_BATCH = 256
PRIVATE_FLAG = "private"  # in the index's meta record, once a channel-bound document is written
SWITCH_ATTEMPTS = 5


@dataclass(frozen=True)
class StoredDoc:
    doc_id: str
    content_hash: str
    generation: str
    chunks: int
    title: str = ""
    source: str = ""
    path: str = ""
    url: str = ""
    updated: float = 0.0
    folder: str = ""
    tags: tuple[str, ...] = ()
    created: float | None = None
    modified: float | None = None
    described: bool = True  # False: a record older than tags and dates in records


class ChunkIndex:
    """One RediSearch index over chunk hashes, plus one record hash per document."""

    def __init__(self, client: redis.Redis, schema: IndexSchema) -> None:
        self.client = client
        self.schema = schema
        self._layout = CachedLayout()

    # -- index lifecycle -------------------------------------------------------------------

    def exists(self) -> bool:
        names = {text(n) for n in self._call("FT._LIST")}
        return self.schema.name in names or self.layouts()[0].index in names

    # -- how vectors are stored (retrieval/index/layout.py) --------------------------------

    def layout(self, fresh: bool = False) -> Layout:
        """The field and type of this index's vectors (re-read every few seconds)."""
        return self.layouts(fresh)[0]

    def layouts(self, fresh: bool = False) -> tuple[Layout, Layout | None]:
        """The layout in use, and the one a running `qa reindex` is building (or None)."""
        if fresh or not self._layout.fresh():
            with reachable():
                raw = self.client.hgetall(self.schema.meta_key)
            current = Layout.from_record(raw) or self._inferred_layout()
            return self._layout.set((current, Layout.from_record(raw, NEXT)))
        assert self._layout.value is not None
        return self._layout.value

    def _inferred_layout(self) -> Layout:
        """An index made before layouts were recorded: its vector attribute says; no index
        yet: what `ensure` would create."""
        try:
            attributes = self.info().get("attributes", [])
        except IndexMissing:
            return Layout(self.schema.name, "vector", self.schema.vector_type)
        for attribute in map(pairs, attributes):
            if attribute.get("type") == "VECTOR":
                kind = str(attribute.get("data_type") or "FLOAT32").upper()
                return Layout(self.schema.name, str(attribute.get("identifier")), kind)
        return Layout(self.schema.name, "vector", self.schema.vector_type)

    def _record_layout(self) -> None:
        """Write the layout into the meta record, once (the index's creator, or the first
        process of this version to open an older index)."""
        if self.client.hexists(self.schema.meta_key, RECORD["vector_type"]):
            return
        layout = self._inferred_layout()
        for name, value in layout.record().items():
            self.client.hsetnx(self.schema.meta_key, name, value)
        self.layouts(fresh=True)

    def ensure(self) -> None:
        """Create the index on first use; refuse to mix vectors of another model.

        Safe when several ingesters start at once: the one whose FT.CREATE loses sees
        "Index already exists", and only the first model written to the record counts.
        """
        if not self.exists():
            try:
                self._call("FT.CREATE", *self.schema.create_args())
            except redis.ResponseError as e:
                if "already exists" not in str(e).lower():
                    self._create_without_channel_field(e)
        # Also when the index exists: its creator may not have written the record yet.
        if self.client.hsetnx(self.schema.meta_key, "model", self.schema.model):
            self.client.hset(
                self.schema.meta_key, mapping={"dim": self.schema.dim, "created": time.time()}
            )
        self._record_layout()
        self.check_compatible()
        self.add_channel_field()

    def add_channel_field(self) -> bool:
        """Give an index created before private Slack captures its `channel` field (FT.ALTER).

        False where the server cannot hold it (INDEXMISSING needs RediSearch 2.10+).
        """
        names = {pairs(a).get("attribute") for a in self.info().get("attributes", [])}
        if CHANNEL_FIELD[0] in names:
            return True
        try:
            self._call("FT.ALTER", self.schema.name, "SCHEMA", "ADD", *CHANNEL_FIELD)
        except redis.ResponseError as e:
            if "duplicate" in str(e).lower():  # another process added it first
                return True
            log.warning("index %s cannot hold private captures: %s", self.schema.name, e)
            return False
        return True

    def _create_without_channel_field(self, error: redis.ResponseError) -> None:
        """A server older than RediSearch 2.10 refuses INDEXMISSING: index without the field."""
        args = self.schema.create_args()
        at = args.index(CHANNEL_FIELD[0])
        try:
            self._call("FT.CREATE", *args[:at], *args[at + len(CHANNEL_FIELD) :])
        except redis.ResponseError:
            raise error from None
        log.warning("index %s created without the channel field: %s", self.schema.name, error)

    def check_compatible(self) -> None:
        stored_dim, stored_model = self.stored_model()
        if stored_dim != self.schema.dim or (stored_model and stored_model != self.schema.model):
            raise SchemaMismatch(
                f"index '{self.schema.name}' holds vectors of model '{stored_model}' (dimension "
                f"{stored_dim}), but this run embeds with '{self.schema.model}' (dimension "
                f"{self.schema.dim}). Set QA_EMBEDDING_MODEL back to '{stored_model}', or run "
                "`qa index drop` and ingest again, or use another QA_INDEX_NAME."
            )

    def stored_model(self) -> tuple[int, str]:
        info = self.info()
        dim = 0
        for attribute in info.get("attributes", []):
            attr = pairs(attribute)
            if attr.get("type") == "VECTOR":
                dim = int(attr.get("dim") or attr.get("dimension") or 0)
        model = text(self.client.hget(self.schema.meta_key, "model") or b"")
        return dim, model

    def info(self) -> dict[str, Any]:
        with self._index_exists():
            return pairs(self._call("FT.INFO", self.schema.name))

    def search(
        self, query: str, *args: Any, scores: bool = False, content: bool = True
    ) -> SearchReply:
        """FT.SEARCH on this index (query dialect 2), parsed; `args` are FT.SEARCH options."""
        options = [*(["WITHSCORES"] if scores else []), *([] if content else ["NOCONTENT"])]
        with self._index_exists():
            reply = self._call("FT.SEARCH", self.schema.name, query, *options, *args, "DIALECT", 2)
        return parse_search(reply, scores, content)

    @contextmanager
    def _index_exists(self) -> Iterator[None]:
        try:
            yield
        except redis.ResponseError as e:
            if "unknown index" in str(e).lower() or "no such index" in str(e).lower():
                raise IndexMissing(
                    f"no index '{self.schema.name}' yet: run `qa ingest PATH` first"
                ) from e
            raise

    def holds_private(self) -> bool:
        """Has a document restricted to one channel (a private Slack capture) ever been stored?

        Until one has, questions need no visibility clause, which also costs ranking quality
        (hit@5 0.866 -> 0.856 on 25 COVID-QA articles).
        """
        with reachable():
            return bool(self.client.hexists(self.schema.meta_key, PRIVATE_FLAG))

    def drop(self) -> int:
        """Delete the index, every chunk and every document record. Returns documents removed."""
        docs = list(self.documents())
        building = self.layouts(fresh=True)[1]
        if self.exists():  # the schema's name, or the alias a migration left
            self._call("FT.DROPINDEX", self.schema.name, "DD")
        if building is not None and building.index in {text(n) for n in self._call("FT._LIST")}:
            self._call("FT.DROPINDEX", building.index)  # an interrupted `qa reindex`'s
        self.client.delete(self.schema.meta_key)  # at once: a stale model record would block
        fitted = (self.schema.calibration_key, self.schema.rerank_key, self.schema.owner_key)
        for key in fitted:  # fitted on what it held; a temporary index's owner
            self.client.delete(key)  # one key per DEL: cluster slots differ
        self.near_copies.drop([d.doc_id for d in docs])
        for batch in _batched([self.schema.doc_key(d.doc_id) for d in docs], WRITE_BATCH):
            pipe = self.client.pipeline(transaction=False)
            for key in batch:  # one key per DEL: records live in different cluster slots
                pipe.delete(key)
            pipe.execute()
        return len(docs)

    # -- documents ---------------------------------------------------------------------------

    def stored(self, doc_id: str) -> StoredDoc | None:
        raw = self.client.hgetall(self.schema.doc_key(doc_id))
        return _stored_doc(raw) if raw else None

    def documents(self) -> Iterator[StoredDoc]:
        pattern = f"{self.schema.prefix}:doc:*"
        for keys in _batched(self.client.scan_iter(match=pattern, count=1000), 500):
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.hgetall(key)
            for raw in pipe.execute():
                if raw:
                    yield _stored_doc(raw)

    def every_chunk_key(self) -> list[str]:
        """Every chunk's key, sorted (one SCAN: what training and calibration sample from)."""
        pattern = f"{self.schema.chunk_prefix}*"
        return sorted(text(k) for k in self.client.scan_iter(match=pattern, count=1000))

    def chunk_texts(self, keys: Iterable[str]) -> Iterator[tuple[str, str]]:
        """(doc_id, text) of those chunks, in order, pipelined; gone or empty ones skipped."""
        for _, doc_id, body in self.chunk_records(keys):
            yield doc_id, body

    def chunk_records(self, keys: Iterable[str]) -> Iterator[tuple[str, str, str]]:
        """(key, doc_id, text) of those chunks, in order, pipelined; gone or empty ones skipped."""
        for batch in _batched(keys, 500):
            pipe = self.client.pipeline(transaction=False)
            for key in batch:
                pipe.hmget(key, "doc_id", "text")
            for key, (doc_id, body) in zip(batch, pipe.execute(), strict=True):
                if body:
                    yield key, text(doc_id or b""), text(body)

    def replace(
        self, meta: DocMeta, content_hash: str, chunks: Sequence[Chunk], vectors: np.ndarray
    ) -> None:
        """Write a document's new chunks, then switch its record and drop old chunks atomically.

        New chunks go under a generation named after the content, so a run killed midway
        leaves the old record in place and the next run rewrites the same keys; the switch
        deletes every chunk of the document that is not in the new set, orphans included.
        The record is WATCHed from before the writes: if another ingester switches the same
        document meanwhile (its switch may have deleted our new chunks), ours is redone.
        """
        if meta.channel:  # before its chunks exist: from now on questions filter on channels
            self.client.hset(self.schema.meta_key, PRIVATE_FLAG, 1)
        generation = content_hash[:12]
        keys = [self.schema.chunk_key(meta.doc_id, generation, c.position) for c in chunks]
        # Read now, not cached: a `qa reindex` may have switched the layout, or be building
        # the next one, which then gets its field too.
        layouts = [lay for lay in self.layouts(fresh=True) if lay is not None]
        doc_key, fresh = self.schema.doc_key(meta.doc_id), set(keys)
        record = {
            "doc_id": meta.doc_id,
            "hash": content_hash,
            "generation": generation,
            "chunks": len(chunks),
            "title": meta.title,
            "source": meta.source,
            "path": meta.path,
            "url": meta.url,
            "folder": meta.folder,
            "tags": ",".join(meta.tags),
            "created": _or_empty(meta.created),
            "modified": _or_empty(meta.modified),
        }

        def switch(pipe: Pipeline) -> None:
            self._write_chunks(meta, keys, chunks, vectors, layouts)
            stale = [k for k in self.chunk_keys(meta.doc_id) if k not in fresh]
            pipe.multi()  # one slot: the document's keys share a hash tag
            pipe.hset(doc_key, mapping={**record, "updated": time.time()})
            if stale:
                pipe.delete(*stale)

        def discard_ours(pipe: Pipeline) -> None:  # unless the winner wrote the same content
            current = text(pipe.hget(doc_key, "generation") or b"")
            pipe.multi()
            if current != generation and keys:
                pipe.delete(*keys)

        if not self._watched(doc_key, switch):
            self._watched(doc_key, discard_ours)
            raise ConcurrentUpdate(
                f"document {meta.doc_id} kept being replaced by another ingester at the same "
                "time; ingest it again once the other run is done"
            )

    def _watched(self, doc_key: str, transaction: Callable[[Pipeline], None]) -> bool:
        """Run `transaction` (reads, then `pipe.multi()` and writes) with the document's record
        WATCHed; again if another writer changed the record meanwhile. False if it kept on."""
        for _ in range(SWITCH_ATTEMPTS):
            with self.client.pipeline(transaction=True) as pipe:
                pipe.watch(doc_key)
                transaction(pipe)
                try:
                    pipe.execute()
                    return True
                except redis.WatchError:
                    continue
        return False

    def _write_chunks(
        self,
        meta: DocMeta,
        keys: list[str],
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        layouts: Sequence[Layout],
    ) -> None:
        for start in range(0, len(chunks), WRITE_BATCH):
            pipe = self.client.pipeline(transaction=False)
            for i in range(start, min(start + WRITE_BATCH, len(chunks))):
                blobs = {lay.vector_field: lay.pack(vectors[i]) for lay in layouts}
                pipe.hset(keys[i], mapping=_chunk_fields(meta, chunks[i], blobs))
            pipe.execute()

    def delete(self, doc_id: str) -> int:
        """Remove a document and all its chunks. Returns the number of chunks removed."""
        doc_key, removed = self.schema.doc_key(doc_id), []

        def remove(pipe: Pipeline) -> None:
            removed[:] = self.chunk_keys(doc_id)
            pipe.multi()
            pipe.delete(doc_key, *removed)

        if not self._watched(doc_key, remove):
            raise ConcurrentUpdate(
                f"document {doc_id} kept being replaced by another ingester; delete it again"
            )
        self.near_copies.forget(doc_id)
        return len(removed)

    @property
    def near_copies(self) -> NearCopies:
        """The documents' MinHash signatures and near-copy relations (near_copies.py)."""
        return NearCopies(self.client, self.schema)

    def set_folder(self, doc_id: str, folder: str) -> None:
        """Where an unchanged document was ingested from this time (shown paths follow it)."""
        doc_key = self.schema.doc_key(doc_id)

        def update(pipe: Pipeline) -> None:
            there = pipe.exists(doc_key)  # never a stray record for a document deleted meanwhile
            pipe.multi()
            if there:
                pipe.hset(doc_key, "folder", folder)

        self._watched(doc_key, update)

    def chunk_keys(self, doc_id: str) -> list[str]:
        """Every indexed chunk of a document, whatever its generation."""
        if not self.exists():
            return []
        query = f"@doc_id:{{{escape_tag(doc_id)}}}"
        keys: list[str] = []
        while True:
            reply = self.search(query, "LIMIT", len(keys), 10_000, content=False)
            keys += [found.key for found in reply.docs]
            if len(keys) >= reply.total or not reply.docs:
                return keys

    def tag_values(self, field: str) -> list[str]:
        """Distinct values of a TAG field (lower-cased by RediSearch), sorted."""
        return sorted(text(v) for v in self._call("FT.TAGVALS", self.schema.name, field))

    def count_chunks(self) -> int:
        return int(self.info().get("num_docs", 0))

    def _call(self, *args: Any) -> Any:
        with reachable():
            return self.client.execute_command(*args)


def _chunk_fields(meta: DocMeta, chunk: Chunk, vectors: dict[str, bytes]) -> dict[str, Any]:
    """A chunk's hash. Empty fields are left out: each costs ~60 bytes per chunk, and a
    missing field reads as empty everywhere (`Hit`, filters)."""
    optional = {
        "title": chunk.title or meta.title,
        "heading": chunk.heading_path,
        "source": meta.source,
        "tags": ",".join(meta.tags),
        "url": meta.url,
        "path": meta.path,
    }
    fields: dict[str, Any] = {
        "doc_id": meta.doc_id,
        "text": chunk.text,
        "position": chunk.position,
        "start": chunk.start,
        "end": chunk.end,
        **vectors,
        "content_hash": content_hash(chunk.text),
        **{name: value for name, value in optional.items() if value},
    }
    if chunk.page is not None:
        fields["page"] = chunk.page
    if meta.created is not None:
        fields["created"] = meta.created
    if meta.modified is not None:
        fields["modified"] = meta.modified
    if meta.channel:
        fields["channel"] = meta.channel
    if meta.author:
        fields["author"] = meta.author
    return fields


def _stored_doc(raw: dict[bytes, bytes]) -> StoredDoc:
    d = {text(k): text(v) for k, v in raw.items()}
    return StoredDoc(
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
        tags=tuple(t for t in d.get("tags", "").split(",") if t),
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


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
