"""Top-k chunks for a question: BM25 and vector KNN over the same filtered set, fused.

Where BM25 searches (`keyword_scope`): "index", every chunk the filter lets through, or
"candidates", only the chunks KNN found (`FT.SEARCH ... INKEYS`), whose cost follows the
candidates rather than how many chunks hold the question's words (docs/scaling.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import redis

from retrieval.index.chunks import ChunkIndex
from retrieval.index.fields import HIT_FIELDS, parse_hit
from retrieval.index.layout import Layout
from retrieval.query.filters import Filters, compile_filters
from retrieval.query.rerank import DEPTH, rerank
from retrieval.query.terms import FIELDS, FLOOR, WordCounts, rare_words
from retrieval.redis.replies import SearchReply
from retrieval.redis.syntax import escape_text
from retrieval.text import content_words
from retrieval.types import Hit


@dataclass
class Retrieval:
    question: str
    hits: list[Hit]  # the top k, best first
    filters: Filters
    query: str  # the compiled filter
    mode: str
    k: int
    query_vector: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)


class Retriever:
    """Runs keyword and vector search in RediSearch and fuses them by reciprocal rank."""

    def __init__(
        self,
        index: ChunkIndex,
        pool: int = 40,
        rrf_k: int = 60,
        keyword_max_share: float = 1.0,
        keyword_floor: int = FLOOR,
        keyword_scope: str = "index",
        keyword_candidates: int = 0,
    ) -> None:
        self.index = index
        self.pool = pool
        self.rrf_k = rrf_k
        # Keyword search leaves out words held by more than this share of the chunks (terms.py).
        self.keyword_max_share = keyword_max_share
        self.words = WordCounts(self.count, index.count_chunks)
        self.keyword_floor = keyword_floor
        self.keyword_scope = keyword_scope  # "index" | "candidates"
        # With scope "candidates": how many KNN results BM25 scores (at least the pool).
        self.keyword_candidates = keyword_candidates
        self.rerank = True
        self.rerank_depth = DEPTH
        # The index's fitted weights (the engine passes LiveWeights.current); None: defaults.
        self.weights: Callable[[], Mapping[str, float]] | None = None
        # BM25STD (RediSearch 2.10+) is proper BM25; the older "BM25" scores unions poorly
        # (hit@5 0.17 vs 0.75 on COVID-QA). Older servers fall back to it.
        self.scorer = "BM25STD"

    def retrieve(
        self,
        question: str,
        query_vector: np.ndarray | None,
        k: int,
        filters: Filters,
        mode: str = "hybrid",
        ef_runtime: int | None = None,
    ) -> Retrieval:
        timings: dict[str, float] = {}
        hits = self.candidates(question, query_vector, k, filters, mode, ef_runtime, timings)
        if self.rerank and mode == "hybrid":
            t = time.perf_counter()
            weights = self.weights() if self.weights is not None else None
            hits = rerank(question, hits[: self.rerank_depth], weights)
            timings["rerank_ms"] = (time.perf_counter() - t) * 1000
        where = compile_filters(filters)
        return Retrieval(question, hits[:k], filters, where, mode, k, query_vector, timings)

    def candidates(
        self,
        question: str,
        query_vector: np.ndarray | None,
        k: int,
        filters: Filters,
        mode: str = "hybrid",
        ef_runtime: int | None = None,
        timings: dict[str, float] | None = None,
    ) -> list[Hit]:
        """Every candidate, fused by reciprocal rank in hybrid mode: what reranking reorders."""
        where = compile_filters(filters)
        pool = max(self.pool, k)
        timings = {} if timings is None else timings
        keyword: list[Hit] = []
        vector: list[Hit] = []
        if mode == "hybrid" and self.keyword_scope == "candidates" and query_vector is not None:
            t = time.perf_counter()
            found = self.knn(query_vector, where, max(pool, self.keyword_candidates), ef_runtime)
            timings["vector_ms"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            keyword = self.keyword(question, where, pool, [hit.key for hit in found])
            timings["keyword_ms"] = (time.perf_counter() - t) * 1000
            return fuse(keyword, found[:pool], self.rrf_k)
        if mode in ("hybrid", "keyword"):
            t = time.perf_counter()
            keyword = self.keyword(question, where, pool)
            timings["keyword_ms"] = (time.perf_counter() - t) * 1000
        if mode in ("hybrid", "vector") and query_vector is not None:
            t = time.perf_counter()
            vector = self.knn(query_vector, where, pool, ef_runtime)
            timings["vector_ms"] = (time.perf_counter() - t) * 1000
        return fuse(keyword, vector, self.rrf_k) if mode == "hybrid" else keyword or vector

    def knn(self, vector: np.ndarray, where: str, k: int, ef_runtime: int | None) -> list[Hit]:
        layout = self.index.layout()
        try:
            reply = self._knn(layout, vector, where, k, ef_runtime)
        except redis.ResponseError:
            if self.index.layout(fresh=True) == layout:
                raise
            reply = None  # `qa reindex` switched the index meanwhile: the old field is gone
        if reply is None or (not reply.docs and self.index.layout(fresh=True) != layout):
            reply = self._knn(self.index.layout(), vector, where, k, ef_runtime)
        hits = []
        for rank, found in enumerate(reply.docs, start=1):
            hit = parse_hit(found.key, found.fields)
            hit.vector_score = 1.0 - float(found.fields.get("distance", 1.0))
            hit.vector_rank = rank
            hit.score = hit.vector_score
            hits.append(hit)
        return hits

    def _knn(
        self, layout: Layout, vector: np.ndarray, where: str, k: int, ef_runtime: int | None
    ) -> SearchReply:
        """The query vector is packed as the index stores its vectors (float16 for FLOAT16)."""
        ef = ef_runtime or self.index.schema.ef_runtime
        field = layout.vector_field
        query = f"({where})=>[KNN {k} @{field} $vec EF_RUNTIME {int(ef)} AS distance]"
        return self.index.search(
            query,
            "PARAMS",
            2,
            "vec",
            layout.pack(vector),
            "SORTBY",
            "distance",
            "ASC",
            "RETURN",
            len(HIT_FIELDS) + 1,
            *HIT_FIELDS,
            "distance",
            "LIMIT",
            0,
            k,
        )

    def keyword(
        self, question: str, where: str, k: int, keys: list[str] | None = None
    ) -> list[Hit]:
        """BM25 over the chunks `where` lets through, or over `keys` alone (those already
        passed it): scored with the whole index's statistics either way."""
        terms = list(dict.fromkeys(content_words(question)))
        if not terms or keys == []:
            return []
        if keys is None:
            text = "|".join(escape_text(t) for t in self._rare(terms))
            query = f"({FIELDS}:({text}))" + ("" if where == "*" else f" {where}")
            only: tuple = ()
        else:  # every word: the cost is the keys', not the words' (the keys are arguments)
            query = f"({FIELDS}:({'|'.join(escape_text(t) for t in terms)}))"
            only = ("INKEYS", len(keys), *keys)
        args = (*only, "RETURN", len(HIT_FIELDS), *HIT_FIELDS, "LIMIT", 0, k)
        try:
            reply = self.index.search(query, "SCORER", self.scorer, *args, scores=True)
        except redis.ResponseError as e:
            if "scorer" not in str(e).lower() or self.scorer == "BM25":
                raise
            self.scorer = "BM25"  # remembered: the retriever lives as long as the engine
            reply = self.index.search(query, "SCORER", self.scorer, *args, scores=True)
        hits = []
        for rank, found in enumerate(reply.docs, start=1):
            hit = parse_hit(found.key, found.fields)
            hit.keyword_score = found.score
            hit.keyword_rank = rank
            hit.score = found.score or 0.0
            hits.append(hit)
        return hits

    def _rare(self, terms: list[str]) -> list[str]:
        if self.keyword_max_share >= 1:
            return terms
        counts, chunks = self.words.counts(terms), self.words.chunks()
        return rare_words(terms, counts, chunks, self.keyword_max_share, self.keyword_floor)

    def count(self, where: str) -> int:
        """How many chunks the filter lets through."""
        return self.index.search(where, "LIMIT", 0, 0, content=False).total


def fuse(keyword: list[Hit], vector: list[Hit], rrf_k: int = 60) -> list[Hit]:
    """Reciprocal rank fusion: a chunk ranked high by either retriever rises."""
    merged: dict[str, Hit] = {}
    for hits in (keyword, vector):
        for hit in hits:
            seen = merged.setdefault(hit.key, hit)
            if seen is not hit:
                seen.vector_score = (
                    seen.vector_score if hit.vector_score is None else hit.vector_score
                )
                seen.vector_rank = seen.vector_rank or hit.vector_rank
                seen.keyword_score = (
                    seen.keyword_score if hit.keyword_score is None else hit.keyword_score
                )
                seen.keyword_rank = seen.keyword_rank or hit.keyword_rank
    for hit in merged.values():
        hit.score = sum(1.0 / (rrf_k + r) for r in (hit.keyword_rank, hit.vector_rank) if r)
    return sorted(merged.values(), key=lambda h: h.score, reverse=True)
