"""Time-budgeted fine-tuning of a span-extraction head on CPU.

The learning rate follows elapsed time, not steps: a short warm-up, then a linear decay that
reaches zero when the budget ends, so a run of any length finishes annealed.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.readers.span_decoding import INPUTS, Predict, decode_group, encode
from retrieval.training.groups import Group
from retrieval.training.metrics import exact_match, f1

BATCH = 16
LEARNING_RATE = 1.5e-4
WARMUP_SHARE = 0.05
FROZEN_LAYERS = 0
Progress = Callable[[dict[str, float]], None]


@dataclass
class TrainResult:
    examples_seen: int
    steps: int
    seconds: float
    last_loss: float


def load_base(base: str) -> tuple[Any, Any]:
    """The tokenizer and a span model: a fresh head on an encoder, or a saved span model."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "newly initialized qa_outputs" is the point here
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    model = AutoModelForQuestionAnswering.from_pretrained(base, local_files_only=True)
    return tokenizer, model


@dataclass(frozen=True)
class Checkpoint:
    """Where a long run saves its state every `every` steps, and resumes from when killed."""

    path: Path
    every: int = 200


def train(
    model: Any,
    feats: list[dict[str, Any]],
    seconds: float,
    seed: int,
    progress: Progress,
    max_steps: int | None = None,
    learning_rate: float = LEARNING_RATE,
    threads: int = 0,
    frozen_layers: int = FROZEN_LAYERS,
    checkpoint: Checkpoint | None = None,
) -> TrainResult:
    """Epochs over shuffled batches of groups until the time budget (or `max_steps`) is spent.

    `feats` are `groups.features`: each group's passages are one softmax (shared
    normalization), its answers' start and end tokens the targets. With a `checkpoint` the
    run resumes where a killed one stopped: same batches, same schedule (give it `max_steps`
    and an infinite budget for a run that is the same however often it was interrupted)."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(threads or len(os.sched_getaffinity(0)) or 1)
    rng = random.Random(seed)
    learnt = _trainable(model, frozen_layers)
    optimizer = torch.optim.AdamW(learnt, lr=learning_rate, weight_decay=0.01)
    done, seen = _resume(checkpoint, model, optimizer)
    model.train()
    began, steps, loss_value = time.monotonic(), 0, float("nan")
    while feats:
        for batch in _batches(feats, rng):
            if steps < done:  # trained before the interruption
                steps += 1
                continue
            elapsed = time.monotonic() - began
            if elapsed >= seconds or steps == max_steps:
                model.eval()
                return TrainResult(seen, steps, elapsed, loss_value)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate * _schedule(_spent(elapsed, seconds, steps, max_steps))
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = group_loss(model, batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(learnt, 1.0)
            optimizer.step()
            optimizer.zero_grad()
            seen, steps, loss_value = seen + len(batch), steps + 1, loss.item()
            if checkpoint is not None and steps % checkpoint.every == 0:
                _save_checkpoint(checkpoint, model, optimizer, steps, seen)
            progress(
                {
                    "seen": seen,
                    "loss": loss_value,
                    "elapsed": time.monotonic() - began,
                    "budget": seconds,
                    "steps": steps,
                    "max_steps": max_steps or 0,
                }
            )
    model.eval()
    return TrainResult(0, 0, 0.0, loss_value)


def checkpointed_steps(checkpoint: Checkpoint) -> int:
    """The steps a checkpoint holds (0: none yet)."""
    import torch

    if not checkpoint.path.exists():
        return 0
    return int(torch.load(checkpoint.path, map_location="cpu", weights_only=True)["steps"])


def _resume(checkpoint: Checkpoint | None, model: Any, optimizer: Any) -> tuple[int, int]:
    """The steps and examples a killed run had done, its weights and optimizer restored."""
    import torch

    if checkpoint is None or not checkpoint.path.exists():
        return 0, 0
    state = torch.load(checkpoint.path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"], strict=False)
    optimizer.load_state_dict(state["optimizer"])
    torch.manual_seed(int(state["steps"]))  # dropout continues from a known state
    return int(state["steps"]), int(state["seen"])


def _save_checkpoint(
    checkpoint: Checkpoint, model: Any, optimizer: Any, steps: int, seen: int
) -> None:
    """The learnt weights and the optimizer, written aside then renamed (a kill mid-write
    leaves the previous checkpoint)."""
    import torch

    names = {n for n, p in model.named_parameters() if p.requires_grad}
    learnt = {k: v for k, v in model.state_dict().items() if k in names}
    temp = checkpoint.path.with_suffix(".tmp")
    checkpoint.path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"model": learnt, "optimizer": optimizer.state_dict(), "steps": steps, "seen": seen}, temp
    )
    os.replace(temp, checkpoint.path)
    torch.manual_seed(steps)


def steps_for(feats: list[dict[str, Any]], epochs: float) -> int:
    """The steps `epochs` passes over `feats` take."""
    return max(1, int(epochs * len(_batches(feats, random.Random(0)))))


def _trainable(model: Any, frozen_layers: int) -> list[Any]:
    """The parameters to learn: the word embeddings and the lowest layers stay as the base
    model has them (general knowledge a few thousand questions should not move), which also
    makes a step ~2x faster on CPU (bf16 autocast does the rest; BENCHMARKS.md)."""
    frozen = [model.base_model.embeddings, *model.base_model.encoder.layer[:frozen_layers]]
    for part in frozen:
        for p in part.parameters():
            p.requires_grad = False
    return [p for p in model.parameters() if p.requires_grad]


def _batches(feats: list[dict[str, Any]], rng: random.Random) -> list[list[dict[str, Any]]]:
    """Groups shuffled, then packed into batches of about BATCH passages of similar length
    (padding is wasted work on two cores)."""
    order = sorted(range(len(feats)), key=lambda i: (_width(feats[i]), rng.random()))
    batches, current, rows = [], [], 0
    for i in order:
        n = len(feats[i]["input_ids"])
        if current and rows + n > BATCH:
            batches.append(current)
            current, rows = [], 0
        current.append(feats[i])
        rows += n
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def _width(feat: dict[str, Any]) -> int:
    return max(len(ids) for ids in feat["input_ids"]) // 16


def group_loss(model: Any, batch: list[dict[str, Any]]) -> Any:
    """Mean over groups of -log P(start) - log P(end), each a softmax over every passage
    token and [CLS] of the group, marginalised over the answer's occurrences."""
    import torch

    inputs, allowed = _tensors(batch)
    out = model(**inputs)
    start = out.start_logits.float().masked_fill(~allowed, -1e4)
    end = out.end_logits.float().masked_fill(~allowed, -1e4)
    width = start.shape[1]
    losses, row = [], 0
    for f in batch:
        n = len(f["input_ids"])
        for logits, targets in ((start, f["starts"]), (end, f["ends"])):
            flat = torch.log_softmax(logits[row : row + n].reshape(-1), dim=0)
            picked = flat[[r * width + t for r, t in targets]]
            losses.append(-torch.logsumexp(picked, dim=0))
        row += n
    return torch.stack(losses).sum() / (2 * len(batch))


