"""Whole documents that are near copies of one another: found at ingest, shown once.

A page kept as page.md and as page.html, a handbook copied into two folders, an all-in-one
page beside its parts: their passages differ by a few words (markup residue, a navigation
line, an edit), so the passage folding of copies.py misses them and answers list the same
page twice. Documents are compared by their sets of word triples ("shingles"):

- similar: the estimated Jaccard similarity (shared triples over all triples of the two) is
  at least SIMILAR. Each document gets a MinHash signature (datasketch); a MinHashLSH over
  the signatures finds the candidates without comparing every pair, and the signatures
  estimate the similarity (error about +-0.035 at 0.8 with 128 permutations).
- part: at least CONTAINED of the smaller document's triples are in the larger one (a page
  inside its all-in-one edition). Jaccard cannot see this (a part of a five-part page has a
  Jaccard of about 0.2), and MinHash estimates containment too loosely when sizes differ a
  lot, so containment is counted exactly on the two texts. The candidates are the documents
  that share a passage word for word with this one (the chunk hashes the index keeps;
  chunks never span two sections, so an all-in-one page is cut like its parts), then those
  whose signatures suggest it (one array comparison against every signature of the run):
  that finds an edited part when it is at least about a twentieth of the whole.

Signatures live in Redis, in one hash per index (`{prefix}:minhash:{index}`: per document
the triple count and 128 32-bit values), so every process sees them and they survive
restarts; an ingest run loads them once. Relations are kept both ways in one hash per
document (`{prefix}:near:{tag}`, in the slot of the document's other keys), with the
measure that made them. Deleting a document removes its signature and relations. Two
ingesters writing near copies of each other at the same moment may miss that pair.
"""

from __future__ import annotations

import struct
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import redis
from datasketch import LeanMinHash, MinHash, MinHashLSH

from retrieval.index.copies import MIN_SHINGLES
from retrieval.index.schema import IndexSchema
from retrieval.redis.replies import reachable, text
from retrieval.text import words

NUM_PERM = 128  # the Jaccard estimate's error is sqrt(J(1-J)/128); 512 bytes per document
SEED, SCHEME = 1, "affine32"  # fixed: the signatures of every process must be comparable
# 80 % of the word triples in common (or of the smaller one's inside the larger): a page and
# its rendering, a lightly edited copy. Much lower, and two versions of a policy that say
# different things would be shown as one.
SIMILAR = 0.8
CONTAINED = 0.8
# Containment is counted on texts read back from Redis; this bounds that work per document
# (a paragraph every page repeats would make every page a candidate). The most-sharing
# candidates go first; an all-in-one page with more parts still finds the rest when those
# parts are ingested.
MAX_PART_CHECKS = 50
CACHED_TEXTS = 64  # triple sets of stored documents kept per run (parts share their whole)
MIN_MATCHES = 3  # shared signature values that make a containment candidate (_Table.holding)

