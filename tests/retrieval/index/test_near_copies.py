"""Near copies of whole documents are found at ingest and kept in Redis, both ways, for as long
as both documents are there."""

from __future__ import annotations

from pathlib import Path

import redis

from ingest.document import doc_id_for
from ingest.pipeline import IngestPipeline
from retrieval.index.chunks import ChunkIndex
from retrieval.index.near_copies import NearCopies
from tests.corpus import api_reference


def _ids(folder: Path) -> tuple[str, str]:
    return doc_id_for(str((folder / "api.md").resolve())), doc_id_for(
        str((folder / "api.html").resolve())
    )


def _signed(index: ChunkIndex, doc_id: str) -> bool:
    return bool(index.client.hexists(index.near_copies.key, doc_id))


def test_an_md_and_html_copy_are_recorded_as_near_copies_both_ways(
    tmp_path: Path, pipeline: IngestPipeline, index: ChunkIndex
):
    folder = api_reference(tmp_path / "docs")
    pipeline.run([folder / "api.md"])
    report = pipeline.run([folder / "api.html"])  # another run: the signature came from Redis

    md, html = _ids(folder)
    notes = index.near_copies.notes([md, html])
    assert notes[md].near == {html} and notes[html].near == {md}
    kind = index.client.hget(index.near_copies.near_key(html), md).decode()
    assert kind.startswith("similar 0.") and float(kind.split()[1]) >= 0.8, kind
    assert report.near_copies == 1
    assert "1 documents are near copies of others" in report.summary()


def test_a_pruned_document_leaves_no_signature_or_relation_behind(
    tmp_path: Path, pipeline: IngestPipeline, index: ChunkIndex
):
    folder = api_reference(tmp_path / "docs")
    pipeline.run([folder])
    md, html = _ids(folder)
    assert _signed(index, md) and _signed(index, html)

    (folder / "api.md").unlink()
    report = pipeline.run([folder], prune=True)

    assert report.pruned == 1
    assert not _signed(index, md) and _signed(index, html)
    assert not index.client.exists(index.near_copies.near_key(md))
    assert index.near_copies.notes([html])[html].near == frozenset()


def test_a_deleted_document_leaves_no_signature_or_relation_behind(
    tmp_path: Path, pipeline: IngestPipeline, index: ChunkIndex
):
    folder = api_reference(tmp_path / "docs")
    pipeline.run([folder])
    md, html = _ids(folder)

    index.delete(html)

    assert not _signed(index, html)
    assert not index.client.exists(index.near_copies.near_key(html))
    assert index.near_copies.notes([md])[md].near == frozenset()


def test_dropping_the_index_leaves_no_signatures_or_relations(
    tmp_path: Path, pipeline: IngestPipeline, index: ChunkIndex, redis_client: redis.Redis
):
    pipeline.run([api_reference(tmp_path / "docs")])
    prefix = index.schema.prefix
    assert redis_client.keys(f"{prefix}:near:*")

    index.drop()

    assert not redis_client.keys(f"{prefix}:near:*")
    assert not redis_client.keys(f"{prefix}:minhash:*")


def test_a_changed_document_loses_the_relations_it_no_longer_has(
    tmp_path: Path, pipeline: IngestPipeline, index: ChunkIndex
):
    folder = api_reference(tmp_path / "docs")
    pipeline.run([folder])
    md, html = _ids(folder)

    (folder / "api.html").write_text(
        "<html><body><h1>Office plants</h1><p>The plants on every floor are watered on "
        "Mondays and Thursdays by the facilities team; please do not water them yourself, "
        "most of them are cacti.</p></body></html>",
        encoding="utf-8",
    )
    report = pipeline.run([folder])

    assert report.updated == 1 and report.near_copies == 0
    notes = index.near_copies.notes([md, html])
    assert notes[md].near == frozenset() and notes[html].near == frozenset()


def test_documents_ingested_before_signatures_were_kept_get_them_on_the_next_run(
    tmp_path: Path, pipeline: IngestPipeline, index: ChunkIndex
):
    folder = api_reference(tmp_path / "docs")
    pipeline.run([folder])
    md, html = _ids(folder)
    store = NearCopies(index.client, index.schema)
    store.forget(md)
    store.forget(html)  # as an index made before this version holds them

    report = pipeline.run([folder])

    assert report.unchanged == 2 and report.chunks == 0  # nothing embedded again
    assert _signed(index, md) and _signed(index, html)
    assert index.near_copies.notes([md])[md].near == {html}


def test_an_unchanged_document_ingested_from_another_folder_shows_its_path_from_there(
    tmp_path: Path, pipeline: IngestPipeline, index: ChunkIndex
):
    folder = api_reference(tmp_path / "docs" / "api")
    pipeline.run([folder])
    md, _ = _ids(folder)
    assert index.near_copies.notes([md])[md].folder == str(folder.resolve())

    report = pipeline.run([tmp_path / "docs"])

    assert report.unchanged == 2
    assert index.near_copies.notes([md])[md].folder == str((tmp_path / "docs").resolve())
