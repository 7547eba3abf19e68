"""Ingestion into the real Redis: idempotence, replacement, repair, prune, delete, failures."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import redis

from ingest.document import Document
from ingest.pipeline import IngestPipeline
from retrieval.errors import ConcurrentUpdate
from retrieval.index.chunks import ChunkIndex


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _hset_calls(client: redis.Redis) -> int:
    return int(client.info("commandstats").get("cmdstat_hset", {}).get("calls", 0))


def _assert_consistent(index: ChunkIndex) -> None:
    """Every document's indexed chunks are exactly its current generation, no more."""
    for doc in index.documents():
        keys = index.chunk_keys(doc.doc_id)
        assert len(keys) == doc.chunks, doc
        assert all(f":{doc.generation}:" in k for k in keys), keys


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    _write(
        folder, "a.md", "---\ntitle: Alpha\ntags: [x]\n---\n# Alpha\n\nAlpha talks about apples.\n"
    )
    _write(folder, "b.txt", "Bravo is about bananas.\n\nAnd a second paragraph on boats.")
    _write(folder, "sub/c.md", "# Charlie\n\nCharlie covers cherries and clocks.")
    return folder


def test_ingest_writes_every_document_with_its_chunks(
    pipeline: IngestPipeline, corpus: Path
) -> None:
    report = pipeline.run([corpus], source="test", tags=["t1"])
    assert (report.new, report.updated, report.unchanged, report.failed) == (3, 0, 0, [])
    assert report.chunks == pipeline.index.count_chunks() == 3
    titles = sorted(d.title for d in pipeline.index.documents())
    assert titles == ["Alpha", "Charlie", "b"]
    _assert_consistent(pipeline.index)


def test_reingesting_unchanged_files_writes_nothing(
    pipeline: IngestPipeline, corpus: Path, redis_client: redis.Redis
) -> None:
    pipeline.run([corpus])
    before = _hset_calls(redis_client)
    report = pipeline.run([corpus])
    assert (report.new, report.updated, report.unchanged, report.chunks) == (0, 0, 3, 0)
    assert _hset_calls(redis_client) == before