def _tensors(batch: list[dict[str, Any]]) -> tuple[dict[str, Any], Any]:
    import torch

    rows = [
        (ids, types)
        for f in batch
        for ids, types in zip(f["input_ids"], f["token_type_ids"], strict=True)
    ]
    # padded to a multiple of 16: a dozen shapes whose CPU kernels are prepared once, not one
    # per width
    width = -(-max(len(ids) for ids, _ in rows) // 16) * 16
    ids = np.zeros((len(rows), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for r, (i, t) in enumerate(rows):
        ids[r, : len(i)], types[r, : len(t)], mask[r, : len(i)] = i, t, 1
    # a passage's own tokens (not its closing [SEP]) and [CLS] may be chosen
    allowed = (types == 1) & (mask == 1)
    allowed[np.arange(len(rows)), mask.sum(axis=1) - 1] = False
    allowed[:, 0] = True
    inputs = {
        "input_ids": torch.from_numpy(ids),
        "token_type_ids": torch.from_numpy(types),
        "attention_mask": torch.from_numpy(mask),
    }
    return inputs, torch.from_numpy(allowed)


def _spent(elapsed: float, seconds: float, steps: int, max_steps: int | None) -> float:
    """The share of the budget used: of the time, or of the steps when those end first."""
    return max(elapsed / seconds, steps / max_steps if max_steps else 0.0)


def _schedule(fraction: float) -> float:
    if fraction < WARMUP_SHARE:
        return max(fraction / WARMUP_SHARE, 0.01)
    return max(0.0, (1.0 - fraction) / (1.0 - WARMUP_SHARE))


def score(predict: Predict, tokenizer: Any, groups: list[Group]) -> dict[str, float]:
    """EM and F1 of the answer the reader would give from each answerable group's passages."""
    answerable = [g for g in groups if g.answerable]
    ems, f1s = [], []
    for b in range(0, len(answerable), 16):
        part = answerable[b : b + 16]
        enc = encode(
            tokenizer,
            [g.question for g in part for _ in g.contexts],
            [c for g in part for c in g.contexts],
        )
        starts, ends = predict({k: enc[k].astype(np.int64) for k in INPUTS})
        row = 0
        for g in part:
            rows = list(range(row, row + len(g.contexts)))
            read = decode_group(enc, starts, ends, rows=rows)
            row += len(g.contexts)
            d = read.spans[0] if read.spans else None
            guess = g.contexts[d.row - rows[0]][d.start : d.end] if d else ""
            c, a, e = g.answers[0]
            ems.append(exact_match(guess, g.contexts[c][a:e]))
            f1s.append(f1(guess, g.contexts[c][a:e]))
    n = max(len(ems), 1)
    return {"em": round(sum(ems) / n, 4), "f1": round(sum(f1s) / n, 4), "n": len(ems)}


def torch_predictor(model: Any) -> Predict:
    import torch

    def predict(inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():
            out = model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
        return out.start_logits.numpy(), out.end_logits.numpy()

    return predict
