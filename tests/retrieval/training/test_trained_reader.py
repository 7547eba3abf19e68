"""Training end to end with a tiny model (no real training in tests), and the trained reader.

The tiny BERT of the `span_model` fixture trains for seconds on a few of the sample's
questions: enough to check the two stages, the cache, labels from users, export, publishing
and how the engine finds, swaps and refuses models. Redis, spaCy, onnxruntime and the
engine are the real ones.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from retrieval.engine import QAEngine
from retrieval.errors import ModelUnavailable
from retrieval.feedback import FeedbackStore
from retrieval.index.chunks import ChunkIndex
from retrieval.readers.span_decoding import INPUTS, decode_group, encode
from retrieval.readers.trained import onnx_predictor
from retrieval.readers.trained_store import files_key, publish, read_manifest, remove_unswitched
from retrieval.settings import Settings
from retrieval.training import general, trainer
from retrieval.training.export import export_fp32
from retrieval.training.groups import Group, features
from tests.retrieval.training.conftest import QUESTIONS
from tests.retrieval.training.test_generate import ARTICLES
from workflows import training

ROOT = Path(__file__).resolve().parents[3]


def _train(engine: QAEngine, span_model: str, **kw) -> dict:  # type: ignore[no-untyped-def]
    return training.train(engine, minutes=0.3, base=span_model, say=lambda m: None, **kw)


def _groups() -> list[Group]:
    context = "The tower was completed in 1889. It is 330 metres tall."
    return [
        Group("When was the tower completed?", (context, "Cats sleep a lot."), ((0, 27, 31),)),
        Group("How tall is the tower?", ("Cats sleep a lot.", context), ((1, 44, 54),)),
        Group("Who painted the moon?", ("Cats sleep a lot.", context)),
    ]


def test_the_shared_loss_falls_on_a_small_set_it_can_overfit(span_model: str) -> None:
    tokenizer, model = trainer.load_base(span_model)
    feats = features(tokenizer, _groups() * 4)
    model.eval()
    with torch.inference_mode():
        before = float(trainer.group_loss(model, feats))
    result = trainer.train(model, feats, 600, seed=0, progress=lambda p: None, max_steps=40,
                           learning_rate=1e-3)  # fmt: skip
    with torch.inference_mode():
        after = float(trainer.group_loss(model, feats))
    assert result.steps == 40 and after < 0.7 * before


def test_a_group_with_no_answer_targets_every_passages_cls(span_model: str) -> None:
    tokenizer, _ = trainer.load_base(span_model)
    [answered, _, refused] = features(tokenizer, _groups())
    assert refused["starts"] == refused["ends"] == [(0, 0), (1, 0)]
    [(row, start)] = answered["starts"]
    ids = answered["input_ids"][row]
    assert tokenizer.decode(ids[start : answered["ends"][0][1] + 1]) == "1889"


def test_the_exported_onnx_gives_the_torch_models_spans(span_model: str, tmp_path: Path) -> None:
    tokenizer, model = trainer.load_base(span_model)
    group = _groups()[0]
    enc = encode(tokenizer, group.question, list(group.contexts))
    inputs = {k: enc[k].astype(np.int64) for k in INPUTS}
    from_torch = decode_group(enc, *trainer.torch_predictor(model)(inputs), k=3)
    from_onnx = decode_group(enc, *onnx_predictor(export_fp32(model, tokenizer, tmp_path))(inputs),
                             k=3)  # fmt: skip
    assert [(d.row, d.start, d.end) for d in from_onnx.spans] == [
        (d.row, d.start, d.end) for d in from_torch.spans
    ]
    assert from_onnx.null == pytest.approx(from_torch.null, abs=1e-3)


def test_auto_answers_with_the_trained_reader_once_one_is_published(
    engine_: QAEngine, small_sample: None, span_model: str
) -> None:
    assert engine_.reader_for(None).name == "sentence"
    manifest = _train(engine_, span_model)
    assert manifest["index"]["chunks"] == engine_.index.count_chunks()
    assert manifest["examples"]["generated"] > 0 and manifest["examples"]["real"] > 0
    assert manifest["general"]["held_out"]["n"] == QUESTIONS
    assert engine_.reader_for(None).name == "trained"  # no restart needed
    own = engine_.ask("When was the Eiffel Tower completed?", reader="trained")
    assert own.reader == "trained"
    # auto chooses per question: the sentence reader only where the trained one abstains
    read = own.explanation["reader"]
    auto = engine_.ask("When was the Eiffel Tower completed?")
    assert auto.reader == ("trained" if read["best_score"] >= read["threshold"] else "sentence")
    _, reading, _ = engine_.examine("When was the Eiffel Tower completed?", reader="trained")
    assert reading.spans and set(reading.signals) == {"no_answer", "span_probability",
                                                      "over_no_answer"}  # fmt: skip
    for span in reading.spans:
        assert span.hit.text[span.start : span.end] == span.text


def test_the_general_stage_is_trained_once_and_a_damaged_cache_is_trained_again(
    engine_: QAEngine, small_sample: None, span_model: str
) -> None:
    said: list[str] = []
    first = training.general_stage(engine_, base=span_model, say=said.append)
    assert said and "once per machine" in said[0]
    said.clear()
    again = training.general_stage(engine_, base=span_model, say=said.append)
    assert not said and again.manifest["created"] == first.manifest["created"]
    weights = first.folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-64] + b"\0" * 64)
    stage, why = general.cached(engine_.settings.data_dir, first.manifest["key"])
    assert stage is None and "damaged" in why
    retrained = training.general_stage(engine_, base=span_model, say=said.append)
    assert said and "damaged" in said[0]
    assert general.cached(engine_.settings.data_dir, retrained.manifest["key"])[0] is not None


def test_an_unreadable_cache_manifest_is_never_used(
    engine_: QAEngine, small_sample: None, span_model: str
) -> None:
    stage = training.general_stage(engine_, base=span_model, say=lambda m: None)
    (stage.folder / "manifest.json").write_text("{not json", encoding="utf-8")
    assert general.cached(engine_.settings.data_dir, stage.manifest["key"])[0] is None


def test_thumbs_up_and_captured_answers_are_learnt_from_and_counted(
    engine_: QAEngine, small_sample: None, span_model: str
) -> None:
    store = FeedbackStore(engine_.index.client, engine_.settings.key_prefix)
    tower = dict(ARTICLES)["tower"]
    store.record(question="How tall is the tower?", answer="330 metres", vote="up", user="U1",
                 sources=[{"text": tower, "doc_id": "tower"}], origin="http")  # fmt: skip
    store.record(question="Who keeps the keys?", answer="The platform team keeps the keys.",
                 sources=[{"text": "The platform team keeps the keys. Ask them.",
                           "doc_id": "slack-C1-1"}], vote="capture", user="U2",
                 origin="capture")  # fmt: skip
    store.record(question="How tall?", answer="330 metres", vote="down", user="U3",
                 sources=[{"text": tower, "doc_id": "tower"}])  # fmt: skip
    manifest = _train(engine_, span_model)
    assert manifest["examples"]["from_users"] == 2


def test_a_team_squad_file_is_learnt_from_and_a_file_that_is_not_squad_is_an_error(
    engine_: QAEngine, small_sample: None, span_model: str, tmp_path: Path
) -> None:
    from retrieval.errors import ConfigError

    context = dict(ARTICLES)["tower"]
    data = {
        "data": [
            {
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {
                                "question": "How tall is it?",
                                "answers": [
                                    {
                                        "text": "330 metres",
                                        "answer_start": context.index("330 metres"),
                                    }
                                ],
                            }
                        ],
                    }
                ]
            }
        ]
    }
    path = tmp_path / "team.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert _train(engine_, span_model, squad=[path])["examples"]["labelled"] == 1
    path.write_text('{"rows": [1, 2]}', encoding="utf-8")
    with pytest.raises(ConfigError, match="SQuAD"):
        _train(engine_, span_model, squad=[path])


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
    engine_: QAEngine, small_sample: None, span_model: str
) -> None:
    first = _train(engine_, span_model)
    assert engine_.reader_for(None).manifest["sha"] == first["sha"]

    def interrupt(progress: dict[str, float]) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _train(engine_, span_model, seed=1, progress=interrupt)
    prefix = engine_.settings.key_prefix
    assert read_manifest(engine_.index.client, prefix)["sha"] == first["sha"]
    assert engine_.reader_for(None).manifest["sha"] == first["sha"]


def test_status_shows_the_stages_and_the_labels_waiting(
    cli_env: dict[str, str], engine_: QAEngine, small_sample: None, span_model: str
) -> None:
    from click.testing import CliRunner

    from bot.cli import cli

    env = {**cli_env, "QA_DATA_DIR": str(engine_.settings.data_dir)}

    def status():  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, ["train-reader", "--status", "--base", span_model], env=env)

    result = status()
    assert result.exit_code == 1
    assert "general stage: not trained on this machine yet" in result.output
    assert "has no trained reader yet: run `qa train-reader`" in result.output
    _train(engine_, span_model)
    result = status()
    assert result.exit_code == 0, result.output
    assert "general stage: cached" in result.output
    assert "labelled examples from users: 0" in result.output
    assert f"{engine_.index.count_chunks()} chunks" in result.output
    assert "held-out generated questions: EM" in result.output


STORING = """
import sys
import redis
from retrieval.redis.lease import Lease
from retrieval.readers.trained_store import files_key, writing_key
client = redis.Redis(unix_socket_path=sys.argv[1])
lease = Lease(client, writing_key(sys.argv[2], "5702ed"), "qa train-reader")
assert lease.acquire()
client.hset(files_key(sys.argv[2], "5702ed"), "model.onnx", b"half written")
print("storing", flush=True)
sys.stdin.read()
lease.release()
"""


def test_the_next_training_removes_reader_files_stored_but_never_switched_to(
    engine_: QAEngine, small_sample: None, span_model: str, redis_server
) -> None:
    client, prefix = engine_.index.client, engine_.settings.key_prefix
    first = _train(engine_, span_model)
    # What a training stopped by SIGTERM after storing its files and before switching leaves.
    client.hset(files_key(prefix, "0ff1ce"), mapping={"model.onnx": b"never used"})
    storing = subprocess.Popen(  # another training, storing its files right now
        [sys.executable, "-c", STORING, str(redis_server.socket_path), prefix], cwd=ROOT,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert storing.stdout.readline().strip() == "storing"
        assert remove_unswitched(client, prefix) == ["0ff1ce"]  # not the live one's
        client.hset(files_key(prefix, "0ff1ce"), mapping={"model.onnx": b"never used"})
        said: list[str] = []
        second = training.train(engine_, minutes=0.3, base=span_model, seed=1, say=said.append)
        assert any("removed 1 trained reader(s) stored but never used" in m for m in said)
        left = {k.decode().rsplit(":", 1)[1] for k in client.scan_iter(files_key(prefix, "*"))}
        assert left == {second["sha"], "5702ed"}  # the live one and the one being stored
        assert first["sha"] != second["sha"]
    finally:
        storing.communicate("")
    client.delete(files_key(prefix, "5702ed"))
