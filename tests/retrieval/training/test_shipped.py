"""The reader the product ships: it answers on a fresh index, refuses damaged files, is what
`qa train` continues from, and the command that builds it resumes a killed run."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

from ingest.pipeline import IngestPipeline
from retrieval.embedding.model_files import resolve_model_path
from retrieval.engine import QAEngine
from retrieval.errors import ModelUnavailable
from retrieval.index.chunks import ChunkIndex
from retrieval.readers import shipped
from retrieval.readers.passages import passages
from retrieval.readers.trained import TrainedReader, rank_answers
from retrieval.readers.trained_store import read_manifest
from retrieval.settings import Settings
from retrieval.training import general, trainer
from retrieval.training.paraphrase import DEFAULT_BASE
from workflows import training

QUESTION = "In what year did the Normans invade England?"


@pytest.fixture()
def shipped_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "shipped"
    shutil.copytree(shipped.FOLDER, folder)
    return folder


def _engine(settings: Settings, embedder, **changes) -> QAEngine:  # type: ignore[no-untyped-def]
    return QAEngine(settings.with_(reader="auto", **changes), embedder=embedder)


def test_a_fresh_index_answers_with_the_shipped_reader_from_the_first_question(
    settings: Settings, articles: ChunkIndex, embedder
) -> None:
    engine = _engine(settings, embedder)
    answer = engine.ask(QUESTION)
    assert answer.reader == "trained" and answer.reason is None
    assert "1066" in answer.answer
    assert engine.reader_for(None).version.startswith("shipped-")


def test_a_sure_first_window_ends_the_reading_with_the_whole_reading_s_answer(
    settings: Settings, articles: ChunkIndex, embedder
) -> None:
    engine = _engine(settings, embedder)
    shipped_one = engine.reader_for(None)
    rows: list[int] = []

    def counted(feed):  # type: ignore[no-untyped-def]
        rows.append(len(feed["input_ids"]))
        return shipped_one.predict(feed)

    reader = TrainedReader(shipped_one.tokenizer, counted, shipped_one.manifest)
    for question, sure in ((QUESTION, True), ("What is the colour of the tax on tea?", False)):
        rows.clear()
        hits = engine.retrieve(question).hits
        chosen = passages(question, hits)
        reading = reader.read(question, hits, 3)
        assert len(chosen) > 1
        assert rows == ([1] if sure else [1, len(chosen) - 1])
        whole = rank_answers(chosen, shipped_one.score(question, chosen), reader.prior_weight)
        assert reading.spans[0].text == whole[0].text
    assert "1066" in reader.read(QUESTION, engine.retrieve(QUESTION).hits, 3).spans[0].text


SHELL_OPTIONS = """# Shell options

The `set` builtin changes how the shell behaves. Each option below is turned on with `set -o NAME`.

errexit
: Exit immediately if a pipeline returns a non-zero status.

noclobber
: Prevent output redirection using `>` from overwriting existing files.

pipefail
: If set, the return value of a pipeline is the value of the last command to exit with a \
non-zero status.

