"""The trained reader: the span model `qa train-reader` made for this index.

It reads a few short passages of the retrieved chunks (`passages.py`) in one batch and
answers with a span across them: the model was trained with the passages of a question
normalised together, so its scores compare across passages, and "no answer" is a score of
its own (`Reading.signals`, for the calibrated refusal). Of its near-best spans, the one
with the best expected F1 under the model's own probabilities is the answer. A span that
is only a heading or a title is context, never the answer. The answer keeps its sentence as
context, so a short span never hides the fact.

`TrainedSource` finds the index's current model in Redis and notices a newly trained one
within QA_READER_CHECK_S (one small GET), so servers pick it up without a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import redis

from retrieval.embedding.model_files import session_options
from retrieval.errors import ModelUnavailable, ReaderNotTrained
from retrieval.readers import Reading, dedupe, shipped
from retrieval.readers.headings import not_an_answer
from retrieval.readers.passages import PASSAGES, Passage, passages
from retrieval.readers.span_decoding import (
    INPUTS,
    MAX_LENGTH,
    GroupReading,
    Predict,
    decode_group,
    encode,
)
from retrieval.readers.trained_store import MODEL_FILE, local_copy, read_manifest
from retrieval.text import normalize_answer
from retrieval.types import Hit, Span

SHIPPED = shipped.FOLDER
CHECK_EVERY_S = 10.0
TOP_SPANS = 20  # near-best spans the answer is chosen among
FIRST_READ = 1  # windows read first; the others only when the model is unsure of these
SURE = 0.95  # a best span this sure of itself against "no answer" ends the reading early
THRESHOLD = 0.5  # uncalibrated: a best span that does not beat "no answer" abstains


class TrainedReader:
    name = "trained"

    def __init__(self, tokenizer: Any, predict: Predict, manifest: dict[str, Any]) -> None:
        self.tokenizer = tokenizer
        self.predict = predict  # the ONNX session, or the torch model while it trains
        self.manifest = manifest
        self.threshold = THRESHOLD
        self.prior_weight = float(manifest.get("prior_weight", 0.0))
        self.version = str(manifest.get("sha", ""))
        self.note = (
            "the reader shipped with the product; `qa train` adapts it to this index"
            if self.version.startswith("shipped-")
            else None
        )

    @classmethod
    def from_folder(cls, folder: Path, manifest: dict[str, Any]) -> TrainedReader:
        """The exported model in `folder`; a damaged one is ModelUnavailable with what to do."""
        from retrieval.readers.pair_tokenizer import PairTokenizer

        try:
            tokenizer = PairTokenizer(folder, MAX_LENGTH)  # no transformers: seconds saved
            predict = onnx_predictor(folder / MODEL_FILE)
        except Exception as e:  # a damaged file: say so, the engine falls back
            raise ModelUnavailable(
                f"the trained reader in {folder} does not load ({type(e).__name__}: "
                f"{str(e)[:200]}); run `qa train-reader` again"
            ) from e
        return cls(tokenizer, predict, manifest)

    def warm_up(self) -> TrainedReader:
        """Nothing left to load: `from_folder` opened the ONNX session, once per model file."""
        return self

    def read(
        self, question: str, hits: list[Hit], n: int, question_vector: np.ndarray | None = None
    ) -> Reading:
        """The best spans across the passages; `question_vector` is not needed.

        The best window is read first and the others only when its best span is not SURE:
        the model's reading of a window does not depend on the others (they meet only in the
        shared normalization, in decoding), so an early answer is the one the whole reading
        would most likely give, at about half the cost (BENCHMARKS.md, the shipped reader).
        """
        chosen = passages(question, hits, PASSAGES)
        if not chosen:
            return Reading(threshold=self.threshold, note=self.note)
        enc = encode(self.tokenizer, question, [p.text for p in chosen])
        starts = np.zeros(enc["input_ids"].shape, dtype=np.float32)
        ends = np.zeros_like(starts)
        read = 0
        for upto in dict.fromkeys((min(FIRST_READ, len(chosen)), len(chosen))):
            self._predict_rows(enc, read, upto, starts, ends)
            read = upto
            group = decode_group(enc, starts, ends, TOP_SPANS, rows=list(range(read)))
            spans = dedupe(rank_answers(chosen, group, self.prior_weight), n)
            if spans and spans[0].score >= SURE:
                break
        best = spans[0].score if spans else 0.0
        return Reading(spans, best, self.threshold, signals=_signals(group), note=self.note)

    def score(self, question: str, chosen: list[Passage]) -> GroupReading:
        """The model's reading of all of one question's passages, in one batch."""
        enc = encode(self.tokenizer, question, [p.text for p in chosen])
        starts, ends = self.predict({k: enc[k] for k in INPUTS})
        return decode_group(enc, starts, ends, TOP_SPANS)

    def _predict_rows(
        self, enc: Any, lo: int, hi: int, starts: np.ndarray, ends: np.ndarray
    ) -> None:
        """The logits of rows lo..hi into `starts` and `ends`, read without their padding."""
        width = int(enc["attention_mask"][lo:hi].sum(axis=1).max())
        s, e = self.predict({k: enc[k][lo:hi, :width] for k in INPUTS})
        starts[lo:hi, :width], ends[lo:hi, :width] = s, e


def rank_answers(chosen: list[Passage], group: GroupReading, prior_weight: float) -> list[Span]:
    """The model's near-best spans (headings left out), ranked by the F1 each is expected to
    score against the model's own distribution over them (minimum Bayes risk): where the
    model hesitates between overlapping spans, the one covering what they share wins, so
    answers grow longer as the model is less sure. The passage's retrieval prior weighs in
    by `prior_weight`, fitted with the general stage on questions it did not train on."""
    spans, scores = [], []
    for d in group.spans:
        p = chosen[d.row]
        a, b = p.start + d.start, p.start + d.end
        text = p.hit.text[a:b]
        stripped = text.strip()
        if not stripped or not_an_answer(p.hit, a, b):
            continue
        a += len(text) - len(text.lstrip())
        # the span against "no answer": 0.5 is a tie, the uncalibrated threshold
        confidence = float(1 / (1 + np.exp(group.null - d.score)))
        spans.append(Span(stripped, confidence, p.hit, a, a + len(stripped)))
        scores.append(d.score + prior_weight * p.prior)
    if not spans:
        return []
    weights = np.exp(np.asarray(scores) - max(scores))
    weights /= weights.sum()
    expected = _pairwise_f1([normalize_answer(s.text).split() for s in spans]) @ weights
    return [spans[i] for i in np.argsort(-expected, kind="stable")]


def _pairwise_f1(answers: list[list[str]]) -> np.ndarray:
    """Token F1 of every answer against every other, as SQuAD scores it: 2 * common words
    / (words of one + words of the other); one matrix, not n * n Counter intersections."""
    vocabulary = {w: i for i, w in enumerate({w for a in answers for w in a})}
    counts = np.zeros((len(answers), max(len(vocabulary), 1)), dtype=np.int32)
    for row, answer in enumerate(answers):
        for w in answer:
            counts[row, vocabulary[w]] += 1
    common = np.minimum(counts[:, None, :], counts[None, :, :]).sum(axis=2)
    lengths = counts.sum(axis=1)
    total = lengths[:, None] + lengths[None, :]
    return np.divide(2.0 * common, total, out=np.zeros(common.shape), where=common > 0)


def _signals(group: GroupReading) -> dict[str, float]:
    """What the model says about its answer: its probability against "no answer"."""
    top = group.spans[0] if group.spans else None
    return {
        "no_answer": group.no_answer,
        "span_probability": group.probability(top) if top is not None else 0.0,
        "over_no_answer": max(group.margin, -20.0),  # logits of the best span over none
    }


class TrainedSource:
    """The index's current trained reader, or the shipped one while the index has none; looks
    for a newer one at most every CHECK_EVERY_S."""

    def __init__(
        self,
        client: Callable[[], redis.Redis],
        prefix: str,
        data_dir: Path,
        check_every_s: float = CHECK_EVERY_S,
        shipped: Path | None = SHIPPED,
    ) -> None:
        self._client, self._prefix, self._data_dir = client, prefix, data_dir
        self._every = check_every_s
        self._shipped = shipped  # None: an index without its own trained reader has none
        self._reader: TrainedReader | None = None
        self._sha: str | None = None
        self._why = "this index has no trained reader: run `qa train-reader`"
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def current(self) -> TrainedReader:
        """The reader, or ModelUnavailable saying why there is none."""
        now = time.monotonic()
        if now - self._checked >= self._every:
            with self._lock:
                if now - self._checked >= self._every:
                    self._checked = now
                    self._refresh()
        if self._reader is None:
            raise (ReaderNotTrained if self._sha is None else ModelUnavailable)(self._why)
        return self._reader

    def _refresh(self) -> None:
        client = self._client()
        manifest = read_manifest(client, self._prefix)
        sha = manifest.get("sha") if manifest else None
        if sha is None:
            self._use_shipped()
            return
        if sha == self._sha:
            return
        try:
            folder = local_copy(client, self._prefix, sha, self._data_dir)
            self._reader = TrainedReader.from_folder(folder, manifest or {})
            self._sha = sha
        except ModelUnavailable as e:
            self._reader, self._sha, self._why = None, sha, str(e)
        except OSError as e:  # e.g. a read-only data directory
            self._reader, self._sha = None, sha
            self._why = f"cannot unpack the trained reader into {self._data_dir}: {e}"

    def _use_shipped(self) -> None:
        """The reader shipped with the package, loaded (and its files checked) once."""
        if self._shipped is None:
            self._reader, self._sha = None, None
            return
        try:
            self._reader = shipped_reader(self._shipped)
            self._sha = None
        except ModelUnavailable as e:
            self._reader, self._sha, self._why = None, "shipped", str(e)


_SHIPPED: dict[Path, TrainedReader | ModelUnavailable] = {}
_SHIPPED_LOCK = threading.Lock()


def shipped_reader(folder: Path = SHIPPED) -> TrainedReader:
    """The shipped reader of `folder`, loaded once per process (a damaged one is refused once,
    and stays refused: it is the package's file, not the index's)."""
    with _SHIPPED_LOCK:
        if folder not in _SHIPPED:
            try:
                _SHIPPED[folder] = TrainedReader.from_folder(folder, shipped.manifest(folder))
            except ModelUnavailable as e:
                _SHIPPED[folder] = e
        loaded = _SHIPPED[folder]
    if isinstance(loaded, ModelUnavailable):
        raise loaded
    return loaded


def onnx_predictor(path: Path) -> Predict:
    """The exported model at `path` as a predictor, on onnxruntime (imported only here)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), session_options(), providers=["CPUExecutionProvider"])
    wanted = {i.name for i in session.get_inputs()}

    def predict(inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        feed = {k: v.astype(np.int64) for k, v in inputs.items() if k in wanted}
        start, end = session.run(["start_logits", "end_logits"], feed)
        return start, end

    return predict
