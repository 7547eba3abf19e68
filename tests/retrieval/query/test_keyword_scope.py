"""QA_KEYWORD_SCOPE=candidates: BM25 scores only the chunks KNN found (`INKEYS`), not the index."""

from __future__ import annotations

import re

import numpy as np
import pytest
import redis

from retrieval.engine import QAEngine
from retrieval.errors import ConfigError
from retrieval.index.chunks import ChunkIndex
from retrieval.index.schema import IndexSchema
from retrieval.query.filters import Filters
from retrieval.query.retriever import Retriever
from retrieval.settings import Settings
from retrieval.types import Chunk, DocMeta

QUERY = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)
DOCS = {  # doc id: (text, vector); the first three are KNN's nearest three
    "near-parking": ("parking permits for staff", [1.0, 0.05, 0.0, 0.0]),
    "near-badges": ("visitor badges at reception", [1.0, 0.10, 0.0, 0.0]),
    "near-parking-again": ("parking permits renewed yearly", [1.0, 0.15, 0.0, 0.0]),
    "far-parking": ("parking parking permits parking", [0.0, 0.0, 1.0, 0.0]),
    "far-lunch": ("lunch menu", [0.0, 0.0, 0.0, 1.0]),
}
NEAR = {"near-parking", "near-badges", "near-parking-again"}
WORD = r"(?:[a-z0-9]|\\[^a-z0-9])+"  # a word, every other character escaped


@pytest.fixture()
def small_index(redis_client: redis.Redis, settings: Settings) -> ChunkIndex:
    index = ChunkIndex(redis_client, IndexSchema(settings.index_name, settings.key_prefix, 4, "m"))
    index.ensure()
    for doc_id, (text, vector) in DOCS.items():
        v = np.array([vector], dtype=np.float32)
        v /= np.linalg.norm(v)
        index.replace(DocMeta(doc_id, title=doc_id), doc_id, [Chunk(doc_id, 0, text, 0, 9)], v)
    return index


def retriever(index: ChunkIndex, scope: str) -> Retriever:
    return Retriever(index, pool=3, keyword_scope=scope)


def test_bm25_over_candidates_returns_only_knn_candidates_scored_where_words_match(small_index):
    hits = retriever(small_index, "candidates").candidates("parking permits?", QUERY, 3, Filters())

    assert {h.doc_id for h in hits} == NEAR
    by_id = {h.doc_id: h for h in hits}
    assert all(h.vector_rank for h in hits)
    assert by_id["near-parking"].keyword_rank and by_id["near-parking"].keyword_score
    assert by_id["near-parking-again"].keyword_rank
    assert by_id["near-badges"].keyword_rank is None  # no word of the question
    assert hits[0].doc_id in {"near-parking", "near-parking-again"}  # in both lists


def test_bm25_over_the_index_still_finds_chunks_knn_did_not(small_index):
    hits = retriever(small_index, "index").candidates("parking permits?", QUERY, 3, Filters())

    assert "far-parking" in {h.doc_id for h in hits}


@pytest.mark.parametrize(
    "question",
    [
        "parking) | @doc_id:{far\\-parking} INKEYS 1 qa:x LIMIT 0 100",
        'parking" -@title:(near*) => [KNN 10 @vector $vec]',
        "* | lunch | parking",
        "parking\x00 $vec @text:(lunch) RETURN 0 SORTBY doc_id",
    ],
)
def test_a_hostile_question_cannot_widen_the_candidates_or_break_the_query(small_index, question):
    sent: list[tuple] = []
    search = small_index.search

    def spy(query: str, *args, **kwargs):
        sent.append((query, *args))
        return search(query, *args, **kwargs)

    small_index.search = spy  # type: ignore[method-assign]
    hits = retriever(small_index, "candidates").candidates(question, QUERY, 3, Filters())

    assert {h.doc_id for h in hits} == NEAR
    assert any(h.keyword_rank for h in hits if h.doc_id == "near-parking")
    query, *args = sent[-1]
    keys = [h.key for h in hits]
    at = args.index("INKEYS")
    assert args[at + 1] == 3 and sorted(args[at + 2 : at + 5]) == sorted(keys)
    assert args.count("INKEYS") == 1
    assert re.fullmatch(rf"\(@text\|title\|heading:\({WORD}(\|{WORD})*\)\)", query), query


def test_the_scope_is_a_setting_the_engine_passes_on(settings: Settings, embedder):
    with pytest.raises(ConfigError, match="QA_KEYWORD_SCOPE"):
        Settings.from_env({"QA_KEYWORD_SCOPE": "everything"})
    with pytest.raises(ConfigError, match="QA_KEYWORD_CANDIDATES"):
        Settings.from_env({"QA_KEYWORD_CANDIDATES": "-1"})
    assert Settings().keyword_scope == "index"
    chosen = settings.with_(keyword_scope="candidates", keyword_candidates=200)
    r = QAEngine(chosen, embedder=embedder).retrieving.retriever
    assert (r.keyword_scope, r.keyword_candidates) == ("candidates", 200)
