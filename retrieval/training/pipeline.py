"""`qa train-reader` end to end: examples from the index, fine-tuning, export, publishing.

The budget covers everything: generation and tokenising are measured and the rest of the
minutes go to training, less a reserve for export and scoring.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from retrieval.errors import ConfigError, IndexMissing
from retrieval.index import ChunkIndex
from retrieval.model_files import resolve_model_path
from retrieval.training import trainer
from retrieval.training.examples import (
    Example,
    corpus_sentences,
    reworded,
    split_held_out,
    squad_examples,
    synthesize,
)  # fmt: skip
from retrieval.training.export import export_fp32, onnx_predictor, quantize
from retrieval.training.paraphrase import Paraphraser
from retrieval.training.store import MODEL_FILE, publish

DEFAULT_BASE = "packaged:all-MiniLM-L6-v2"
EXPORT_RESERVE_S = 60.0  # export, int8, held-out scoring, storing
MAX_EXAMPLES = 60_000  # more than 20 minutes can read on 2 cores
HELD_OUT_SCORED = 400
INT8_TOLERANCE = 0.01  # int8 is kept when its held-out F1 is within 1 point of fp32
Say = Callable[[str], None]


def fingerprint(index: ChunkIndex) -> dict[str, Any]:
    return {
        "name": index.schema.name,
        "documents": sum(1 for _ in index.documents()),
        "chunks": index.count_chunks(),
    }


def train_reader(
    index: ChunkIndex, data_dir: Path, *, minutes: float, seed: int = 0,
    squad: list[Path] | None = None, base: str = DEFAULT_BASE, say: Say = print,
    progress: trainer.Progress | None = None, threads: int = 0,
) -> dict[str, Any]:  # fmt: skip
    """Train, export, score and publish a reader for `index`; returns its manifest."""
    began, budget = time.monotonic(), minutes * 60
    chunks = list(index.chunk_texts(index.every_chunk_key()))
    if not chunks:
        raise IndexMissing(f"index {index.schema.name} is empty: `qa ingest` documents first")
    tokenizer, model = trainer.load_base(resolve_model_path(base))
    sentences = corpus_sentences(chunks)
    synthetic = synthesize(sentences, seed, MAX_EXAMPLES)
    examples, held = split_held_out(
        reworded(synthetic, Paraphraser.from_model(tokenizer, model), seed)
    )
    labelled = [e for path in squad or [] for e in squad_examples(path)]
    say(
        f"{len(chunks)} chunks, {len(sentences)} sentences: {len(examples)} synthetic examples "
        f"(+{len(held)} held out), {len(labelled)} labelled, in {time.monotonic() - began:.0f}s"
    )
    feats = trainer.features(tokenizer, labelled + examples)
    seconds = budget - (time.monotonic() - began) - min(EXPORT_RESERVE_S, budget / 4)
    if seconds <= 1:
        raise ConfigError(f"{minutes} minutes leave no time to train: give --minutes more")
    result = trainer.train(
        model, feats, seconds, seed, progress or (lambda p: None), threads=threads
    )
    with tempfile.TemporaryDirectory(prefix="qa-reader-", dir=_scratch(data_dir)) as tmp:
        folder, scores = _export(model, tokenizer, Path(tmp), held[:HELD_OUT_SCORED])
        manifest = {
            "base": base, "index": fingerprint(index), "seed": seed,
            "examples": {"synthetic": len(examples), "labelled": len(labelled),
                         "held_out": len(held), "trained_on": result.examples_seen},
            "minutes": round((time.monotonic() - began) / 60, 1),
            "train_seconds": round(result.seconds), "steps": result.steps,
            "final_loss": round(result.last_loss, 3), **scores,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }  # fmt: skip
        manifest["sha"] = publish(index.client, index.schema.prefix, folder, manifest)
    return manifest


def _export(
    model: Any, tokenizer: Any, tmp: Path, held: list[Example]
) -> tuple[Path, dict[str, Any]]:
    """fp32 and int8 exports scored on the held-out set; the folder keeps the one to use."""
    fp32 = export_fp32(model, tokenizer, tmp / "model")
    int8 = quantize(fp32, tmp / "int8.onnx")
    held_fp32 = trainer.score(onnx_predictor(fp32), tokenizer, held)
    held_int8 = trainer.score(onnx_predictor(int8), tokenizer, held)
    use_int8 = held_int8["f1"] >= held_fp32["f1"] - INT8_TOLERANCE
    if use_int8:
        int8.replace(fp32.parent / MODEL_FILE)
    chosen = held_int8 if use_int8 else held_fp32
    return fp32.parent, {
        "precision": "int8" if use_int8 else "fp32",
        "held_out": {"em": chosen["em"], "f1": chosen["f1"], "n": chosen["n"],
                     "fp32": held_fp32, "int8": held_int8},
    }  # fmt: skip


def _scratch(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir
