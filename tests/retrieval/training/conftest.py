"""Fixtures of the training tests: a few real sample questions and a fast general stage, an
index of short articles, and an engine on it that notices new models at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.document import Document
from ingest.pipeline import IngestPipeline
from retrieval.engine import QAEngine
from retrieval.index.chunks import ChunkIndex
from retrieval.settings import Settings
from retrieval.training import general
from retrieval.training.squad import SquadSet
from retrieval.types import DocMeta
from tests.retrieval.training.test_generate import ARTICLES

QUESTIONS = 12  # of each sample article the tests train on


@pytest.fixture()
def small_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two training articles and one held-out one of the real sample, a few questions each,
    and a general stage of seconds."""
    train, held = general.sample_sets()

    def few(squad: SquadSet, articles: int) -> SquadSet:
        questions = []
        for n in range(articles):
            questions += [q for q in squad.questions if q.context == n][:QUESTIONS]
        return SquadSet(squad.name, squad.contexts[:articles], questions)

    monkeypatch.setattr(general, "sample_sets", lambda: (few(train, 2), few(held, 1)))
    monkeypatch.setattr(general, "MINUTES", 0.1)


@pytest.fixture()
def fast_settings(settings: Settings, tmp_path: Path) -> Settings:
    # the index's own trained reader, without the shipped one (test_shipped.py beside this)
    return settings.with_(reader="auto", reader_check_s=0.0, data_dir=tmp_path / "data",
                          shipped_reader=None)  # fmt: skip


@pytest.fixture()
def articles(index: ChunkIndex, pipeline: IngestPipeline) -> ChunkIndex:
    pipeline.ingest(Document(DocMeta(doc_id=name, title=name), text) for name, text in ARTICLES)
    return index


@pytest.fixture()
def engine_(fast_settings: Settings, articles: ChunkIndex, embedder) -> QAEngine:
    return QAEngine(fast_settings, embedder=embedder)
