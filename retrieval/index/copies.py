"""The same passage in two places (page.md and page.html, a one-page "all" edition) is shown
once: the best-ranked copy is the source, the others are listed as "also in" (sources.py;
whole documents that are near copies: near_copies.py).

Two chunks are copies when their normalised words are equal (the `content_hash` stored on
every chunk) or when nearly all word triples of the shorter one are in the longer one, which
also catches a passage cut differently, or with a changed word, inside a larger page.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

from retrieval.text import words
from retrieval.types import Hit

CONTAINED = 0.9  # share of the shorter chunk's word triples found in the longer one
MIN_SHINGLES = 8  # below this, only an exact copy counts: short texts match by chance


def content_hash(text: str) -> str:
    """Equal for texts that differ only in case, punctuation, markup residue or spacing."""
    return hashlib.sha1(" ".join(words(text)).encode()).hexdigest()[:16]


def _shingles(text: str) -> set[tuple[str, ...]]:
    ws = words(text)
    return {tuple(ws[i : i + 3]) for i in range(max(len(ws) - 2, 1))}


def same_passage(a: str, b: str) -> bool:
    return _same(_Print(a), _Print(b))


class _Print:
    """What copies are told apart by, computed once per text."""

    def __init__(self, text: str) -> None:
        self.hash = content_hash(text)
        self.shingles = _shingles(text)


def _same(a: _Print, b: _Print) -> bool:
    if a.hash == b.hash:
        return True
    small = min(len(a.shingles), len(b.shingles))
    return small >= MIN_SHINGLES and len(a.shingles & b.shingles) / small >= CONTAINED


def collapse(hits: Sequence[Hit]) -> tuple[list[Hit], dict[str, list[Hit]], dict[str, str]]:
    """Hits with copies folded into the first (best) one, in order.

    Returns the kept hits, the copies folded into each kept hit (by its key), and for each
    folded hit the key of the hit that kept it. Word triples are indexed, so only kept hits
    sharing some with a new one are compared (50 hits: well under a millisecond each).
    """
    kept: list[tuple[Hit, _Print]] = []
    by_hash: dict[str, int] = {}
    by_shingle: dict[tuple[str, ...], list[int]] = {}
    copies: dict[str, list[Hit]] = {}
    keeper: dict[str, str] = {}
    for hit in hits:
        mine = _Print(hit.text)
        shared = Counter(i for sh in mine.shingles for i in by_shingle.get(sh, ()))
        owner = by_hash.get(mine.hash)
        if owner is None:
            owner = next((i for i, _ in sorted(shared.items()) if _same(kept[i][1], mine)), None)
        if owner is None:
            by_hash[mine.hash] = len(kept)
            for sh in mine.shingles:
                by_shingle.setdefault(sh, []).append(len(kept))
            kept.append((hit, mine))
            copies[hit.key] = []
        else:
            copies[kept[owner][0].key].append(hit)
            keeper[hit.key] = kept[owner][0].key
    return [k for k, _ in kept], copies, keeper
