"""The span reader with a question-answering model the tests build (no hub download).

A randomly initialised BERT QA model of a real architecture, saved with the packaged
MiniLM tokenizer, exercises loading, striding and span decoding exactly as a trained one.
To check where spans land, one test swaps the network for a probe that puts all the
probability on a marker word, while the real tokenizer, striding and offsets do the rest.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from retrieval.errors import ModelUnavailable
from retrieval.readers.hub_span import SpanReader
from retrieval.types import Hit


@pytest.fixture()
def qa_model_dir(span_model: str) -> Path:
    return Path(span_model)


def _hit(text: str, key: str = "k1") -> Hit:
    return Hit(key=key, doc_id=key, text=text, score=1.0)


class _MarkerProbe(torch.nn.Module):
    """Start and end logits peak on the word pieces of a marker token."""

    def __init__(self, marker_id: int) -> None:
        super().__init__()
        self.marker_id = marker_id

    def forward(self, input_ids: torch.Tensor, **_: torch.Tensor) -> SimpleNamespace:
        logits = (input_ids == self.marker_id).float() * 20.0
        return SimpleNamespace(start_logits=logits, end_logits=logits)


def test_span_reader_loads_a_local_model_and_returns_verbatim_spans(qa_model_dir: Path) -> None:
    reader = SpanReader(str(qa_model_dir), threshold=0.0, local_only=True).warm_up()
    hits = [_hit("The cat sat on the mat. It was warm.", "a"), _hit("Dogs bark at night.", "b")]
    reading = reader.read("Where did the cat sit?", hits, n=3)
    assert reading.spans
    for span in reading.spans:
        assert span.hit.text[span.start : span.end] == span.text
        assert 0.0 < span.score <= 1.0


def test_long_chunk_is_strided_and_an_answer_near_its_end_is_found_with_exact_offsets(
    qa_model_dir: Path,
) -> None:
    reader = SpanReader(str(qa_model_dir), threshold=0.0, local_only=True).warm_up()
    filler = " ".join(f"Sentence {i} is about nothing in particular." for i in range(300))
    text = filler + " The answer is zebra and that is final."
    reader.model = _MarkerProbe(reader.tokenizer.convert_tokens_to_ids("zebra"))
    reading = reader.read("What is the answer?", [_hit(text)], n=1)
    enc = reader.tokenizer("q", text, truncation="only_second", max_length=384, stride=128,
                           return_overflowing_tokens=True)  # fmt: skip
    assert len(enc["input_ids"]) > 5, "the chunk needs several windows"
    span = reading.spans[0]
    assert span.text == "zebra"
    assert text[span.start : span.end] == "zebra" and span.start == text.index("zebra")


def test_best_span_below_threshold_gives_no_confident_answer(qa_model_dir: Path) -> None:
    reader = SpanReader(str(qa_model_dir), threshold=0.99, local_only=True).warm_up()
    reading = reader.read("Where did the cat sit?", [_hit("The cat sat on the mat.")], n=1)
    assert not reading.confident


def test_engine_uses_the_span_reader_when_its_model_loads_and_abstains_below_threshold(
    qa_model_dir: Path, settings, embedder, pipeline
) -> None:
    from ingest.document import Document
    from retrieval.engine import QAEngine
    from retrieval.types import DocMeta

    pipeline.ingest([Document(DocMeta(doc_id="d1", title="Cats"), "The cat sat on the mat.")])
    changed = {"span_model": str(qa_model_dir), "span_threshold": 2.0, "shipped_reader": None}
    engine = QAEngine(settings.with_(reader="auto", **changed), embedder=embedder)
    answer = engine.ask("Where did the cat sit?")
    assert answer.reader == "span"
    assert answer.answer is None and answer.reason == "reader_abstained"
    assert answer.explanation["reader"]["threshold"] == 2.0


def test_missing_model_is_a_clear_error_that_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="QA_SPAN_MODEL"):
        SpanReader(str(tmp_path / "nothing-here"), local_only=True).warm_up()
