"""A chunk's fields, declared once (retrieval/index/fields.py): what the index declares, what a
written chunk holds and what a hit reads back all agree, on the real server."""

from __future__ import annotations

import numpy as np
import pytest
import redis

from retrieval.index.chunks import ChunkIndex
from retrieval.index.fields import FIELDS, HIT_FIELDS, INDEXED
from retrieval.index.records import StoredDoc
from retrieval.index.schema import IndexSchema
from retrieval.query.retriever import Retriever
from retrieval.redis.replies import pairs, text
from retrieval.settings import Settings
from retrieval.types import Chunk, DocMeta, Hit

FULL = DocMeta(
    "handbook", title="Staff handbook", source="hr", tags=("policy", "leave"),
    url="https://example.org/handbook", path="/docs/handbook.md", created=1_700_000_000.0,
    modified=1_700_000_500.0, channel="C0000061", author="Ada", folder="/docs",
)  # fmt: skip
CHUNK = Chunk(
    "handbook", 3, "Annual leave is 25 days.", 120, 144, title="Leave",
    headings=("Benefits", "Leave"), page=7,
)  # fmt: skip


@pytest.fixture()
def index(redis_client: redis.Redis, settings: Settings) -> ChunkIndex:
    index = ChunkIndex(redis_client, IndexSchema(settings.index_name, settings.key_prefix, 4, "m"))
    index.ensure()
    return index


def _write(index: ChunkIndex, meta: DocMeta, chunk: Chunk) -> Hit:
    """Write one chunk as ingestion does, and read it back as a question's hit."""
    index.replace(meta, "f" * 64, [chunk], np.ones((1, 4), dtype=np.float32))
    where = f"@doc_id:{{{meta.doc_id}}}"
    hits = Retriever(index).knn(np.ones(4, dtype=np.float32), where, 5, None)
    assert len(hits) == 1
    return hits[0]


def test_every_returned_field_of_a_written_chunk_reads_back_into_its_hit(index: ChunkIndex):
    hit = _write(index, FULL, CHUNK)

    expected = {
        "doc_id": "handbook", "text": "Annual leave is 25 days.", "title": "Leave",
        "heading": "Benefits > Leave", "source": "hr", "tags": ("policy", "leave"),
        "url": "https://example.org/handbook", "path": "/docs/handbook.md", "page": 7,
        "position": 3, "start": 120, "end": 144,
    }  # fmt: skip
    assert set(HIT_FIELDS) == set(expected)
    assert {name: getattr(hit, name) for name in HIT_FIELDS} == expected
    defaults = Hit("", "", "", 0.0)
    assert all(getattr(hit, name) != getattr(defaults, name) for name in HIT_FIELDS)


def test_a_full_chunk_holds_every_field_and_a_bare_one_only_what_it_needs(index: ChunkIndex):
    _write(index, FULL, CHUNK)
    bare = DocMeta("bare")
    hit = _write(index, bare, Chunk("bare", 0, "Nothing else.", 0, 13))

    held = {
        doc: {text(name) for name in index.client.hgetall(index.chunk_keys(doc)[0])}
        for doc in ("handbook", "bare")
    }
    assert held["handbook"] == {f.name for f in FIELDS} | {"vector"}
    assert held["bare"] == {"doc_id", "text", "position", "start", "end", "content_hash", "vector"}
    assert (hit.title, hit.tags, hit.page, hit.heading, hit.url) == ("", (), None, "", "")


def test_the_index_declares_every_indexed_field_once_and_filters_on_what_was_written(
    index: ChunkIndex,
):
    _write(index, FULL, CHUNK)

    attributes = [pairs(a) for a in index.info()["attributes"]]
    declared = [(text(a["attribute"]), text(a["type"])) for a in attributes]
    assert declared == [(f.name, str(f.declared[0])) for f in INDEXED] + [("vector", "VECTOR")]
    args = index.schema.create_args()
    assert all(args.count(f.name) == 1 for f in INDEXED)
    for query in (
        "@tags:{leave}", "@source:{hr}", "@channel:{C0000061}", "@doc_id:{handbook}",
        "@created:[1700000000 1700000000]", "@page:[7 7]", "@title:Leave",
    ):  # fmt: skip
        assert index.search(query, content=False).total == 1, query


def test_a_document_record_reads_back_as_written(index: ChunkIndex):
    _write(index, FULL, CHUNK)
    _write(index, DocMeta("undated", tags=()), Chunk("undated", 0, "No dates here.", 0, 14))

    stored = index.stored("handbook")
    assert stored is not None and stored.updated > 0
    assert stored == StoredDoc(
        "handbook", "f" * 64, "f" * 12, 1, title="Staff handbook", source="hr",
        path="/docs/handbook.md", url="https://example.org/handbook", updated=stored.updated,
        folder="/docs", tags=("policy", "leave"), created=1_700_000_000.0,
        modified=1_700_000_500.0,
    )  # fmt: skip
    undated = index.stored("undated")
    assert undated is not None and undated.described
    assert (undated.created, undated.modified, undated.tags) == (None, None, ())
    raw = index.client.hgetall(index.schema.doc_key("undated"))
    assert raw[b"created"] == b"" and raw[b"tags"] == b""
