"""The span reader: a Hugging Face extractive question-answering model.

Each retrieved chunk is read in strided windows (a long chunk never loses its tail); the
start and end logits of every window are turned into span scores, the best spans across
all chunks win, and character offsets map each answer back to its chunk's exact text.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import ModelUnavailable
from retrieval.readers import Reading, dedupe
from retrieval.readers.headings import not_an_answer
from retrieval.types import Hit, Span

MAX_LENGTH = 384
STRIDE = 128
MAX_ANSWER_TOKENS = 30
BATCH = 16


def on_disk(model: str) -> bool:
    """A local folder, or a hub model in the local hub cache: looked up without importing
    transformers (seconds) or huggingface_hub's download code (a third of a second)."""
    if Path(model).is_dir():
        return True
    from huggingface_hub.constants import HF_HUB_CACHE

    repo = Path(HF_HUB_CACHE) / ("models--" + model.replace("/", "--"))
    return any(repo.glob("snapshots/*/config.json"))


class SpanReader:
    name = "span"
    version = ""

    def __init__(self, model: str, threshold: float = 0.1, local_only: bool = False) -> None:
        self.model_name = model
        self.local_only = local_only  # never reach for the hub (auto mode must not hang)
        self.threshold = threshold
        self.model: Any = None
        self.tokenizer: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> SpanReader:
        if self.model is not None:
            return self
        if self.local_only and not on_disk(self.model_name):  # no torch to import just to fail
            raise ModelUnavailable(
                f"question-answering model '{self.model_name}' is not on this machine. Download "
                "it once with network access, or set QA_SPAN_MODEL to a local folder; "
                "QA_READER=sentence works without it."
            )
        try:
            import torch  # noqa: F401
            from transformers import AutoModelForQuestionAnswering, AutoTokenizer
        except ImportError as e:
            raise ModelUnavailable(
                "the span reader needs transformers: pip install transformers torch"
            ) from e
        try:
            kw = {"local_files_only": self.local_only}
            self.tokenizer = AutoTokenizer.from_pretrained(self.model_name, **kw)
            self.model = AutoModelForQuestionAnswering.from_pretrained(self.model_name, **kw).eval()
        except Exception as e:
            raise ModelUnavailable(
                f"cannot load question-answering model '{self.model_name}': {type(e).__name__}: "
                f"{str(e)[:300]}. Download it once with network access, or set QA_SPAN_MODEL "
                "to a local folder; QA_READER=sentence works without it."
            ) from e
        if not getattr(self.tokenizer, "is_fast", False):
            raise ModelUnavailable(f"'{self.model_name}' needs a fast tokenizer for offsets")
        return self

    def read(
        self, question: str, hits: list[Hit], n: int, question_vector: object = None
    ) -> Reading:
        """Best spans across all chunks; `question_vector` is accepted for symmetry, unused."""
        import torch

        self.warm_up()
        enc = self.tokenizer(
            [question] * len(hits),
            [h.text for h in hits],
            truncation="only_second",
            max_length=MAX_LENGTH,
            stride=STRIDE,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=True,
            return_tensors="pt",
        )
        owners = enc.pop("overflow_to_sample_mapping").tolist()
        offsets = enc.pop("offset_mapping").tolist()
        inputs = {
            k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")
        }
        starts, ends = [], []
        with self._lock, torch.inference_mode():  # one forward pass at a time per process
            for b in range(0, len(owners), BATCH):
                out = self.model(**{k: v[b : b + BATCH] for k, v in inputs.items()})
                starts.append(out.start_logits.float().numpy())
                ends.append(out.end_logits.float().numpy())
        start_logits, end_logits = np.concatenate(starts), np.concatenate(ends)
        spans: list[Span] = []
        for f, owner in enumerate(owners):
            context = [i for i, s in enumerate(enc.sequence_ids(f)) if s == 1]
            spans += self._best_in_window(
                hits[owner], start_logits[f], end_logits[f], offsets[f], context, n
            )
        spans = dedupe(spans, n)
        return Reading(spans, spans[0].score if spans else 0.0, self.threshold)

    def _best_in_window(
        self,
        hit: Hit,
        start: np.ndarray,
        end: np.ndarray,
        offsets: list,
        context: list[int],
        n: int,
    ) -> list[Span]:
        if not context:
            return []
        lo, hi = context[0], context[-1] + 1
        p_start = _softmax(start[lo:hi])
        p_end = _softmax(end[lo:hi])
        scores = np.triu(np.outer(p_start, p_end))
        scores = np.tril(scores, MAX_ANSWER_TOKENS - 1)
        best = np.argsort(scores, axis=None)[::-1][: max(n, 1) * 2]
        spans = []
        for flat in best:
            i, j = divmod(int(flat), scores.shape[1])
            score = float(scores[i, j])
            if score <= 0:
                continue
            s, e = offsets[lo + i][0], offsets[lo + j][1]
            if e <= s or not_an_answer(hit, s, e):
                continue
            spans.append(Span(hit.text[s:e], score, hit, s, e))
        return spans


def _softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max())
    return z / z.sum()
