"""Counting, at ingest, the chunks whose passage another document already holds.

Answers show such a passage once (retrieval/index/copies.py); the count tells the user that a
folder holds copies (page.md beside page.html, a one-page edition of every page), and the
documents sharing passages are where near copies of whole documents are looked for
(retrieval/index/near_copies.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import redis

from ingest.document import Document
from retrieval.index.chunks import ChunkIndex
from retrieval.index.copies import content_hash
from retrieval.types import Chunk

MAX_HOLDERS = 10_000


@dataclass
class Repeats:
    count: int = 0  # chunks whose passage another document holds
    # per document of the batch: the other documents holding its passages, and how many
    sharing: dict[str, Counter[str]] = field(default_factory=dict)


def count_repeats(index: ChunkIndex, batch: Sequence[tuple[Document, Sequence[Chunk]]]) -> Repeats:
    """Chunks of `batch` (not yet written) whose passage an indexed or earlier document holds."""
    hashes = [[content_hash(c.text) for c in chunks] for _, chunks in batch]
    wanted = sorted({h for doc_hashes in hashes for h in doc_hashes})
    holders: dict[str, set[str]] = defaultdict(set)
    if wanted:
        try:
            found = index.search(
                "@content_hash:{" + "|".join(wanted) + "}",
                "RETURN",
                2,
                "content_hash",
                "doc_id",
                "LIMIT",
                0,
                MAX_HOLDERS,
            )
        except redis.ResponseError:  # an index made before chunks had a content_hash
            return Repeats()
        for f in found.docs:
            holders[f.fields.get("content_hash", "")].add(f.fields.get("doc_id", ""))
    repeats = Repeats()
    for (doc, _), doc_hashes in zip(batch, hashes, strict=True):
        others = [holders[h] - {doc.doc_id} for h in doc_hashes]
        repeats.count += sum(1 for held in others if held)
        repeats.sharing[doc.doc_id] = Counter(d for held in others for d in held)
        for h in doc_hashes:
            holders[h].add(doc.doc_id)
    return repeats