xtrace
: Print a trace of simple commands and their arguments after they are expanded and before \
they are executed.
"""


def test_auto_asks_the_sentence_reader_only_where_the_span_model_is_sure_of_no_answer(
    settings: Settings, index: ChunkIndex, pipeline: IngestPipeline, embedder, tmp_path: Path
) -> None:
    manual = tmp_path / "options.md"
    manual.write_text(SHELL_OPTIONS, encoding="utf-8")
    assert not pipeline.run([manual], source="manual").failed
    engine = _engine(settings, embedder)
    # the span model finds nothing in a definition list asked in other words: the sentence
    # reader shows the option with its description
    _, reading, chosen = engine.examine("Is there a way to log each command as it executes?")
    assert chosen.name == "sentence" and "xtrace" in reading.spans[0].text
    # where it only hesitates and the picker finds an answer, its own span answers
    question = "Which option exits on a failing pipeline?"
    _, reading, chosen = engine.examine(question)
    assert chosen.name == "trained" and 0.1 <= reading.best_score < 0.5 and reading.confident
    assert reading.spans[0].text.startswith("errexit")
    assert engine.ask(question).reason != "reader_abstained"


def test_the_shipped_manifest_says_what_went_in(shipped_copy: Path) -> None:
    m = shipped.manifest(shipped_copy)
    assert m["recipe"] and m["seed"] == 0 and m["questions"] > 10_000
    assert set(m["data"]) >= {"squad-v1.1-train-sample.json", "squadshifts-new_wiki_v1.0.json"}
    assert all(len(sha) == 64 for sha in m["data"].values())
    assert m["held_out"]["int8"]["n"] > 0 and "through_retrieval" in m


def test_a_damaged_shipped_weight_file_is_refused_and_the_sentence_reader_answers(
    settings: Settings, articles: ChunkIndex, embedder, shipped_copy: Path
) -> None:
    model = shipped_copy / "model.onnx"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    engine = _engine(settings, embedder, shipped_reader=shipped_copy)
    assert engine.ask(QUESTION).reader == "sentence"
    with pytest.raises(ModelUnavailable, match=r"model.onnx is damaged.*reinstall"):
        engine.reader_for("trained")


def test_a_missing_shipped_weight_file_is_refused_with_what_to_do(shipped_copy: Path) -> None:
    (shipped_copy / "delta.safetensors").unlink()
    with pytest.raises(ModelUnavailable, match=r"delta.safetensors is missing.*reinstall"):
        shipped.manifest(shipped_copy)
    (shipped_copy / shipped.MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelUnavailable, match=r"manifest .* is damaged"):
        shipped.manifest(shipped_copy)


def test_an_index_s_training_continues_from_the_shipped_weights(tmp_path: Path) -> None:
    base = resolve_model_path(DEFAULT_BASE)
    stage = general.from_shipped(base, tmp_path)
    assert stage.manifest["shipped"] and stage.manifest["key"].startswith("shipped-")
    _, model = trainer.load_base(str(stage.folder))
    delta = load_file(str(shipped.FOLDER / "delta.safetensors"))
    state = model.state_dict()
    for name, value in delta.items():
        assert (state[name].half() == value).all(), name
    assert 0 < len(stage.groups()) <= general.REAL_MIX + 10


def test_qa_train_keeps_the_shipped_reader_unless_the_adaptation_reads_better(
    settings: Settings, articles: ChunkIndex, embedder, tmp_path: Path
) -> None:
    engine = _engine(settings, embedder, data_dir=tmp_path / "data", reader_check_s=0.0)
    manifest = training.train(engine, minutes=1.0, say=lambda m: None)
    verdict = manifest["against_shipped"]
    assert {"adapted", "shipped", "better"} <= set(verdict)
    assert verdict["adapted"]["real"]["n"] > 0 and verdict["shipped"]["generated"]["n"] >= 0
    published = read_manifest(engine.index.client, settings.key_prefix)
    if verdict["better"]:
        assert published["sha"] == manifest["sha"] == engine.reader_for(None).version
    else:
        assert published is None and manifest["published"] is False
        assert engine.reader_for(None).version.startswith("shipped-")


def test_the_general_build_resumes_where_a_killed_run_stopped(tmp_path: Path) -> None:
    work, out = tmp_path / "work", tmp_path / "out"
    command = [
        str(Path(sys.executable).parent / "qa"), "train-reader", "--general", "--only",
        "squad-v1.1-train-sample", "--limit", "48", "--checkpoint-every", "1", "--no-measure",
        "--out", str(out), "--work", str(work), "--json",
    ]  # fmt: skip
    env = {**os.environ, "QA_DATA_DIR": str(tmp_path / "data"), "QA_TRAIN_THREADS": "1"}
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not list(work.glob("*/checkpoint.pt")) and first.poll() is None:
        assert time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    [checkpoint] = work.glob("*/checkpoint.pt")
    done = trainer.checkpointed_steps(trainer.Checkpoint(checkpoint))
    assert done >= 1 and not out.exists()
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    resumed = re.search(r"resuming at step (\d+) of (\d+)", again.stderr)
    assert resumed and int(resumed[1]) == done
    manifest = json.loads(again.stdout)
    assert manifest["steps"] == int(resumed[2]) and 40 <= manifest["questions"] <= 48
    assert shipped.manifest(out)["files"] == manifest["files"]
