"""Turning a span model's start/end logits into answers: shared by training and answering.

The model reads one question with several passages and was trained with their scores
normalised together (Clark and Gardner 2018, "shared normalization"): a span's start and
end logits compare across passages, and each passage's [CLS] stands for "no answer". The
trainer scores its held-out questions with this same decoding, so its numbers describe
what users get.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_LENGTH = 192  # question + passage, in word pieces (a passage is ~100)
MAX_ANSWER_TOKENS = 30
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
Predict = Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]  # -> start, end logits


@dataclass(frozen=True)
class Decoded:
    row: int  # the passage it was read from
    start: int  # character offsets in that passage
    end: int
    score: float  # start + end logits


@dataclass(frozen=True)
class GroupReading:
    """The best spans of one question's passages, and what "no answer" scores against them."""

    spans: list[Decoded]  # best first, across passages
    null: float  # "no answer": the passages' [CLS] start and end logits, pooled
    log_z: float  # log of the start and end partitions: exp(score - log_z) is a probability

    def probability(self, d: Decoded) -> float:
        return float(np.exp(d.score - self.log_z))

    @property
    def no_answer(self) -> float:
        """The model's probability that none of the passages answers the question."""
        return float(np.exp(self.null - self.log_z))

    @property
    def margin(self) -> float:
        """Best span over "no answer", in logits (negative: the model would rather refuse)."""
        return self.spans[0].score - self.null if self.spans else float("-inf")


def encode(tokenizer: Any, question: str | list[str], contexts: list[str]) -> Any:
    """Question first, then each passage, truncated to MAX_LENGTH, with character offsets.

    `tokenizer` is a transformers one (training) or a PairTokenizer (answering).
    """
    questions = [question] * len(contexts) if isinstance(question, str) else question
    if hasattr(tokenizer, "encode_pairs"):
        return tokenizer.encode_pairs(questions, contexts)
    return tokenizer(
        questions,
        contexts,
        truncation="only_second",
        max_length=MAX_LENGTH,
        return_offsets_mapping=True,
        padding=True,
        return_tensors="np",
    )


def context_rows(enc: Any, rows: int) -> list[tuple[int, int]]:
    """Each row's passage tokens as [lo, hi) (empty when the question filled the row)."""
    out = []
    for row in range(rows):
        ids = [i for i, s in enumerate(enc.sequence_ids(row)) if s == 1]
        out.append((ids[0], ids[-1] + 1) if ids else (0, 0))
    return out


def decode_group(
    enc: Any,
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    k: int = 1,
    rows: list[int] | None = None,
) -> GroupReading:
    """The k best spans over `rows` (default: every row) of one question's passages."""
    rows = list(range(len(start_logits))) if rows is None else rows
    bounds = context_rows(enc, max(rows) + 1) if rows else []
    found: list[Decoded] = []
    starts, ends = [], []
    for row in rows:
        lo, hi = bounds[row]
        s, e = start_logits[row], end_logits[row]
        starts += [s[0], *s[lo:hi]]
        ends += [e[0], *e[lo:hi]]
        if hi <= lo:
            continue
        n = hi - lo
        band = np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(
            np.ones((n, n), dtype=bool), MAX_ANSWER_TOKENS
        )
        scores = np.where(band, s[lo:hi, None] + e[None, lo:hi], -np.inf).ravel()
        top = np.argpartition(-scores, min(k, scores.size - 1))[: max(k, 1)]
        offsets = enc["offset_mapping"][row]
        for f in top:
            if np.isfinite(scores[f]):
                i, j = divmod(int(f), n)
                found.append(
                    Decoded(row, int(offsets[lo + i][0]), int(offsets[lo + j][1]), float(scores[f]))
                )
    found.sort(key=lambda d: -d.score)
    null = _logsumexp([start_logits[r][0] for r in rows]) + _logsumexp(
        [end_logits[r][0] for r in rows]
    )
    return GroupReading(found[:k], null, _logsumexp(starts) + _logsumexp(ends))


def _logsumexp(values: list[float] | np.ndarray) -> float:
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        return float("-inf")
    m = a.max()
    return float(m + np.log(np.exp(a - m).sum()))
