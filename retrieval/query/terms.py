"""How common a question's words are in the index, so that keyword search asks the rare ones.

BM25 over a union of words walks every chunk holding any of them: at 1M chunks a question's
common words ("virus", "patients": each in a large share of the chunks) made the keyword
query take ~110 ms (BENCHMARKS.md, scale-bench), for words whose IDF barely moves the
ranking. Words held by more than `max_share` of the chunks are left out of the query (the
rarest word is always kept), which bounds the chunks it walks. A word held by at most FLOOR
chunks is always asked: walking that few costs well under a millisecond, so an index of up to
FLOOR / max_share chunks is searched exactly as before.

A word's count is asked once (`FT.SEARCH ... LIMIT 0 0`) and kept for `ttl_s` in a
least-recently-used cache of at most `max_bytes` per process (retrieval/lru.py).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

from retrieval.lru import ByteLRU
from retrieval.redis.syntax import escape_text

FIELDS = "@text|title|heading"  # what the keyword query searches
FLOOR = 10_000  # chunks: a word held by no more is always asked


class WordCounts:
    """Chunks holding each word, and chunks in all, read from the index and cached."""

    def __init__(
        self,
        search: Callable[[str], int],
        total: Callable[[], int],
        max_bytes: int = 2 * 2**20,
        ttl_s: float = 600.0,
    ) -> None:
        self._search = search  # query -> number of matching chunks
        self._total = total
        self.ttl_s = ttl_s
        self._counts: ByteLRU[str, tuple[int, float]] = ByteLRU(max_bytes, _count_size)
        self._chunks: tuple[int, float] = (0, 0.0)

    def counts(self, words: Sequence[str]) -> dict[str, int]:
        return {word: self.count(word) for word in words}

    def chunks(self) -> int:
        now = time.monotonic()
        value, at = self._chunks
        if now - at > self.ttl_s:
            value = self._total()
            self._chunks = (value, now)
        return value

    def count(self, word: str) -> int:
        now = time.monotonic()
        cached = self._counts.get(word)
        if cached is not None and now - cached[1] <= self.ttl_s:
            return cached[0]
        value = self._search(f"{FIELDS}:({escape_text(word)})")
        self._counts.put(word, (value, now))
        return value


def _count_size(word: str, value: tuple[int, float]) -> int:
    return sys.getsizeof(word) + sys.getsizeof(value) + 56  # the tuple's int and float


def rare_words(
    words: Sequence[str], counts: dict[str, int], chunks: int, max_share: float, floor: int = FLOOR
) -> list[str]:
    """The words held by at most `max_share` of the `chunks` (or by at most `floor` chunks), in
    question order; the rarest word is kept whatever its count, so a question still searches."""
    if max_share >= 1 or not words:
        return list(words)
    limit = max(max_share * chunks, floor)
    rarest = min(words, key=lambda w: counts.get(w, 0))
    return [w for w in words if w == rarest or counts.get(w, 0) <= limit]
