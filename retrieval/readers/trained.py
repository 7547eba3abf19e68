"""The trained reader: the span model `qa train-reader` made from this index's documents.

The sentence reader shortlists; the span model reads a short window around each of the top
sentences (one batch) and the answer is the best span, its sentence the context. A weak
span (not clearly better than "no answer") falls back to the whole sentence; questions that
ask for an explanation, and spans the model marks long, keep the whole sentence. Whether to
answer at all is the sentence reader's call, so abstaining behaves as before.

`TrainedSource` finds the index's current model in Redis and notices a newly trained one
within QA_READER_CHECK_S (one small GET), so servers pick it up without a restart.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import redis

from retrieval.errors import ModelUnavailable, ReaderNotTrained
from retrieval.readers import Reader, Reading
from retrieval.readers.spans import decode, encode
from retrieval.training.examples import windows
from retrieval.training.store import MODEL_FILE, local_copy, read_manifest
from retrieval.types import Hit, Span

CHECK_EVERY_S = 10.0
SHORTLIST = 3  # sentences whose windows the span model reads
RANK_PENALTY = 1.0  # logits a lower-ranked sentence's span must win by
MIN_MARGIN = 0.0  # span logits over "no answer": below it, the whole sentence is the answer
LONG_SPAN_WORDS = 8  # a span the model marks longer than this keeps its whole sentence
HEADING_PENALTY = 3.0  # a title or bare signature is context, not an answer
_SIGNATURE = re.compile(r"^[\w.$#:<>-]+\s*\([^)]*\)\s*(?:->\s*\S+)?$")
_EXPLAIN = re.compile(
    r"^\s*(why|how(?! (many|much|long|old|far|often|large|big|high|tall))|describe|explain|"
    r"what (is|are|was|were) the (role|effect|mechanism|reason|difference|purpose|function)s?)\b",
    re.I,
)


class TrainedReader:
    name = "trained"

    def __init__(self, folder: Path, manifest: dict[str, Any], sentence_reader: Reader) -> None:
        from retrieval.model_files import session_options

        self.manifest = manifest
        self.sentences = sentence_reader
        self.threshold = sentence_reader.threshold
        try:
            import onnxruntime as ort
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            self.session = ort.InferenceSession(
                str(folder / MODEL_FILE), session_options(), providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # a damaged file: say so, the engine falls back
            raise ModelUnavailable(
                f"the trained reader in {folder} does not load ({type(e).__name__}: "
                f"{str(e)[:200]}); run `qa train-reader` again"
            ) from e
        self._inputs = {i.name for i in self.session.get_inputs()}

    def read(
        self, question: str, hits: list[Hit], n: int, question_vector: np.ndarray | None = None
    ) -> Reading:
        shortlist = self.sentences.read(question, hits, max(n, SHORTLIST), question_vector)
        top = shortlist.spans[:SHORTLIST]
        if not top:
            return shortlist
        found = self._spans(question, top)
        rank, (span, margin) = max(
            enumerate(found),
            key=lambda rm: rm[1][1] - RANK_PENALTY * rm[0] - HEADING_PENALTY * _heading(top[rm[0]]),
        )
        # The span model's doubt, for the calibrated confidence (also when the sentence answers).
        shortlist.no_answer_score = float(np.clip(-margin, -50.0, 50.0))
        if _EXPLAIN.search(question):
            return shortlist
        if span is None or margin < MIN_MARGIN:
            shortlist.note = "weak span: the whole sentence is the answer"
            return shortlist
        if len(span.text.split()) > LONG_SPAN_WORDS:  # a long answer: the whole sentence
            sentence = top[rank]
            a, b = min(span.start, sentence.start), max(span.end, sentence.end)
            span = Span(span.hit.text[a:b], span.score, span.hit, a, b, a, b)
        rest = [s for i, s in enumerate(shortlist.spans) if i != rank]
        return Reading(
            [span, *rest][:n], shortlist.best_score, self.threshold,
            no_answer_score=shortlist.no_answer_score, signals=shortlist.signals,
        )  # fmt: skip

    def _spans(self, question: str, top: list[Span]) -> list[tuple[Span | None, float]]:
        """Each shortlisted sentence's best span inside its window, with its margin."""
        cuts = [windows(s.hit.text, s.start, s.end) for s in top]
        enc = encode(self.tokenizer, [question] * len(top), [w for w, _ in cuts])
        feed = {k: enc[k].astype(np.int64) for k in self._inputs}
        starts, ends = self.session.run(["start_logits", "end_logits"], feed)
        out: list[tuple[Span | None, float]] = []
        for s, (_, offset), d in zip(top, cuts, decode(enc, starts, ends), strict=True):
            base = s.start - offset  # the window's offset in the chunk
            a, b = base + d.start, base + d.end
            text = s.hit.text[a:b].strip() if d.start >= 0 else ""
            if not text:
                out.append((None, d.margin))
                continue
            a = s.hit.text.index(text, a)
            span = Span(text, s.score, s.hit, a, a + len(text), s.start, s.end)
            out.append((span, d.margin))
        return out


def _heading(span: Span) -> bool:
    """A title line or a bare signature: no sentence punctuation, few words, or `f(x)`."""
    text = span.text.strip()
    if _SIGNATURE.match(text) or text == span.hit.heading.split(" > ")[-1]:
        return True
    return not text.endswith((".", "!", "?", ":")) and len(text.split()) <= 6


class TrainedSource:
    """The index's current trained reader; looks for a newer one at most every CHECK_EVERY_S."""

    def __init__(
        self, client: Callable[[], redis.Redis], prefix: str, data_dir: Path, sentences: Reader,
        check_every_s: float = CHECK_EVERY_S,
    ) -> None:  # fmt: skip
        self._client, self._prefix, self._data_dir = client, prefix, data_dir
        self._every = check_every_s
        self._sentences = sentences
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
        if sha is None or sha == self._sha:
            if sha is None:
                self._reader, self._sha = None, None
            return
        try:
            folder = local_copy(client, self._prefix, sha, self._data_dir)
            self._reader = TrainedReader(folder, manifest or {}, self._sentences)
            self._sha = sha
        except ModelUnavailable as e:
            self._reader, self._sha, self._why = None, sha, str(e)
        except OSError as e:  # e.g. a read-only data directory
            self._reader, self._sha = None, sha
            self._why = f"cannot unpack the trained reader into {self._data_dir}: {e}"