def test_a_manual_chunked_before_option_lists_were_cut_by_entry_is_rechunked_once(
    pipeline: IngestPipeline, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(corpus, "manual.html", "<h1>Flags</h1><dl><dt>--fast</dt><dd>Skip checks.</dd></dl>")

    def earlier(doc: Document) -> str:  # the digest of a version before the entries' mark
        return hashlib.sha256(f"{pipeline.fingerprint}|{doc.content_hash()}".encode()).hexdigest()

    with monkeypatch.context() as m:
        m.setattr(pipeline, "digest", earlier)
        assert pipeline.run([corpus]).new == 4
    report = pipeline.run([corpus])
    assert (report.updated, report.unchanged) == (1, 3)  # the manual alone; prose keeps its digest
    assert pipeline.run([corpus]).unchanged == 4


def test_changed_file_replaces_its_chunks_and_leaves_no_stale_one(
    pipeline: IngestPipeline, corpus: Path
) -> None:
    pipeline.run([corpus])
    long_text = "\n\n".join(f"Paragraph {i} mentions delta number {i}." * 8 for i in range(12))
    _write(corpus, "b.txt", long_text)
    report = pipeline.run([corpus])
    assert (report.updated, report.unchanged) == (1, 2)
    _assert_consistent(pipeline.index)
    _write(corpus, "b.txt", "Short again.")
    pipeline.run([corpus])
    _assert_consistent(pipeline.index)
    texts = [h.text for h in _all_hits(pipeline.index)]
    assert not any("delta" in t for t in texts)
    assert "Short again." in texts


def test_run_killed_between_writing_chunks_and_switching_is_repaired_by_next_run(
    pipeline: IngestPipeline, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline.run([corpus])
    _write(corpus, "b.txt", "Bravo now covers bicycles.\n\n" * 30)
    _write(corpus, "new.txt", "A brand new document about kites.")

    real_pipeline = redis.client.Pipeline.execute

    def die_on_switch(self: redis.client.Pipeline, *args, **kwargs):
        if self.transaction:  # the atomic switch: the process "dies" just before it
            raise KeyboardInterrupt("killed")
        return real_pipeline(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", die_on_switch)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run([corpus])
    monkeypatch.undo()
    stored = sum(d.chunks for d in pipeline.index.documents())
    assert pipeline.index.count_chunks() > stored, "the kill left extra chunks behind"

    # The killed run left new chunks beside the old ones; the records still point to the old.
    report = pipeline.run([corpus])
    assert report.failed == []
    assert report.new == 1 and report.updated == 1
    _assert_consistent(pipeline.index)
    assert pipeline.index.count_chunks() == sum(d.chunks for d in pipeline.index.documents())


def test_orphans_of_an_abandoned_generation_are_removed_on_next_change(
    pipeline: IngestPipeline, corpus: Path
) -> None:
    pipeline.run([corpus])
    doc = next(d for d in pipeline.index.documents() if d.title == "b")
    orphan = pipeline.index.schema.chunk_key(doc.doc_id, "deadbeef0000", 0)
    vector = pipeline.index.layout().pack(np.zeros(pipeline.index.schema.dim))
    pipeline.index.client.hset(
        orphan, mapping={"doc_id": doc.doc_id, "text": "x", "vector": vector}
    )
    _write(corpus, "b.txt", "Bravo changed.")
    pipeline.run([corpus])
    _assert_consistent(pipeline.index)
    assert not pipeline.index.client.exists(orphan)


def test_prune_removes_documents_whose_files_are_gone_and_only_under_the_given_paths(
    pipeline: IngestPipeline, corpus: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    _write(other, "keep.txt", "Kept because it is outside the pruned folder.")
    pipeline.run([corpus])
    pipeline.run([other])
    (corpus / "sub" / "c.md").unlink()
    report = pipeline.run([corpus], prune=True)
    assert report.pruned == 1
    titles = sorted(d.title for d in pipeline.index.documents())
    assert titles == ["Alpha", "b", "keep"]
    _assert_consistent(pipeline.index)


def test_prune_keeps_documents_of_files_that_failed_to_load(
    pipeline: IngestPipeline, corpus: Path
) -> None:
    pipeline.run([corpus])
    (corpus / "b.txt").write_bytes(b"\xff\xfe\x00binary\x00junk")
    report = pipeline.run([corpus], prune=True)
    assert report.pruned == 0 and len(report.failed) == 1
    assert any(d.title == "b" for d in pipeline.index.documents())


def test_delete_removes_the_document_and_all_its_chunks(
    pipeline: IngestPipeline, corpus: Path
) -> None:
    pipeline.run([corpus])
    doc = next(d for d in pipeline.index.documents() if d.title == "Alpha")
    assert pipeline.index.delete(doc.doc_id) == doc.chunks
    assert pipeline.index.stored(doc.doc_id) is None
    assert pipeline.index.chunk_keys(doc.doc_id) == []


def test_corrupt_and_binary_files_are_skipped_and_reported_while_the_rest_goes_in(
    pipeline: IngestPipeline, corpus: Path
) -> None:
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage that is not a pdf")
    (corpus / "blob.txt").write_bytes(bytes(range(256)) * 4)
    (corpus / "latin1.md").write_bytes("caf\xe9".encode("latin-1"))
    report = pipeline.run([corpus])
    assert report.new == 4  # the Latin-1 file is read, in the encoding its bytes suggest
    failed = {Path(p).name: reason for p, reason in report.failed}
    assert set(failed) == {"broken.pdf", "blob.txt"}
    assert all(reason for reason in failed.values())
    assert [(Path(p).name, e) for p, e in report.encodings] == [("latin1.md", "cp1252")]


def test_a_document_another_ingester_keeps_switching_is_reported_and_the_rest_goes_in(
    pipeline: IngestPipeline, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = ChunkIndex.replace

    def replace(self: ChunkIndex, meta, *args, **kwargs) -> None:
        if meta.path.endswith("b.txt"):
            raise ConcurrentUpdate(f"document {meta.doc_id} kept being replaced")
        real_replace(self, meta, *args, **kwargs)

    monkeypatch.setattr(ChunkIndex, "replace", replace)
    report = pipeline.run([corpus])
    assert report.new == 2
    assert [Path(p).name for p, _ in report.failed] == ["b.txt"]
    assert "kept being replaced" in report.failed[0][1]


def test_dry_run_counts_changes_without_writing(pipeline: IngestPipeline, corpus: Path) -> None:
    report = pipeline.run([corpus], dry_run=True)
    assert report.new == 3 and report.chunks == 3
    assert not pipeline.index.exists() or pipeline.index.count_chunks() == 0


def test_dry_run_lists_what_would_change_and_says_nothing_was_written(
    pipeline: IngestPipeline, corpus: Path
) -> None:
    pipeline.run([corpus])
    (corpus / "a.md").write_text("# Alpha\n\nAlpha now talks about apricots.")
    (corpus / "b.txt").unlink()
    _write(corpus, "d.txt", "Delta is about dates.")
    report = pipeline.run([corpus], dry_run=True, prune=True)
    changes = sorted((change, Path(path).name) for change, path in report.changes)
    assert changes == [("add", "d.txt"), ("remove", "b.txt"), ("update", "a.md")]
    summary = report.summary(dry_run=True)
    assert summary.startswith("dry run, nothing was written: 1 new, 1 updated, 1 unchanged")
    assert "1 would be removed" in summary and "written in" not in summary
    assert sorted(d.title for d in pipeline.index.documents()) == ["Alpha", "Charlie", "b"]


def test_a_page_of_navigation_only_is_skipped_not_failed(
    pipeline: IngestPipeline, tmp_path: Path
) -> None:
    links = "".join(f'<li><a href="p{n}.html">Page {n}</a></li>' for n in range(10))
    _write(tmp_path, "pages.html", f"<html><body><ul>{links}</ul></body></html>")
    _write(tmp_path, "page.txt", "A page with its own words.")
    report = pipeline.run([tmp_path])
    assert report.new == 1 and report.failed == []
    assert [(Path(p).name, "only navigation" in why) for p, why in report.skipped] == [
        ("pages.html", True)
    ]


def _all_hits(index: ChunkIndex):
    from retrieval.query.retriever import Retriever

    return Retriever(index).keyword("bravo short delta bicycles", "*", 100) + Retriever(
        index
    ).keyword("again", "*", 100)
