"""Training mechanics and the trained reader, with a tiny model (no real training in tests).

The tiny BERT of the `span_model` fixture trains for seconds: enough to check that the
loss falls, that the ONNX export reads as torch does, and how the engine finds, swaps and
refuses published models. Redis, onnxruntime and the engine are the real ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ingest.document import Document
from ingest.pipeline import IngestPipeline
from retrieval.engine import QAEngine
from retrieval.errors import ModelUnavailable
from retrieval.index import ChunkIndex
from retrieval.readers.spans import decode, encode
from retrieval.settings import Settings
from retrieval.training import trainer
from retrieval.training.examples import corpus_sentences, synthesize
from retrieval.training.export import export_fp32, onnx_predictor
from retrieval.training.pipeline import train_reader
from retrieval.training.store import publish, read_manifest
from retrieval.types import DocMeta
from tests.training.test_examples import ARTICLES


def _examples(n: int):
    return [e for e in synthesize(corpus_sentences(ARTICLES), 0, 1000) if e.answer_start >= 0][:n]


def _loss(model, feats) -> float:
    model.eval()
    with torch.inference_mode():
        return float(model(**trainer._batch(feats)).loss)


def test_the_loss_falls_on_a_small_set_it_can_overfit(span_model: str) -> None:
    tokenizer, model = trainer.load_base(span_model)
    feats = trainer.features(tokenizer, _examples(16))
    before = _loss(model, feats)
    result = trainer.train(
        model, feats, 600, seed=0, progress=lambda p: None, max_steps=40, learning_rate=1e-3
    )
    assert result.steps == 40
    assert _loss(model, feats) < 0.7 * before


def test_the_exported_onnx_gives_the_torch_models_spans(span_model: str, tmp_path: Path) -> None:
    tokenizer, model = trainer.load_base(span_model)
    examples = _examples(8)
    enc = encode(tokenizer, [e.question for e in examples], [e.context for e in examples])
    inputs = {k: enc[k].astype(np.int64) for k in trainer.INPUTS}
    from_torch = decode(enc, *trainer.torch_predictor(model)(inputs))
    from_onnx = decode(enc, *onnx_predictor(export_fp32(model, tokenizer, tmp_path))(inputs))
    assert [(d.start, d.end) for d in from_onnx] == [(d.start, d.end) for d in from_torch]


@pytest.fixture()
def fast_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.with_(reader="auto", reader_check_s=0.0, data_dir=tmp_path / "data")


@pytest.fixture()
def articles(index: ChunkIndex, pipeline: IngestPipeline) -> ChunkIndex:
    pipeline.ingest(Document(DocMeta(doc_id=name, title=name), text) for name, text in ARTICLES)
    return index


def test_auto_answers_with_the_trained_reader_once_one_is_published(
    fast_settings: Settings, articles: ChunkIndex, embedder, span_model: str
) -> None:
    engine = QAEngine(fast_settings, embedder=embedder)
    assert engine.reader_for(None).name == "sentence"
    manifest = train_reader(articles, fast_settings.data_dir, minutes=0.1, base=span_model,
                            say=lambda m: None)  # fmt: skip
    assert manifest["index"]["chunks"] == articles.count_chunks()
    answer = engine.ask("When was the Eiffel Tower completed?")  # no restart needed
    assert answer.reader == "trained"
    source = answer.sources[0]
    assert answer.answer == next(
        c["answer"] for c in answer.candidates if c["doc_id"] == source["doc_id"]
    )
    assert answer.answer in source["text"]


def test_a_corrupt_model_falls_back_to_the_sentence_reader_with_the_reason(
    fast_settings: Settings, articles: ChunkIndex, embedder, span_model: str, tmp_path: Path
) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json"):
        (folder / name).write_bytes((Path(span_model) / name).read_bytes())
    (folder / "model.onnx").write_bytes(b"not a model")
    publish(articles.client, fast_settings.key_prefix, folder, {"base": "test"})
    engine = QAEngine(fast_settings, embedder=embedder)
    assert engine.reader_for("auto").name == "sentence"
    with pytest.raises(ModelUnavailable, match=r"does not load.*qa train-reader"):
        engine.reader_for("trained")


def test_interrupted_training_leaves_the_previous_model_in_use(
    fast_settings: Settings, articles: ChunkIndex, embedder, span_model: str
) -> None:
    first = train_reader(articles, fast_settings.data_dir, minutes=0.1, base=span_model,
                         say=lambda m: None)  # fmt: skip
    engine = QAEngine(fast_settings, embedder=embedder)
    assert engine.reader_for(None).manifest["sha"] == first["sha"]

    def interrupt(progress: dict[str, float]) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_reader(articles, fast_settings.data_dir, minutes=0.1, base=span_model,
                     seed=1, say=lambda m: None, progress=interrupt)  # fmt: skip
    assert read_manifest(articles.client, fast_settings.key_prefix)["sha"] == first["sha"]
    assert engine.reader_for(None).manifest["sha"] == first["sha"]


def test_status_says_when_the_index_has_no_trained_reader_and_shows_one_that_exists(
    cli_env: dict[str, str], settings: Settings, articles: ChunkIndex, span_model: str
) -> None:
    from click.testing import CliRunner

    from bot.cli import cli

    def status():
        return CliRunner().invoke(cli, ["train-reader", "--status"], env=cli_env)

    result = status()
    assert result.exit_code == 1
    assert "has no trained reader yet: run `qa train-reader`" in result.output
    train_reader(articles, settings.data_dir, minutes=0.1, base=span_model, say=lambda m: None)
    result = status()
    assert result.exit_code == 0, result.output
    assert f"{articles.count_chunks()} chunks" in result.output
    assert "held-out synthetic questions: EM" in result.output
