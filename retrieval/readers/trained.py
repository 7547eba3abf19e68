"""The trained reader: the span model `qa train-reader` made from this index's documents.

The sentence reader shortlists; the span model reads a short window around its best
sentence (the first that is not a heading) and the answer is the best span there, of the
kind the question asks for where one nearly ties, its sentence the context. A weak
span (not clearly better than "no answer"), or none of the kind asked for ("how many"
answered by a name), falls back to the whole sentence; questions that
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
from retrieval.readers.answer_types import asked_kind, fits
from retrieval.readers.spans import Decoded, decode_top, encode
from retrieval.training.examples import windows
from retrieval.training.store import MODEL_FILE, local_copy, read_manifest
from retrieval.types import Hit, Span

CHECK_EVERY_S = 10.0
SHORTLIST = 3  # sentences looked through for the first that is not a heading
MIN_MARGIN = 0.0  # span logits over "no answer": below it, the whole sentence is the answer
LONG_SPAN_WORDS = 8  # a span the model marks longer than this keeps its whole sentence
TOP_SPANS = 8  # near-best spans looked at for one of the kind the question asks for
KIND_SLACK = 3.0  # logits a span of the asked kind may trail the model's best by
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
        if not shortlist.spans:
            return shortlist
        # The span model reads one window: around the sentence reader's best sentence that is
        # not a heading. Letting spans of lower-ranked windows compete lost more than it won:
        # span logits of different windows do not compare (COVID-QA: F1 0.229 -> 0.265).
        top = shortlist.spans[:SHORTLIST]
        rank = next((i for i, s in enumerate(top) if not _heading(s)), 0)
        sentence = shortlist.spans.pop(rank)
        shortlist.spans.insert(0, sentence)  # a heading is context: never the answer first
        # The span margin is no calibration signal: learnt on the calibration's own kind of
        # question, it trusted synthetic ones far more than real ones (refused 0.44 of real
        # answerable questions at target 0.10, against 0.22 without it; BENCHMARKS.md).
        span, margin = self._span(question, sentence)
        if _EXPLAIN.search(question):
            return shortlist
        if span is None or margin < MIN_MARGIN:
            shortlist.note = (
                "weak span: the whole sentence is the answer" if margin < MIN_MARGIN else
                "no span of the kind asked for: the whole sentence is the answer"
            )  # fmt: skip
            return shortlist
        if len(span.text.split()) > LONG_SPAN_WORDS:  # a long answer: the whole sentence
            a, b = min(span.start, sentence.start), max(span.end, sentence.end)
            span = Span(span.hit.text[a:b], span.score, span.hit, a, b, a, b)
        return Reading(
            [span, *shortlist.spans[1:]][:n], shortlist.best_score, self.threshold,
            signals=shortlist.signals,
        )  # fmt: skip

    def _span(self, question: str, sentence: Span) -> tuple[Span | None, float]:
        """The best span in the window around `sentence`, and its margin over "no answer"."""
        window, offset = windows(sentence.hit.text, sentence.start, sentence.end)
        enc = encode(self.tokenizer, [question], [window])
        feed = {k: enc[k].astype(np.int64) for k in self._inputs}
        starts, ends = self.session.run(["start_logits", "end_logits"], feed)
        best = decode_top(enc, starts, ends, TOP_SPANS)[0]
        d = _of_kind(asked_kind(question), window, best)
        if d is None:  # "how many" answered by a name: a wrong span, the sentence is safer
            return None, best[0].margin
        base = sentence.start - offset  # the window's offset in the chunk
        a, b = base + d.start, base + d.end
        text = sentence.hit.text[a:b].strip() if d.start >= 0 else ""
        if not text:
            return None, d.margin
        a = sentence.hit.text.index(text, a)
        span = Span(text, sentence.score, sentence.hit, a, a + len(text), sentence.start,
                    sentence.end)  # fmt: skip
        return span, d.margin


def _of_kind(kind: str | None, window: str, best: list[Decoded]) -> Decoded | None:
    """The best span of the kind the question asks for, if the model nearly prefers it;
    None when the question asks for a kind and no near-best span is of it."""
    for d in best:
        if d.start < 0 or d.margin < best[0].margin - KIND_SLACK:
            break
        if fits(kind, window[d.start : d.end]):
            return d
    return best[0] if kind is None or best[0].start < 0 else None


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
