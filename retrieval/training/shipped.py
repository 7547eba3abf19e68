"""Building the reader the product ships: trained once, by us, on every bundled real question.

`qa train-reader --general` runs this: seeded, step-scheduled (the same run however often it
was interrupted) and checkpointed every few minutes into a work folder, so a killed run
continues where it stopped. What ships (`retrieval/readers/shipped/`, read by
`retrieval.readers.shipped`):
- `model.onnx`: the whole model, int8 (matrix multiplications and the word embeddings), for
  answering;
- `delta.safetensors`: the weights training changed, fp16 (the word embeddings are frozen:
  they are the packaged encoder's), from which `qa train` continues;
- the tokenizer files and `manifest.json`: the data's sha256s, the recipe, the seed, the
  measured scores and each file's sha256 (checked at load).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from retrieval.embedding.model_files import resolve_model_path
from retrieval.readers.shipped import sha256_of
from retrieval.readers.span_decoding import MAX_LENGTH, Predict
from retrieval.readers.trained import onnx_predictor
from retrieval.training import real_questions, trainer
from retrieval.training.export import export_fp32, quantize
from retrieval.training.groups import features
from retrieval.training.paraphrase import DEFAULT_BASE

RECIPE = "shipped-1"  # change it with the recipe: a new key starts a new run
EPOCHS = 1.0
LEARNING_RATE = 1e-4  # lower than an index's short runs: tens of thousands of steps' worth
CHECKPOINT_EVERY = 100  # steps: about a minute on two cores
INT8_OPERATORS = ("MatMul", "Gather")  # Gather: the word embeddings, 47 MB in fp32
ANSWERING_FILES = ("model.onnx", "tokenizer.json", "config.json")
FILES = (
    *ANSWERING_FILES,
    "delta.safetensors",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
)
Say = Callable[[str], None]
Measure = Callable[[Any, Predict, float], dict[str, Any]]  # (tokenizer, predict, prior) -> scores
Fit = Callable[[Any, Predict], float]  # the retrieval prior's weight for a model


def run_key(
    base: str, seed: int, names: Sequence[str] | None, limit: int | None, data: dict[str, str]
) -> str:
    """What a run depends on: a checkpoint of another key is never resumed."""
    parts = {
        "recipe": RECIPE,
        "base": base,
        "seed": seed,
        "names": sorted(names or []),
        "limit": limit,
        "data": data,
        "epochs": EPOCHS,
        "lr": LEARNING_RATE,
        "batch": trainer.BATCH,
        "max_length": MAX_LENGTH,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def build(
    out: Path,
    work: Path,
    *,
    base: str,
    seed: int = 0,
    names: Sequence[str] | None = None,
    limit: int | None = None,
    threads: int = 0,
    say: Say = print,
    progress: trainer.Progress | None = None,
    fit: Fit | None = None,
    measure: Measure | None = None,
    snapshots: Sequence[int] = (),
    checkpoint_every: int | None = None,
) -> dict[str, Any]:
    """Train on the bundled real questions (the files starting with `names`, at most `limit`
    questions), export into `out` and return the manifest. `fit` chooses the retrieval
    prior's weight and `measure` scores the model through retrieval (both need an index:
    the caller has one); `snapshots` keeps the learnt weights after so many questions read,
    for the learning curve."""
    began = time.monotonic()
    base_name = DEFAULT_BASE if base == resolve_model_path(DEFAULT_BASE) else Path(base).name
    data = real_questions.sha256s()  # decompresses every file: once
    key = run_key(base_name, seed, names, limit, data)
    work = work / f"shipped-{key}"
    chosen = real_questions.parts(names)
    groups = list(real_questions.all_groups(chosen, seed))
    held = list(real_questions.all_groups(chosen, seed, held=True))
    if limit is not None:  # a quick run: as many held-out questions as trained on, at most
        groups = random.Random(seed).sample(groups, min(limit, len(groups)))
        held = random.Random(seed).sample(held, min(limit, len(held)))
    tokenizer, model = trainer.load_base(base)
    feats = features(tokenizer, groups)
    steps = trainer.steps_for(feats, EPOCHS)
    say(
        f"{len(feats)} real questions with their passages ({len(held)} held out), "
        f"{steps} steps; checkpoints in {work}"
    )
    checkpoint = trainer.Checkpoint(work / "checkpoint.pt", checkpoint_every or CHECKPOINT_EVERY)
    if done := trainer.checkpointed_steps(checkpoint):
        say(f"resuming at step {done} of {steps} (a checkpoint of this run)")
    keep = _snapshot_keeper(checkpoint, sorted(snapshots), progress)
    result = trainer.train(
        model,
        feats,
        float("inf"),
        seed,
        keep,
        max_steps=steps,
        learning_rate=LEARNING_RATE,
        threads=threads,
        checkpoint=checkpoint,
    )
    manifest: dict[str, Any] = {
        "recipe": RECIPE,
        "key": key,
        "base": base_name,
        "seed": seed,
        "data": data,
        "parts": {p.name: len(p.train.questions) for p in chosen},
        "questions": len(feats),
        "held_out_questions": len(held),
        "steps": result.steps,
        "read": result.examples_seen,
        "epochs": EPOCHS,
        "learning_rate": LEARNING_RATE,
        "threads": threads or len(os.sched_getaffinity(0)),
        "train_minutes_this_run": round(result.seconds / 60, 1),
    }
    with tempfile.TemporaryDirectory(prefix="qa-shipped-") as tmp:
        folder, scores = _export(model, tokenizer, Path(tmp), held)
        predict = onnx_predictor(folder / "model.onnx")
        weight = fit(tokenizer, predict) if fit else 0.0
        manifest.update(scores, prior_weight=weight)
        if measure is not None:
            manifest["through_retrieval"] = measure(tokenizer, predict, weight)
        _save_delta(model, folder / "delta.safetensors")
        manifest["minutes"] = round((time.monotonic() - began) / 60, 1)
        manifest["created"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        _install(folder, out, manifest)
    return manifest


def _snapshot_keeper(
    checkpoint: trainer.Checkpoint, thresholds: list[int], progress: trainer.Progress | None
) -> trainer.Progress:
    """A progress callback that also copies the checkpoint once `seen` passes a threshold."""
    pending = list(thresholds)

    def keep(p: dict[str, float]) -> None:
        while pending and p["seen"] >= pending[0] and p["steps"] % checkpoint.every == 0:
            shutil.copy(checkpoint.path, checkpoint.path.parent / f"after-{pending.pop(0)}.pt")
        if progress is not None:
            progress(p)

    return keep


def _export(model: Any, tokenizer: Any, tmp: Path, held: list[Any]) -> tuple[Path, dict]:
    """int8 ONNX, scored beside fp32 on the held-out questions (their passages given)."""
    fp32 = export_fp32(model, tokenizer, tmp / "model")
    int8 = quantize(fp32, tmp / "int8.onnx", INT8_OPERATORS)
    scores = {
        "fp32": trainer.score(onnx_predictor(fp32), tokenizer, held),
        "int8": trainer.score(onnx_predictor(int8), tokenizer, held),
    }
    int8.replace(fp32)
    model.config.save_pretrained(str(fp32.parent))
    return fp32.parent, {"held_out": scores}


def _save_delta(model: Any, path: Path) -> None:
    from safetensors.torch import save_file

    learnt = {
        n: p.detach().half().contiguous() for n, p in model.named_parameters() if p.requires_grad
    }
    save_file(learnt, str(path))


def _install(folder: Path, out: Path, manifest: dict[str, Any]) -> None:
    """The files checksummed into the manifest, then moved into `out` at once."""
    manifest["files"] = {n: sha256_of(folder / n) for n in FILES}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = out.with_name(f".{out.name}.new")
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(folder, staged, ignore=shutil.ignore_patterns("*.onnx.data"))
    if out.exists():
        shutil.rmtree(out)
    os.replace(staged, out)
