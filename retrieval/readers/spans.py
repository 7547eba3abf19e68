"""Turning a span model's start/end logits into answers: shared by training and answering.

The trainer scores its held-out set with the same decoding the trained reader uses, so the
held-out numbers describe what users get.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_LENGTH = 192  # question + context window, in tokens
MAX_ANSWER_TOKENS = 24


@dataclass(frozen=True)
class Decoded:
    start: int  # character offsets in the context; -1 when no span fits
    end: int
    margin: float  # span logits minus the no-answer ([CLS]) logits


def encode(tokenizer: Any, questions: list[str], contexts: list[str]) -> Any:
    """Question first, then the context, truncated to MAX_LENGTH, with character offsets."""
    return tokenizer(
        questions, contexts, truncation="longest_first", max_length=MAX_LENGTH,
        return_offsets_mapping=True, padding=True, return_tensors="np",
    )  # fmt: skip


def decode(enc: Any, start_logits: np.ndarray, end_logits: np.ndarray) -> list[Decoded]:
    """The best span of each row's context, and how far it beats "no answer"."""
    return [best[0] for best in decode_top(enc, start_logits, end_logits, 1)]


def decode_top(
    enc: Any, start_logits: np.ndarray, end_logits: np.ndarray, k: int
) -> list[list[Decoded]]:
    """The k best spans of each row's context, best first (one Decoded(-1, -1) if none fits)."""
    out = []
    for row in range(len(start_logits)):
        context = [i for i, s in enumerate(enc.sequence_ids(row)) if s == 1]
        if not context:
            out.append([Decoded(-1, -1, float("-inf"))])
            continue
        lo, hi = context[0], context[-1] + 1
        s, e = start_logits[row][lo:hi], end_logits[row][lo:hi]
        n = len(s)
        allowed = np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(
            np.ones((n, n), dtype=bool), MAX_ANSWER_TOKENS
        )
        scores = np.where(allowed, s[:, None] + e[None, :], -np.inf).ravel()
        best = np.argsort(-scores, kind="stable")[: min(k, int(allowed.sum()))]
        offsets = enc["offset_mapping"][row]
        null = float(start_logits[row][0] + end_logits[row][0])
        out.append([
            Decoded(int(offsets[lo + i][0]), int(offsets[lo + j][1]), float(scores[f]) - null)
            for f in best for i, j in [divmod(int(f), n)]
        ])  # fmt: skip
    return out
