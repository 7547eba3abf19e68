"""The engine end to end: real Redis, the packaged embedder, both readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.document import Document
from ingest.pipeline import IngestPipeline
from retrieval.embedding.embedder import Embedder
from retrieval.engine import QAEngine
from retrieval.errors import IndexMissing, InvalidQuestion
from retrieval.settings import Settings
from retrieval.types import DocMeta

DOCS = [
    ("handbook-keys", "handbook", ("security",), 1_700_000_000,
     "API keys expire after 90 days. To rotate the API key, open the admin console and click "
     "Rotate key. The old key keeps working for 24 hours."),
    ("handbook-leave", "handbook", ("hr",), 1_710_000_000,
     "Full-time employees get 28 days of paid vacation per year. Parents get 20 weeks of paid "
     "parental leave."),
    ("wiki-dock", "wiki", ("hardware",), 1_720_000_000,
     "The docking station model QZ-88410 supports two external monitors. Its firmware is "
     "updated from the IT portal."),
    ("wiki-dock-2", "wiki", ("hardware",), 1_720_000_000,
     "Our office docking stations support external monitors and charge laptops over USB-C. "
     "Ask the IT desk for a spare docking station."),
    ("wiki-coffee", "wiki", ("office",), 1_730_000_000,
     "The coffee machine on the third floor is descaled every Monday morning by the facilities "
     "team."),
]  # fmt: skip


@pytest.fixture()
def engine(settings: Settings, embedder: Embedder, pipeline: IngestPipeline) -> QAEngine:
    docs = [
        Document(
            DocMeta(doc_id=i, title=f"Note {n}", source=s, tags=t, created=c, modified=c), text
        )
        for n, (i, s, t, c, text) in enumerate(DOCS)
    ]
    pipeline.ingest(docs)
    engine = QAEngine(settings, embedder=embedder)
    return engine


def test_sentence_reader_answers_a_fact_question_verbatim_with_its_source(engine: QAEngine) -> None:
    answer = engine.ask("How many vacation days do employees get?", reader="sentence")
    assert answer.answer == "Full-time employees get 28 days of paid vacation per year."
    assert answer.reader == "sentence" and answer.reason is None
    source = answer.sources[0]
    assert source["doc_id"] == "handbook-leave"
    assert source["text"][source["start"] : source["end"]] == answer.answer
    assert answer.explanation["reader"]["best_score"] >= answer.explanation["reader"]["threshold"]
    assert set(answer.timings) >= {"embed", "retrieve", "read", "total"}


def test_unrelated_question_gets_no_answer_and_the_closest_passages(engine: QAEngine) -> None:
    answer = engine.ask("Who won the football world cup in 1954?")
    assert answer.answer is None
    assert answer.reason in ("retrieval_too_weak", "reader_abstained")
    assert answer.sources, "the closest passages are still shown"


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        ({"source": "wiki"}, {"wiki-dock", "wiki-dock-2", "wiki-coffee"}),
        ({"tag": ["hr", "security"]}, {"handbook-keys", "handbook-leave"}),
        ({"doc_id": "wiki-coffee"}, {"wiki-coffee"}),
        ({"created": "..2023-12-31"}, {"handbook-keys"}),
        (
            {"source": "wiki", "created": ">=2024-06-01", "tag": "hardware"},
            {"wiki-dock", "wiki-dock-2"},
        ),
    ],
)
def test_filters_narrow_results_exactly(engine: QAEngine, filters: dict, allowed: set[str]) -> None:
    for question in ("How do I rotate the API key?", "docking station monitors", "vacation"):
        answer = engine.ask(question, k=10, filters=filters)
        returned = {s["doc_id"] for s in answer.sources}
        assert returned <= allowed, (filters, returned)
        assert returned, "something inside the filter is returned"
        assert answer.explanation["matched_chunks"] == len(allowed)


@pytest.mark.parametrize(
    "value",
    ['"', "}", "{", "@source:{wiki}", "a | b", "-wiki", "*", "wiki*", "ünïcødé ✓", "\\", "$x"],
)
def test_hostile_filter_values_match_nothing_and_never_break_the_query(
    engine: QAEngine, value: str
) -> None:
    for key in ("source", "tag", "doc_id", "text"):
        answer = engine.ask("docking station", filters={key: value})
        if key == "text" and not any(c.isalnum() for c in value):
            continue  # punctuation-only text terms filter nothing, by design
        assert answer.sources == [] and answer.answer is None, (key, value)
        assert answer.reason == "no_documents_match_filter"


def test_hybrid_finds_an_exact_product_code_whose_vector_match_is_weak(engine: QAEngine) -> None:
    question = "QZ-88410"
    hybrid = engine.retrieve(question, k=1, mode="hybrid")
    keyword = engine.retrieve(question, k=5, mode="keyword")
    vector = engine.retrieve(question, k=5, mode="vector")
    assert [h.doc_id for h in keyword.hits] == ["wiki-dock"], "only the code's document matches"
    dock = next(h for h in vector.hits if h.doc_id == "wiki-dock")
    assert dock.vector_score < 0.5, "a code means little to the embedding model"
    best = hybrid.hits[0]
    assert best.doc_id == "wiki-dock" and best.keyword_rank == 1 and best.vector_rank


def test_errors_say_what_to_do(engine: QAEngine, settings: Settings) -> None:
    with pytest.raises(InvalidQuestion, match="empty"):
        engine.ask("   ")
    with pytest.raises(InvalidQuestion, match="limit"):
        engine.ask("why " * 500)
    with pytest.raises(InvalidQuestion, match="between 1 and 50"):
        engine.ask("why?", k=0)
    fresh = QAEngine(
        settings.with_(index_name="none:idx", key_prefix="none"), embedder=engine.embedder
    )
    with pytest.raises(IndexMissing, match="qa ingest"):
        fresh.ask("why?")


def test_auto_reader_falls_back_to_sentence_when_no_span_model_is_on_disk(
    engine: QAEngine, tmp_path: Path
) -> None:
    engine.settings = engine.settings.with_(
        span_model=str(tmp_path / "no-model"), reader="auto", shipped_reader=None
    )
    answer = engine.ask("How many vacation days do employees get?")
    assert answer.reader == "sentence" and answer.answer


def test_displayed_context_is_whole_sentences(engine: QAEngine) -> None:
    answer = engine.ask("How long does the old key keep working?")
    for cand in answer.candidates:
        context = cand["context"]
        assert context[:1].isupper() and context.rstrip()[-1] in ".!?"
        assert cand["answer"] in context
