"""Keyword search asks a question's rare words only: counts read from the index and cached."""

from __future__ import annotations

import pytest

from ingest.document import Document
from ingest.pipeline import IngestPipeline
from retrieval.engine import QAEngine
from retrieval.errors import ConfigError
from retrieval.lru import ENTRY_OVERHEAD
from retrieval.query.filters import Filters
from retrieval.query.retriever import Retriever
from retrieval.query.terms import WordCounts, _count_size, rare_words
from retrieval.settings import Settings
from retrieval.types import DocMeta

CHUNKS = 1_000_000
COUNTS = {"covid": 900_000, "virus": 400_000, "incubation": 30_000, "mers": 10_000, "absent": 0}


@pytest.mark.parametrize(
    ("words", "max_share", "kept"),
    [
        (["covid", "incubation", "mers"], 0.05, ["incubation", "mers"]),
        (["incubation", "covid", "virus"], 0.05, ["incubation"]),
        (["covid", "virus"], 0.05, ["virus"]),  # only common words: the rarest still searches
        (["covid", "virus"], 0.5, ["virus"]),
        (["covid", "virus", "mers"], 1.0, ["covid", "virus", "mers"]),  # 1: every word
        (["absent", "covid"], 0.05, ["absent"]),  # a word no chunk holds costs nothing
        ([], 0.05, []),
        (["unknown"], 0.05, ["unknown"]),
    ],
)
def test_rare_words_keeps_words_under_the_share_and_always_the_rarest(words, max_share, kept):
    assert rare_words(words, COUNTS, CHUNKS, max_share, floor=0) == kept


def test_a_word_held_by_few_chunks_is_always_asked_so_small_indexes_search_every_word():
    counts = {"api": 900, "key": 800, "rotate": 10}
    assert rare_words(["api", "key", "rotate"], counts, 1000, 0.2) == ["api", "key", "rotate"]
    assert rare_words(["api", "rotate"], counts, 1000, 0.2, floor=100) == ["rotate"]


def test_a_word_is_counted_once_then_read_from_the_cache_and_the_cache_is_bounded():
    asked: list[str] = []

    def search(query: str) -> int:
        asked.append(query)
        return 3

    counts = WordCounts(search, lambda: 10, max_bytes=2 * _entry("alpha"))
    assert counts.counts(["alpha", "beta"]) == {"alpha": 3, "beta": 3}
    counts.counts(["alpha", "beta"])
    assert asked == ["@text|title|heading:(alpha)", "@text|title|heading:(beta)"]
    counts.count("gamma")  # a third word pushes out the least recently used (alpha)
    counts.count("alpha")
    assert len(asked) == 4 and len(counts._counts) == 2


def _entry(word: str) -> int:
    return _count_size(word, (3, 0.0)) + ENTRY_OVERHEAD


def test_counts_expire_so_that_a_growing_index_is_counted_again():
    asked: list[str] = []
    counts = WordCounts(lambda q: asked.append(q) or 1, lambda: 1, ttl_s=0.0)
    counts.count("alpha")
    counts.count("alpha")
    assert len(asked) == 2


def test_keyword_search_leaves_out_a_word_most_chunks_hold(
    pipeline: IngestPipeline, retriever_of
) -> None:
    common = "Quarterly planning notes for the team."
    docs = [
        Document(DocMeta(f"d{i}", f"Doc {i}", "wiki"), f"{common if i < 3 else ''} Topic {w}.")
        for i, w in enumerate(["gardening", "astronomy", "sailing", "pottery"])
    ]
    pipeline.ingest(docs)
    everything = retriever_of(1.0).keyword("quarterly sailing", "*", 10)
    bounded = retriever_of(0.5).keyword("quarterly sailing", "*", 10)
    assert len(everything) == 3  # "quarterly" makes every chunk that holds it a candidate
    assert [hit.doc_id for hit in bounded] == ["d2"]
    assert retriever_of(0.5).words.counts(["quarterly", "sailing"]) == {
        "quarterly": 3,
        "sailing": 1,
    }
    assert retriever_of(0.5).words.chunks() == 4


@pytest.fixture()
def retriever_of(index, settings: Settings):
    def make(share: float) -> Retriever:
        # A handful of chunks: the share alone decides (no floor).
        return Retriever(index, settings.candidate_pool, settings.rrf_k, share, keyword_floor=0)

    return make


def test_hybrid_retrieval_works_with_the_bound(pipeline: IngestPipeline, retriever_of, embedder):
    pipeline.ingest([Document(DocMeta("keys", "API keys", "wiki"), "Rotate the API key yearly.")])
    question = "how often is the API key rotated"
    hits = retriever_of(0.05).candidates(question, embedder.embed([question])[0], 5, Filters())
    assert hits and hits[0].doc_id == "keys"


def test_the_share_must_be_a_share():
    with pytest.raises(ConfigError, match="QA_KEYWORD_MAX_SHARE"):
        Settings.from_env({"QA_KEYWORD_MAX_SHARE": "0"})
    assert Settings.from_env({"QA_KEYWORD_MAX_SHARE": "0.05"}).keyword_max_share == 0.05


def test_the_engine_builds_its_retriever_with_the_keyword_settings(settings: Settings, embedder):
    engine = QAEngine(settings.with_(keyword_max_share=0.5, keyword_floor=7), embedder=embedder)
    retriever = engine.retrieving.retriever
    assert (retriever.keyword_max_share, retriever.keyword_floor) == (0.5, 7)