# A stored document's chunk texts, as (doc_id, text) pairs.
Texts = Callable[[str], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class DocNotes:
    """What an answer needs to know of a listed document beyond its hits."""

    folder: str = ""  # the folder it was ingested from (retrieval/places.py)
    near: frozenset[str] = frozenset()  # its near copies


def triples(texts: Iterable[str]) -> set[str]:
    """The word triples of each text (none across texts: chunks are read back separately)."""
    out: set[str] = set()
    for piece in texts:
        ws = words(piece)
        out.update(" ".join(ws[i : i + 3]) for i in range(len(ws) - 2))
    return out


def signature(shingles: Iterable[str]) -> LeanMinHash:
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    m.update_batch([s.encode("utf-8", "surrogatepass") for s in shingles])
    return LeanMinHash(m)


class NearCopies:
    """The signatures and relations of one index's documents, in Redis."""

    def __init__(self, client: redis.Redis, schema: IndexSchema) -> None:
        self.client = client
        self.schema = schema
        self.key = f"{schema.prefix}:minhash:{schema.name}"

    def near_key(self, doc_id: str) -> str:
        return f"{self.schema.prefix}:near:{{{self.schema.slot_tag(doc_id)}}}"

    def session(self, texts: Texts) -> NearCopySession:
        return NearCopySession(self, texts)

    def signatures(self) -> Iterator[tuple[str, int, LeanMinHash]]:
        for doc_id, raw in self.client.hscan_iter(self.key, count=1000):
            size = struct.unpack_from("<I", raw)[0]
            values = np.frombuffer(raw, dtype="<u4", offset=4).astype(np.uint32)
            yield text(doc_id), size, LeanMinHash(seed=SEED, hashvalues=values, scheme=SCHEME)

    def write(self, doc_id: str, size: int, sig: LeanMinHash, relations: dict[str, str]) -> None:
        """Replace the document's signature and relations (and the other side of each)."""
        self.forget(doc_id)
        pipe = self.client.pipeline(transaction=False)
        values = np.asarray(sig.hashvalues, dtype="<u4")
        pipe.hset(self.key, doc_id, struct.pack("<I", size) + values.tobytes())
        if relations:
            pipe.hset(self.near_key(doc_id), mapping=relations)
        for other, kind in relations.items():
            pipe.hset(self.near_key(other), doc_id, _inverse(kind))
        pipe.execute()

    def forget(self, doc_id: str) -> None:
        """Remove a document's signature and its relations, on both sides."""
        others = [text(k) for k in self.client.hkeys(self.near_key(doc_id))]
        pipe = self.client.pipeline(transaction=False)
        for other in others:  # one key per command: the documents live in different slots
            pipe.hdel(self.near_key(other), doc_id)
        pipe.delete(self.near_key(doc_id))
        pipe.hdel(self.key, doc_id)
        pipe.execute()

    def drop(self, doc_ids: Sequence[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for doc_id in doc_ids:
            pipe.delete(self.near_key(doc_id))
        pipe.delete(self.key)
        pipe.execute()

    def notes(self, doc_ids: Sequence[str]) -> dict[str, DocNotes]:
        """The folder and the near copies of each document, in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for doc_id in doc_ids:
            pipe.hget(self.schema.doc_key(doc_id), "folder")
            pipe.hkeys(self.near_key(doc_id))
        with reachable("cannot read the sources' folders and copies"):
            replies = pipe.execute()
        return {
            doc_id: DocNotes(text(folder or b""), frozenset(text(k) for k in near))
            for doc_id, folder, near in zip(doc_ids, replies[::2], replies[1::2], strict=True)
        }


class NearCopySession:
    """One ingest run: the stored signatures loaded once, relations found and written."""

    def __init__(self, store: NearCopies, texts: Texts) -> None:
        self.store = store
        self.texts = texts
        self.lsh: MinHashLSH | None = None
        self.table = _Table()
        self.cache: OrderedDict[str, set[str]] = OrderedDict()

    def knows(self, doc_id: str) -> bool:
        return doc_id in self._loaded().table.rows

    def record(self, doc_id: str, body: str, sharing: Counter[str] | None = None) -> int:
        """Find the document's near copies, store them and its signature; returns how many.

        `sharing` counts, per other document, the passages it holds word for word.
        """
        lsh = self._loaded().lsh
        assert lsh is not None
        mine = triples([body])
        if doc_id in self.table.rows:
            lsh.remove(doc_id)
            self.table.remove(doc_id)
        if len(mine) < MIN_SHINGLES:  # short texts match by chance: no relations
            self.store.forget(doc_id)
            return 0
        sig = signature(mine)
        relations = {
            other: f"similar {similarity:.2f}"
            for other in lsh.query(sig)
            if (similarity := self.table.jaccard(other, sig)) >= SIMILAR
        }
        for other in self._part_candidates(doc_id, sig, len(mine), sharing or Counter()):
            if other not in relations and (kind := _part(mine, self._triples(other))):
                relations[other] = kind
        self.store.write(doc_id, len(mine), sig, relations)
        lsh.insert(doc_id, sig)
        self.table.add(doc_id, len(mine), sig)
        self._remember(doc_id, mine)
        return len(relations)

    def _part_candidates(
        self, doc_id: str, sig: LeanMinHash, size: int, sharing: Counter[str]
    ) -> list[str]:
        """Documents sharing passages word for word, most first, then those whose signatures
        suggest one holds the other; at most MAX_PART_CHECKS."""
        likely = [d for d, _ in sharing.most_common()]
        likely += [d for d in self.table.holding(sig, size) if d not in sharing]
        return [d for d in likely if d != doc_id][:MAX_PART_CHECKS]

    def _loaded(self) -> NearCopySession:
        if self.lsh is None:
            self.lsh = MinHashLSH(threshold=SIMILAR, num_perm=NUM_PERM)
            for doc_id, size, sig in self.store.signatures():
                self.lsh.insert(doc_id, sig, check_duplication=False)
                self.table.add(doc_id, size, sig)
        return self

    def _triples(self, doc_id: str) -> set[str]:
        if doc_id not in self.cache:
            self._remember(doc_id, triples(t for _, t in self.texts(doc_id)))
        self.cache.move_to_end(doc_id)
        return self.cache[doc_id]

    def _remember(self, doc_id: str, shingles: set[str]) -> None:
        self.cache[doc_id] = shingles
        self.cache.move_to_end(doc_id)
        while len(self.cache) > CACHED_TEXTS:
            self.cache.popitem(last=False)


class _Table:
    """Every signature of the run in one array, compared with a new one at once."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.ids: list[str] = []
        self.values = np.zeros((64, NUM_PERM), dtype=np.uint32)
        self.sizes = np.zeros(64, dtype=np.int64)  # 0: a removed row

    def add(self, doc_id: str, size: int, sig: LeanMinHash) -> None:
        row = self.rows.get(doc_id, len(self.ids))
        if row == len(self.ids):
            self.ids.append(doc_id)
            self.rows[doc_id] = row
        if row >= len(self.sizes):  # grow by doubling: one copy per doubling, not per row
            self.values = np.concatenate([self.values, np.zeros_like(self.values)])
            self.sizes = np.concatenate([self.sizes, np.zeros_like(self.sizes)])
        self.values[row], self.sizes[row] = sig.hashvalues, size

    def remove(self, doc_id: str) -> None:
        self.sizes[self.rows[doc_id]] = 0

    def jaccard(self, doc_id: str, sig: LeanMinHash) -> float:
        return float(np.mean(self.values[self.rows[doc_id]] == sig.hashvalues))

    def holding(self, sig: LeanMinHash, size: int) -> list[str]:
        """Documents whose estimated containment with this one (the smaller's share inside
        the larger) is at least half of CONTAINED, most shared values first.

        The estimate, |A & B| = J (|A| + |B|) / (1 + J), is rough where sizes differ (J is
        then a few shared values out of 128): half the threshold lets real parts through,
        and the texts decide. Fewer than MIN_MATCHES shared values happen by chance between
        documents that merely share common phrases.
        """
        n = len(self.ids)
        matches = (self.values[:n] == sig.hashvalues).sum(axis=1)
        jaccard = matches / NUM_PERM
        sizes = self.sizes[:n]
        shared = jaccard * (size + sizes) / (1 + jaccard)
        smaller = np.maximum(np.minimum(size, sizes), 1)
        ok = (sizes > 0) & (matches >= MIN_MATCHES) & (shared / smaller >= CONTAINED / 2)
        return [self.ids[i] for i in np.flatnonzero(ok)[np.argsort(-matches[ok])]]


def _part(mine: set[str], theirs: set[str]) -> str:
    """'inside N' / 'holds N' when the smaller set is mostly inside the larger, else ""."""
    small, large = (mine, theirs) if len(mine) <= len(theirs) else (theirs, mine)
    if len(small) < MIN_SHINGLES:
        return ""
    share = len(small & large) / len(small)
    if share < CONTAINED:
        return ""
    return f"{'inside' if small is mine else 'holds'} {share:.2f}"


_INVERSE = {"inside": "holds", "holds": "inside"}


def _inverse(kind: str) -> str:
    """The relation as the other document sees it: A inside B is B holds A."""
    name, _, measure = kind.partition(" ")
    return f"{_INVERSE.get(name, name)} {measure}"
