"""The ingestion pipeline: files -> documents -> chunks -> vectors -> Redis.

Loading and chunking run in a background thread while the main thread embeds and writes,
so the CPU time goes to the model. Only a bounded queue of documents is in memory at once.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ingest.chunker import Chunker
from ingest.document import Document, LoadError, NotContent
from ingest.loaders import iter_files, load_path
from ingest.repeats import count_repeats
from ingest.report import IngestReport
from retrieval.embedding.embedder import Embedder
from retrieval.errors import ConcurrentUpdate
from retrieval.index.chunks import ChunkIndex
from retrieval.index.near_copies import NearCopySession
from retrieval.index.records import StoredDoc
from retrieval.types import Chunk

EMBED_BATCH_CHUNKS = 256  # chunks embedded together, across documents
QUEUE_DOCS = 64


@dataclass
class _Prepared:
    doc: Document
    content_hash: str
    chunks: list[Chunk]
    is_new: bool
    unchanged: StoredDoc | None = None  # the stored record of a document with nothing new


class IngestPipeline:
    def __init__(self, index: ChunkIndex, embedder: Embedder, chunker: Chunker) -> None:
        self.index = index
        self.embedder = embedder
        self.chunker = chunker
        # Chunks depend on the chunker and the model as much as on the text.
        self.fingerprint = f"{embedder.identity}|{chunker.target}|{chunker.overlap}|v1"

    def digest(self, doc: Document) -> str:
        """What a document's stored chunks were made from. Since option lists are cut a few
        entries a chunk (chunker.ENTRY_SHARE), a document with defined terms has its own
        mark, so it is re-chunked once; every other document keeps its digest and is skipped."""
        entries = "|entries" if any(b.kind == "term" for b in doc.blocks) else ""
        made = f"{self.fingerprint}{entries}|{doc.content_hash()}"
        return hashlib.sha256(made.encode()).hexdigest()

    def run(
        self,
        paths: Sequence[Path],
        *,
        source: str = "",
        tags: Sequence[str] = (),
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        prune: bool = False,
        dry_run: bool = False,
        on_file: Callable[[Path], None] | None = None,
        max_prune_share: float = 1.0,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        seen: set[str] = set()
        failed_paths: set[str] = set()
        roots = _roots(paths)

        def documents() -> Iterator[Document]:
            for path in self._files(paths, include, exclude, report, failed_paths):
                try:
                    for doc in load_path(path):
                        if doc.encoding not in ("", "utf-8"):
                            report.encodings.append((doc.meta.path, doc.encoding))
                        yield _with_cli_metadata(doc, source, tags, roots)
                except NotContent as e:
                    report.skipped.append((e.path, e.reason))
                except LoadError as e:
                    report.failed.append((e.path, e.reason))
                    failed_paths.add(str(Path(e.path).resolve()))
                finally:
                    if on_file:
                        on_file(path)

        self.ingest(documents(), report, seen, dry_run=dry_run)
        if prune:
            self._prune(paths, seen, failed_paths, report, max_prune_share, dry_run)
        report.seconds = time.perf_counter() - started
        return report

    def ingest(
        self,
        documents: Iterable[Document],
        report: IngestReport | None = None,
        seen: set[str] | None = None,
        dry_run: bool = False,
    ) -> IngestReport:
        """Make documents searchable: skip unchanged ones, replace changed ones atomically."""
        started = time.perf_counter()
        report = report if report is not None else IngestReport()
        seen = seen if seen is not None else set()
        if not dry_run:
            self.index.ensure()
        pending: list[_Prepared] = []
        has_index = self.index.exists()  # a dry run on a fresh install has none yet
        near = self.index.near_copies.session(self._stored_texts)
        for prepared in _in_background(self._prepare(documents, seen, report, has_index)):
            if prepared.unchanged is not None:
                report.unchanged += 1
                if not dry_run:
                    self._keep(prepared.doc, prepared.unchanged, near)
                continue
            if dry_run:
                report.chunks += len(prepared.chunks)
                _count(report, prepared)
                meta = prepared.doc.meta
                report.changes.append(("add" if prepared.is_new else "update", meta.path))
                continue
            pending.append(prepared)
            if sum(len(p.chunks) for p in pending) >= EMBED_BATCH_CHUNKS:
                self._write(pending, report, near)
                pending = []
        self._write(pending, report, near)
        report.seconds = time.perf_counter() - started
        return report

    def _files(self, paths, include, exclude, report, failed_paths) -> Iterator[Path]:
        try:
            yield from iter_files(paths, include=include, exclude=exclude)
        except LoadError as e:
            report.failed.append((e.path, e.reason))
            failed_paths.add(e.path)

    def _prepare(
        self, docs: Iterable[Document], seen: set[str], report: IngestReport, has_index: bool
    ) -> Iterator[_Prepared]:
        for doc in docs:
            if doc.doc_id in seen:
                report.failed.append((doc.meta.path, f"duplicate document id {doc.doc_id!r}"))
                continue
            seen.add(doc.doc_id)
            digest = self.digest(doc)
            stored = self.index.stored(doc.doc_id) if has_index else None
            if stored and stored.content_hash == digest:
                yield _Prepared(doc, digest, [], is_new=False, unchanged=stored)
                continue
            yield _Prepared(doc, digest, self.chunker.chunk(doc), is_new=stored is None)

    def _keep(self, doc: Document, stored: StoredDoc, near: NearCopySession) -> None:
        """An unchanged document: note where it was ingested from, and sign it if it was
        ingested before signatures were kept."""
        if doc.meta.folder and doc.meta.folder != stored.folder:
            self.index.set_folder(doc.doc_id, doc.meta.folder)
        if not near.knows(doc.doc_id):
            near.record(doc.doc_id, doc.text)

    def _stored_texts(self, doc_id: str) -> Iterator[tuple[str, str]]:
        return self.index.chunk_texts(self.index.chunk_keys(doc_id))

    def _write(self, batch: list[_Prepared], report: IngestReport, near: NearCopySession) -> None:
        texts = [self._embedding_text(c) for p in batch for c in p.chunks]
        if texts:
            t = time.perf_counter()
            vectors = self.embedder.embed(texts)
            report.embed_seconds += time.perf_counter() - t
        else:  # documents with no text left still get a record
            vectors = _empty(self)
        repeats = count_repeats(self.index, [(p.doc, p.chunks) for p in batch])
        report.repeats += repeats.count
        offset = 0
        for prepared in batch:
            n = len(prepared.chunks)
            meta = prepared.doc.meta
            try:
                self.index.replace(
                    meta, prepared.content_hash, prepared.chunks, vectors[offset : offset + n]
                )
            except ConcurrentUpdate as e:
                report.failed.append((meta.path or meta.doc_id, str(e)))
            else:
                report.chunks += n
                _count(report, prepared)
                sharing = repeats.sharing.get(meta.doc_id)
                report.near_copies += bool(near.record(meta.doc_id, prepared.doc.text, sharing))
            offset += n

    def _embedding_text(self, chunk: Chunk) -> str:
        # The chunker leaves room for the heading line; a very long one is dropped rather
        # than letting the model truncate the chunk's own text.
        text = chunk.embedding_text()
        if text != chunk.text and len(text) > 4 * self.chunker.model_budget:
            return chunk.text
        return text

    def _prune(
        self,
        paths: Sequence[Path],
        seen: set[str],
        failed_paths: set[str],
        report: IngestReport,
        max_share: float,
        dry_run: bool = False,
    ) -> None:
        # A folder that is not there (an unmounted share) says nothing about its files.
        roots = [str(p.resolve()) for p in paths if Path(p).exists()]
        inside = [
            d
            for d in self.index.documents()
            if any(d.path == r or d.path.startswith(r.rstrip("/") + "/") for r in roots)
        ]
        stale = [d for d in inside if d.doc_id not in seen and d.path not in failed_paths]
        if dry_run:
            report.changes += [("remove", d.path) for d in stale]
            return
        prune_stale(self.index, [d.doc_id for d in stale], len(inside), max_share, report)


def prune_stale(
    index: ChunkIndex, stale: Sequence[str], total: int, max_share: float, report: IngestReport
) -> None:
    """Delete the stale documents, unless they are more than `max_share` of the `total`."""
    if total and len(stale) > max_share * total:
        report.prune_refused = (
            f"{len(stale)} of {total} documents ({len(stale) / total:.0%}) would be removed, "
            f"more than the {max_share:.0%} allowed; nothing was removed. Check the source, "
            "then run again with --force if this is right."
        )
        return
    for doc_id in stale:
        index.delete(doc_id)
        report.pruned += 1


def _count(report: IngestReport, prepared: _Prepared) -> None:
    if prepared.is_new:
        report.new += 1
    else:
        report.updated += 1


def _empty(pipeline: IngestPipeline):
    import numpy as np

    return np.zeros((0, pipeline.embedder.dim), dtype=np.float32)


def _with_cli_metadata(
    doc: Document, source: str, tags: Sequence[str], roots: Sequence[str] = ()
) -> Document:
    """The file's own source wins, then --source, then the file name; tags add up. The
    folder is the deepest given one holding the file (answers show paths relative to it)."""
    meta = replace(
        doc.meta,
        source=doc.meta.source or source or Path(doc.meta.path).name,
        tags=tuple(dict.fromkeys([*doc.meta.tags, *tags])),
        folder=next((r for r in roots if doc.meta.path.startswith(r.rstrip("/") + "/")), ""),
    )
    return Document(meta=meta, text=doc.text, blocks=doc.blocks, encoding=doc.encoding)


def _roots(paths: Sequence[Path]) -> list[str]:
    """The folders named (a file stands for its own folder), resolved, the deepest first."""
    roots = {str(p.resolve() if p.is_dir() else p.resolve().parent) for p in map(Path, paths)}
    return sorted(roots, key=len, reverse=True)


_DONE = object()


def _in_background(items: Iterator[_Prepared]) -> Iterator[_Prepared]:
    """Run a generator in a thread, handing items over through a bounded queue."""
    q: queue.Queue = queue.Queue(maxsize=QUEUE_DOCS)
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            for item in items:
                q.put(item)
        except BaseException as e:  # noqa: BLE001 - re-raised in the consumer thread
            errors.append(e)
        finally:
            q.put(_DONE)

    thread = threading.Thread(target=produce, name="qa-ingest-loader", daemon=True)
    thread.start()
    while (item := q.get()) is not _DONE:
        yield item
    thread.join()
    if errors:
        raise errors[0]
