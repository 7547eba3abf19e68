"""Several ingesters on one Redis: index creation and document switches stay consistent."""

from __future__ import annotations

import numpy as np
import pytest
import redis

from retrieval.embedding.embedder import Embedder
from retrieval.errors import ConcurrentUpdate, SchemaMismatch
from retrieval.index.chunks import ChunkIndex
from retrieval.index.schema import IndexSchema
from retrieval.settings import Settings
from retrieval.types import Chunk, DocMeta

META = DocMeta(doc_id="doc-1", title="Doc", path="doc.md")


def _chunks(version: str, n: int) -> list[Chunk]:
    return [Chunk("doc-1", i, f"version {version} part {i}", 10 * i, 10 * i + 9) for i in range(n)]


def _vectors(n: int, dim: int) -> np.ndarray:
    v = np.random.default_rng(n).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_a_switch_by_another_ingester_midway_is_redone_and_leaves_one_whole_version(
    index: ChunkIndex, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    index.ensure()
    other = ChunkIndex(redis_client, index.schema)  # a second machine ingesting the same doc
    dim = index.schema.dim
    real_chunk_keys = ChunkIndex.chunk_keys
    raced: list[bool] = []

    def chunk_keys_with_a_race(self: ChunkIndex, doc_id: str) -> list[str]:
        if self is index and not raced:  # after our chunks are written, before our switch
            raced.append(True)
            other.replace(META, "a" * 64, _chunks("A", 3), _vectors(3, dim))
        return real_chunk_keys(self, doc_id)

    monkeypatch.setattr(ChunkIndex, "chunk_keys", chunk_keys_with_a_race)
    index.replace(META, "b" * 64, _chunks("B", 2), _vectors(2, dim))

    stored = index.stored("doc-1")
    assert stored is not None and stored.generation == "b" * 12 and stored.chunks == 2
    keys = sorted(real_chunk_keys(index, "doc-1"))
    assert keys == sorted(index.schema.chunk_key("doc-1", "b" * 12, i) for i in range(2))
    texts = {redis_client.hget(k, "text").decode() for k in keys}
    assert texts == {"version B part 0", "version B part 1"}


def _schema(settings: Settings, embedder: Embedder, model: str) -> IndexSchema:
    return IndexSchema.for_settings(settings, dim=embedder.dim, model=model)


def test_two_ingesters_creating_the_index_at_once_both_go_on(
    settings: Settings, embedder: Embedder, redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    schema = _schema(settings, embedder, embedder.identity)
    first, second = ChunkIndex(redis_client, schema), ChunkIndex(redis_client, schema)
    first.ensure()
    monkeypatch.setattr(second, "exists", lambda: False)  # it looked before the first created
    second.ensure()
    assert second.stored_model() == (embedder.dim, embedder.identity)


def test_the_loser_of_a_creation_race_with_another_model_is_refused(
    settings: Settings, embedder: Embedder, redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    first = ChunkIndex(redis_client, _schema(settings, embedder, embedder.identity))
    second = ChunkIndex(redis_client, _schema(settings, embedder, "another/model"))
    first.ensure()
    monkeypatch.setattr(second, "exists", lambda: False)
    with pytest.raises(SchemaMismatch, match="another/model"):
        second.ensure()
    assert first.stored_model() == (embedder.dim, embedder.identity)  # the first model stays


def test_an_ingester_that_keeps_losing_the_race_gives_up_and_leaves_no_orphan_chunk(
    index: ChunkIndex, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    index.ensure()
    dim = index.schema.dim
    ChunkIndex(redis_client, index.schema).replace(
        META, "a" * 64, _chunks("A", 3), _vectors(3, dim)
    )
    doc_key = index.schema.doc_key("doc-1")
    real_write_chunks = ChunkIndex._write_chunks

    def write_chunks_then_lose(self: ChunkIndex, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        real_write_chunks(self, *args, **kwargs)
        # another ingester's switch lands now, having listed the chunks before ours existed
        redis_client.hset(doc_key, "updated", "1")

    monkeypatch.setattr(ChunkIndex, "_write_chunks", write_chunks_then_lose)
    with pytest.raises(ConcurrentUpdate, match="ingest it again"):
        index.replace(META, "b" * 64, _chunks("B", 2), _vectors(2, dim))

    stored = index.stored("doc-1")
    assert stored is not None and stored.generation == "a" * 12
    keys = sorted(index.chunk_keys("doc-1"))
    assert keys == sorted(index.schema.chunk_key("doc-1", "a" * 12, i) for i in range(3))


def test_a_delete_raced_by_a_switch_still_removes_the_document_and_every_chunk(
    index: ChunkIndex, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    index.ensure()
    dim = index.schema.dim
    index.replace(META, "a" * 64, _chunks("A", 3), _vectors(3, dim))
    other = ChunkIndex(redis_client, index.schema)
    real_chunk_keys = ChunkIndex.chunk_keys
    raced: list[bool] = []

    def chunk_keys_with_a_race(self: ChunkIndex, doc_id: str) -> list[str]:
        keys = real_chunk_keys(self, doc_id)
        if self is index and not raced:  # a new version lands after the delete listed chunks
            raced.append(True)
            other.replace(META, "b" * 64, _chunks("B", 2), _vectors(2, dim))
        return keys

    monkeypatch.setattr(ChunkIndex, "chunk_keys", chunk_keys_with_a_race)
    assert index.delete("doc-1") == 2  # the version it finally removed
    assert index.stored("doc-1") is None
    assert real_chunk_keys(index, "doc-1") == []


def test_whoever_writes_the_model_record_first_wins_and_the_other_is_refused(
    settings: Settings, embedder: Embedder, redis_client: redis.Redis
) -> None:
    creator = ChunkIndex(redis_client, _schema(settings, embedder, embedder.identity))
    creator._call("FT.CREATE", *creator.schema.create_args())  # created, record not yet written
    late = ChunkIndex(redis_client, _schema(settings, embedder, "another/model"))
    late.ensure()  # sees the index, writes its model first
    with pytest.raises(SchemaMismatch, match="another/model"):
        creator.ensure()
    assert late.stored_model() == (embedder.dim, "another/model")
