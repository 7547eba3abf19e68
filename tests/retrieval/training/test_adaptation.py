"""What `qa train` adapts per index, and that only one training runs per index at a time:
rerank weights fitted on the index's own generated questions, stored beside it and picked up
by running engines; the training lock (refused with the holder named, taken over once
expired, released on SIGTERM with the previous reader still answering). Real Redis, the real
embedder and generator; the tiny span model of `span_model` where a reader is trained."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bot.cli import cli
from ingest.document import Document
from ingest.pipeline import IngestPipeline
from retrieval.engine import QAEngine
from retrieval.index.chunks import ChunkIndex
from retrieval.query.filters import Filters
from retrieval.query.rerank import FEATURES, WEIGHTS, features
from retrieval.query.rerank_weights import RerankRecord, load, save
from retrieval.readers.trained_store import read_manifest
from retrieval.settings import Settings
from retrieval.training import general
from retrieval.training.lock import TrainingBusy, TrainingLock
from retrieval.training.rerank_fitting import fit_weights
from retrieval.types import DocMeta
from tests.retrieval.training.test_trained_reader import _train
from workflows.training import training_lock

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture()
def live_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.with_(reader_check_s=0.0, data_dir=tmp_path / "data")


@pytest.fixture()
def wiki(index: ChunkIndex, pipeline: IngestPipeline) -> ChunkIndex:
    """Two of the bundled sample's training articles: enough chunks to fit weights on."""
    for context in general.sample_sets()[0].contexts[:2]:
        pipeline.ingest([Document(DocMeta(doc_id=context.title, title=context.title),
                                  context.text)])  # fmt: skip
    return index


def test_rerank_weights_are_fitted_per_index_stored_and_used_by_a_running_engine(
    live_settings: Settings, wiki: ChunkIndex, embedder, settings: Settings
) -> None:
    running = QAEngine(live_settings, embedder=embedder)
    question = running.retrieve("When did the Normans invade England?")
    assert running.retriever.weights() is WEIGHTS and question.hits

    record = fit_weights(QAEngine(live_settings, embedder=embedder), questions=60)
    assert record is not None and record.questions >= 30
    assert load(wiki).weights == record.weights and set(record.weights) == set(FEATURES)
    other = QAEngine(settings.with_(index_name="elsewhere:idx", key_prefix="elsewhere"),
                     embedder=embedder)  # fmt: skip
    assert other.rerank_weights.current() is WEIGHTS  # another index keeps the defaults
    assert running.retriever.weights() == record.weights  # no restart

    chunk_only = {name: float(name == "chunk") for name in FEATURES}
    save(wiki, RerankRecord(chunk_only, 60, {}, wiki.schema.model, 1, 1.0))
    asked = "Who was the Norman leader who swore fealty?"
    hits = running.retrieve(asked, k=5).hits
    vector = embedder.embed_query(asked)
    fused = running.retriever.candidates(asked, vector, 30, Filters())[:30]
    best = np.argmax(features(asked, fused)[:, FEATURES.index("chunk")])
    assert hits[0].key == fused[best].key


def test_a_corrupt_weights_record_is_logged_and_ignored(
    live_settings: Settings, wiki: ChunkIndex, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    running = QAEngine(live_settings, embedder=embedder)
    wiki.client.set(wiki.schema.rerank_key, b"\xff{not json")
    with caplog.at_level(logging.ERROR, logger="qa.rerank"):
        assert running.retrieve("When did the Normans invade England?").hits
    assert running.retriever.weights() is WEIGHTS
    assert "unreadable" in (running.rerank_weights.error or "") and "qa train" in caplog.text
    wiki.client.set(wiki.schema.rerank_key, '{"version": 99, "weights": {}}')
    assert running.rerank_weights.current() is WEIGHTS
    assert "another release" in (running.rerank_weights.error or "")


def test_a_second_training_is_refused_naming_who_holds_the_lock_and_since_when(
    engine: QAEngine, cli_env: dict[str, str]
) -> None:
    with training_lock(engine, "qa train"):
        for command in (["train"], ["train-reader", "--no-calibrate"]):
            result = CliRunner().invoke(cli, [*command, "--minutes", "6"], env=cli_env)
            assert result.exit_code == 1, result.output
            assert "is already being trained: `qa train` by pid" in result.output
            assert f"pid {os.getpid()} on " in result.output and " since " in result.output
    assert engine.index.client.get(engine.index.schema.training_lock_key) is None


@pytest.mark.parametrize("started", ['"soon"', "1e300", "null", "[1]"])
def test_a_lock_whose_value_another_program_garbled_still_gets_a_clear_refusal(
    engine: QAEngine, started: str
) -> None:
    client, key = engine.index.client, engine.index.schema.training_lock_key
    client.set(
        key, f'{{"host": "h", "pid": 7, "command": "qa train", "started": {started}}}', px=5000
    )
    with pytest.raises(TrainingBusy, match="by pid 7 on h since an unknown time"):
        TrainingLock(client, key, "qa train").acquire()
    client.delete(key)


def test_a_lock_left_by_a_killed_process_expires_and_is_taken_over(engine: QAEngine) -> None:
    client, key = engine.index.client, engine.index.schema.training_lock_key
    client.set(key, '{"host": "gone", "pid": 1, "command": "qa train", "started": 0}', px=300)
    time.sleep(0.4)
    lock = TrainingLock(client, key, "qa train", ttl_s=0.5, heartbeat_s=0.1)
    with lock:
        time.sleep(1.0)  # outlives its expiry: the heartbeat renews it
        assert client.get(key) == lock.value.encode()
    assert client.get(key) is None


@pytest.mark.usefixtures("small_sample")
def test_sigterm_mid_run_releases_the_lock_and_keeps_the_previous_reader(
    engine_: QAEngine, span_model: str, cli_env: dict[str, str]
) -> None:
    first = _train(engine_, span_model)  # also caches the general stage the run below reuses
    client, key = engine_.index.client, engine_.index.schema.training_lock_key
    env = {**os.environ, **cli_env, "QA_DATA_DIR": str(engine_.settings.data_dir)}
    run = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "train-reader", "--minutes", "1", "--base", span_model,
         "--no-calibrate"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while client.get(key) is None and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.get(key) is not None, run.communicate()[0].decode()[-2000:]
        time.sleep(3)  # well into the run: generating questions or training
        run.terminate()
        output = run.communicate(timeout=60)[0].decode()
    finally:
        run.kill()
    assert run.returncode == 128 + 15, output[-2000:]
    assert client.get(key) is None
    assert read_manifest(client, engine_.settings.key_prefix)["sha"] == first["sha"]
    assert engine_.reader_for(None).manifest["sha"] == first["sha"]
    with training_lock(engine_, "qa train"):  # the next run starts clean
        pass
