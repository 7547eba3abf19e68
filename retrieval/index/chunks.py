"""The documents in the index: atomic per-document replacement of their chunks and records,
listing and deletion (the index itself, its creation and searches: search_index.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import redis
from redis.client import Pipeline

from retrieval.errors import ConcurrentUpdate
from retrieval.index.fields import chunk_hash
from retrieval.index.layout import Layout
from retrieval.index.near_copies import NearCopies
from retrieval.index.records import StoredDoc
from retrieval.index.search_index import SearchIndex
from retrieval.redis.replies import reachable, text
from retrieval.redis.syntax import escape_tag
from retrieval.types import Chunk, DocMeta

WRITE_BATCH = 256
PRIVATE_FLAG = "private"  # in the index's meta record, once a channel-bound document is written
SWITCH_ATTEMPTS = 5


class ChunkIndex(SearchIndex):
    """The index's documents: each one's chunk hashes and record hash, written and removed
    together (what the index itself does, ensure, search, layouts: SearchIndex)."""

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
        return StoredDoc.from_record(raw) if raw else None

    def documents(self) -> Iterator[StoredDoc]:
        pattern = f"{self.schema.prefix}:doc:*"
        for keys in _batched(self.client.scan_iter(match=pattern, count=1000), 500):
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.hgetall(key)
            for raw in pipe.execute():
                if raw:
                    yield StoredDoc.from_record(raw)

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

        def switch(pipe: Pipeline) -> None:
            self._write_chunks(meta, keys, chunks, vectors, layouts)
            stale = [k for k in self.chunk_keys(meta.doc_id) if k not in fresh]
            pipe.multi()  # one slot: the document's keys share a hash tag
            stored = StoredDoc.of(meta, content_hash, generation, len(chunks), time.time())
            pipe.hset(doc_key, mapping=stored.record())
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
                pipe.hset(keys[i], mapping={**chunk_hash(meta, chunks[i]), **blobs})
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


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
