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
from typing import Any

import numpy as np

from retrieval.metrics import exact_match, f1
from retrieval.readers.spans import MAX_LENGTH, decode, encode
from retrieval.training.examples import Example

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
BATCH = 16
LEARNING_RATE = 1.5e-4
WARMUP_SHARE = 0.05
Progress = Callable[[dict[str, float]], None]


@dataclass
class TrainResult:
    examples_seen: int
    steps: int
    seconds: float
    last_loss: float


def load_base(base: str) -> tuple[Any, Any]:
    """The tokenizer and a span model with a fresh head on the base encoder."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "newly initialized qa_outputs" is the point here
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    model = AutoModelForQuestionAnswering.from_pretrained(base, local_files_only=True)
    return tokenizer, model


def features(tokenizer: Any, examples: list[Example]) -> list[dict[str, Any]]:
    """Token ids with start/end token targets; examples whose answer was cut off are dropped."""
    enc = tokenizer(
        [e.question for e in examples], [e.context for e in examples],
        truncation="longest_first", max_length=MAX_LENGTH, return_offsets_mapping=True,
    )  # fmt: skip
    out = []
    for row, e in enumerate(examples):
        target = _targets(enc, row, e)
        if target is not None:
            out.append(
                {
                    "input_ids": enc["input_ids"][row],
                    "token_type_ids": enc["token_type_ids"][row],
                    "start": target[0],
                    "end": target[1],
                }
            )
    return out


def _targets(enc: Any, row: int, e: Example) -> tuple[int, int] | None:
    if e.answer_start < 0:
        return 0, 0
    a, b = e.answer_start, e.answer_start + len(e.answer)
    ids, offsets = enc.sequence_ids(row), enc["offset_mapping"][row]
    start = end = None
    for i, (s, t) in enumerate(offsets):
        if ids[i] != 1:
            continue
        if (start is None and s <= a < t) or (start is None and s >= a):
            start = i
        if s < b:
            end = i
    if start is None or end is None or end < start or offsets[end][1] < b:
        return None
    return start, end


def train(
    model: Any, feats: list[dict[str, Any]], seconds: float, seed: int, progress: Progress,
    max_steps: int | None = None, learning_rate: float = LEARNING_RATE, threads: int = 0,
) -> TrainResult:  # fmt: skip
    """Epochs over shuffled batches until the time budget (or `max_steps`) is spent."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(threads or len(os.sched_getaffinity(0)) or 1)
    rng = random.Random(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    model.train()
    began, seen, steps, loss_value = time.monotonic(), 0, 0, float("nan")
    while feats:
        order = list(range(len(feats)))
        rng.shuffle(order)
        for b in range(0, len(order), BATCH):
            elapsed = time.monotonic() - began
            if elapsed >= seconds or steps == max_steps:
                model.eval()
                return TrainResult(seen, steps, elapsed, loss_value)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate * _schedule(_spent(elapsed, seconds, steps, max_steps))
            batch = _batch([feats[i] for i in order[b : b + BATCH]])
            loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad()
            seen, steps, loss_value = seen + len(batch["input_ids"]), steps + 1, loss.item()
            progress(
                {"seen": seen, "loss": loss_value, "elapsed": time.monotonic() - began,
                 "budget": seconds}
            )  # fmt: skip
    model.eval()
    return TrainResult(0, 0, 0.0, loss_value)


def _spent(elapsed: float, seconds: float, steps: int, max_steps: int | None) -> float:
    """The share of the budget used: of the time, or of the steps when those end first."""
    return max(elapsed / seconds, steps / max_steps if max_steps else 0.0)


def _schedule(fraction: float) -> float:
    if fraction < WARMUP_SHARE:
        return max(fraction / WARMUP_SHARE, 0.01)
    return max(0.0, (1.0 - fraction) / (1.0 - WARMUP_SHARE))


def _batch(feats: list[dict[str, Any]]) -> dict[str, Any]:
    import torch

    width = max(len(f["input_ids"]) for f in feats)
    ids = np.zeros((len(feats), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for r, f in enumerate(feats):
        n = len(f["input_ids"])
        ids[r, :n], types[r, :n], mask[r, :n] = f["input_ids"], f["token_type_ids"], 1
    return {
        "input_ids": torch.from_numpy(ids),
        "token_type_ids": torch.from_numpy(types),
        "attention_mask": torch.from_numpy(mask),
        "start_positions": torch.tensor([f["start"] for f in feats]),
        "end_positions": torch.tensor([f["end"] for f in feats]),
    }


def score(
    predict: Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]],
    tokenizer: Any,
    examples: list[Example],
) -> dict[str, float]:
    """EM and F1 of the decoded spans on answerable examples (what the reader would answer)."""
    answerable = [e for e in examples if e.answer_start >= 0]
    ems, f1s = [], []
    for b in range(0, len(answerable), 64):
        part = answerable[b : b + 64]
        enc = encode(tokenizer, [e.question for e in part], [e.context for e in part])
        inputs = {k: enc[k].astype(np.int64) for k in INPUTS}
        starts, ends = predict(inputs)
        for e, d in zip(part, decode(enc, starts, ends), strict=True):
            guess = e.context[d.start : d.end] if d.start >= 0 else ""
            ems.append(exact_match(guess, e.answer))
            f1s.append(f1(guess, e.answer))
    n = max(len(ems), 1)
    return {"em": round(sum(ems) / n, 4), "f1": round(sum(f1s) / n, 4), "n": len(ems)}


def torch_predictor(model: Any) -> Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]:
    import torch

    def predict(inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():
            out = model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
        return out.start_logits.numpy(), out.end_logits.numpy()

    return predict
