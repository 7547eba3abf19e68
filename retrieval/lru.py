"""A least-recently-used cache bounded by the memory it holds, not by its number of entries.

The per-process caches of the hot path (a text's terms, its word pairs, a sentence's vector)
are keyed by texts from a sentence to a whole chunk: a bound on entries alone lets a worker's
memory depend on how long the texts are (32,768 entries of terms: ~45 MB for COVID-QA's
sentences, ~200 MB for its chunks; of word pairs: ~95 MB for its sentences, measured with
tracemalloc). Sizes are estimates (`size_of`), close enough to bound a worker.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
ENTRY_OVERHEAD = 100  # the ordered dict's node and hash slot, per entry


class ByteLRU(Generic[K, V]):
    """A thread-safe LRU map holding at most `max_bytes` by `size_of(key, value)`."""

    def __init__(self, max_bytes: int, size_of: Callable[[K, V], int]) -> None:
        self.max_bytes, self.size_of = max_bytes, size_of
        self.bytes = 0
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: K, value: V) -> None:
        size = self.size_of(key, value) + ENTRY_OVERHEAD
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            if size > self.max_bytes:  # would evict everything else: not worth keeping
                return
            self._items[key] = (value, size)
            self.bytes += size
            self._evict()

    def resize(self, max_bytes: int) -> None:
        with self._lock:
            self.max_bytes = max_bytes
            self._evict()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.bytes = 0

    def _evict(self) -> None:
        while self.bytes > self.max_bytes and self._items:
            _, (_, size) = self._items.popitem(last=False)
            self.bytes -= size


def cached(max_bytes: int, size_of: Callable[[Any, Any], int]) -> Callable:
    """Decorate a one-argument pure function with a ByteLRU (reached as `.cache`)."""

    def decorate(fn: Callable[[K], V]) -> Callable[[K], V]:
        cache: ByteLRU[K, V] = ByteLRU(max_bytes, size_of)

        @functools.wraps(fn)
        def wrapper(key: K) -> V:
            value = cache.get(key)
            if value is None:
                value = fn(key)
                cache.put(key, value)
            return value

        wrapper.cache = cache  # type: ignore[attr-defined]
        return wrapper

    return decorate


def text_size(text: str, value: object) -> int:
    """A text key and a value whose elements are shared (terms: stems come from one cache)."""
    return sys.getsizeof(text) + sys.getsizeof(value)


def text_and_pairs_size(text: str, value: frozenset) -> int:
    """A text key and a set of word pairs: each pair is a tuple of its own."""
    return sys.getsizeof(text) + sys.getsizeof(value) + 56 * len(value)
