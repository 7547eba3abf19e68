"""The per-process caches of the hot path hold at most QA_CACHE_MB each, however long the
texts they are keyed by, and forget the least recently used first."""

from __future__ import annotations

import sys

from retrieval import text
from retrieval.engine import QAEngine
from retrieval.lru import ENTRY_OVERHEAD, ByteLRU, cached
from retrieval.settings import Settings


def test_a_cache_holds_at_most_its_bytes_and_forgets_the_least_recently_used() -> None:
    cache: ByteLRU[str, str] = ByteLRU(3 * (10 + ENTRY_OVERHEAD), lambda k, v: 10)
    for key in "abc":
        cache.put(key, key.upper())
    assert cache.get("a") == "A"  # now the most recently used
    cache.put("d", "D")
    assert cache.get("b") is None and [cache.get(k) for k in "acd"] == ["A", "C", "D"]
    assert cache.bytes == 3 * (10 + ENTRY_OVERHEAD)
    cache.size_of = lambda k, v: 10_000  # an entry larger than the whole cache is not kept
    cache.put("huge", "x")
    assert cache.get("huge") is None and len(cache) == 3
    cache.resize(10 + ENTRY_OVERHEAD)
    assert len(cache) == 1 and cache.get("d") == "D"


def test_a_cached_function_computes_each_key_once_while_it_is_kept() -> None:
    calls = []

    @cached(10_000, lambda k, v: sys.getsizeof(k))
    def shout(word: str) -> str:
        calls.append(word)
        return word.upper()

    assert [shout("hi"), shout("hi"), shout("yo")] == ["HI", "HI", "YO"]
    assert calls == ["hi", "yo"]


def test_qa_cache_mb_bounds_terms_and_word_pairs_of_long_texts(embedder) -> None:
    QAEngine(Settings(cache_mb=0.25), embedder=embedder)
    try:
        for i in range(400):  # chunk-long texts: ~3 MB of terms unbounded
            text.terms(" ".join(f"word{i}x{j}" for j in range(150)))
            text.bigrams(" ".join(f"pair{i}x{j}" for j in range(40)))
        assert 0 < text.terms.cache.bytes <= 0.25 * 2**20
        assert 0 < text.bigrams.cache.bytes <= 0.25 * 2**20
    finally:
        QAEngine(Settings(), embedder=embedder)
    assert text.terms.cache.max_bytes == Settings.cache_mb * 2**20
