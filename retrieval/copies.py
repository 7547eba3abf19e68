"""The same passage in two places (page.md and page.html, a one-page "all" edition) is shown
once: the best-ranked copy is the source, the others are listed as "also in".

Two chunks are copies when their normalised words are equal (the `content_hash` stored on
every chunk) or when nearly all word triples of the shorter one are in the longer one, which
also catches a passage cut differently, or with a changed word, inside a larger page.
"""

from __future__ import annotations

import hashlib
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
    if content_hash(a) == content_hash(b):
        return True
    sa, sb = _shingles(a), _shingles(b)
    small = min(len(sa), len(sb))
    return small >= MIN_SHINGLES and len(sa & sb) / small >= CONTAINED


def collapse(hits: Sequence[Hit]) -> tuple[list[Hit], dict[str, list[Hit]], dict[str, str]]:
    """Hits with copies folded into the first (best) one, in order.

    Returns the kept hits, the copies folded into each kept hit (by its key), and for each
    folded hit the key of the hit that kept it.
    """
    kept: list[Hit] = []
    copies: dict[str, list[Hit]] = {}
    keeper: dict[str, str] = {}
    for hit in hits:
        owner = next((k for k in kept if same_passage(k.text, hit.text)), None)
        if owner is None:
            kept.append(hit)
            copies[hit.key] = []
        else:
            copies[owner.key].append(hit)
            keeper[hit.key] = owner.key
    return kept, copies, keeper


def also_in(copies: Sequence[Hit], shown: Hit) -> list[dict[str, str]]:
    """The other places a passage is found, each once, without the shown document."""
    places: dict[str, dict[str, str]] = {}
    for hit in copies:
        if hit.doc_id != shown.doc_id:
            places.setdefault(hit.doc_id, {"doc_id": hit.doc_id, "title": hit.title,
                                           "url": hit.url, "path": hit.path})  # fmt: skip
    return list(places.values())
