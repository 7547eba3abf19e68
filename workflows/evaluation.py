"""Evaluating the engine on a SQuAD-format question set, in a temporary index of its own.

Every context becomes a document of a throwaway index (`qa-eval-<hex>`), every question is
retrieved (hit@1/5/10: is the gold span inside a returned chunk?) and asked (EM, F1,
containment, abstention, latency); the index is dropped afterwards, also on Ctrl-C.

It lives in `workflows/`, apart from `ingest` and `retrieval`, because evaluating means
ingesting and asking, and those two do not know each other.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ingest.chunker import Chunker
from ingest.document import Document, doc_id_for
from ingest.pipeline import IngestPipeline, IngestReport
from retrieval.engine import QAEngine
from retrieval.errors import InvalidQuestion
from retrieval.index import temporary
from retrieval.settings import Settings
from retrieval.training.metrics import best_over, contains, exact_match, f1, percentile
from retrieval.training.squad import Context, Question, SquadSet, load_squad
from retrieval.types import DocMeta, Hit

EVAL_PREFIX = temporary.PREFIX
RETRIEVAL_KS = (1, 5, 10)
STAGES = ("ask", "embed", "retrieve", "read", "retrieval_only")
Progress = Callable[[int, int], None]  # (questions done, questions in all)


@dataclass
class EvalReport:
    """Quality and latency of one engine configuration on one question set."""

    dataset: str
    index: str
    mode: str
    reader: str
    k: int
    documents: int
    chunks: int
    questions: int
    answerable: int
    skipped: int = 0
    ingest_seconds: float | None = None
    hit_at: dict[int, float] = field(default_factory=dict)
    containment: float = 0.0
    context: float = 0.0  # the sentence shown around the answer holds the gold answer
    exact_match: float = 0.0
    f1: float = 0.0
    abstention: float = 0.0
    mean_answer_words: float | None = None
    latency_ms: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hit_at"] = {f"hit@{n}": v for n, v in self.hit_at.items()}
        return d

    def table(self) -> str:
        """The report as an aligned text table for a terminal."""
        ingest = "" if self.ingest_seconds is None else f", ingested in {self.ingest_seconds:.1f}s"
        lines = [
            f"{self.dataset}: {self.questions} questions ({self.answerable} answerable, "
            f"{self.skipped} skipped), {self.documents} documents, {self.chunks} chunks{ingest}",
            f"mode {self.mode}, reader {self.reader}, k {self.k}, index {self.index}",
            "",
            f"{'metric':<20}{'value':>8}",
        ]
        rows: list[tuple[str, float | None]] = [
            *((f"hit@{n}", v) for n, v in self.hit_at.items()),
            ("containment", self.containment),
            ("context holds gold", self.context),
            ("exact match", self.exact_match),
            ("F1", self.f1),
            ("abstention", self.abstention),
            ("mean answer words", self.mean_answer_words),
        ]
        lines += [f"{name:<20}{_fmt(value, 3):>8}" for name, value in rows]
        lines += ["", f"{'latency (ms)':<20}{'p50':>8}{'p95':>8}"]
        for stage, p in self.latency_ms.items():
            lines.append(
                f"{stage.replace('_', ' '):<20}{_fmt(p['p50'], 1):>8}{_fmt(p['p95'], 1):>8}"
            )
        return "\n".join(lines)


@dataclass
class EvalIndex:
    """A temporary index holding a question set's contexts, and an engine that reads it."""

    engine: QAEngine
    ingest: IngestReport


def evaluate(
    dataset: Path,
    settings: Settings,
    *,
    k: int = 5,
    reader: str | None = None,
    mode: str | None = None,
    limit: int | None = None,
    engine: QAEngine | None = None,
    keep_index: bool = False,
    progress: Progress | None = None,
) -> EvalReport:
    """Ingest the dataset's contexts into a temporary index, ask its questions, report.

    A prebuilt `engine` lends its loaded embedding model; its own index is left alone.
    """
    squad = load_squad(dataset, limit)
    with squad_index(squad, settings, engine, keep=keep_index) as built:
        return evaluate_on(
            built.engine,
            squad,
            k=k,
            reader=reader,
            mode=mode,
            ingest=built.ingest,
            progress=progress,
        )


@contextmanager
def squad_index(
    squad: SquadSet, settings: Settings, engine: QAEngine | None = None, keep: bool = False
) -> Iterator[EvalIndex]:
    """Ingest every context into a new `qa-eval-<hex>` index; drop it on exit unless `keep`."""
    with temporary_pipeline(settings, engine, keep) as (qa, pipeline):
        report = pipeline.ingest(documents_of(squad))
        if report.failed:
            raise RuntimeError(f"ingesting {squad.name} failed: {report.failed[:3]}")
        yield EvalIndex(qa, report)


@contextmanager
def temporary_pipeline(
    settings: Settings, engine: QAEngine | None = None, keep: bool = False
) -> Iterator[tuple[QAEngine, IngestPipeline]]:
    """An engine on a new `qa-eval-<hex>` index and the pipeline that ingests into it, as `qa
    ingest` would; the index is dropped on exit (Ctrl-C too) unless `keep`."""
    qa = QAEngine(temporary_settings(settings), embedder=engine.embedder if engine else None)
    index = qa.index  # connects first, so a failed connection leaves nothing to drop
    owner = temporary.Owner(index.client, index.schema.name)
    owner.acquire()  # before anything is written: an index without a live owner is stale
    try:
        embedder = qa.embedder
        chunker = Chunker(
            qa.settings.chunk_tokens,
            qa.settings.chunk_overlap_tokens,
            embedder.max_tokens,
            embedder.count_tokens,
        )
        yield qa, IngestPipeline(index, embedder, chunker)
    finally:
        if keep:
            owner.keep()
        else:
            index.drop()
            owner.release()


def temporary_settings(settings: Settings) -> Settings:
    """The same settings on a fresh, uniquely named index and key prefix."""
    name = f"{temporary.PREFIX}{secrets.token_hex(4)}"
    return settings.with_(index_name=name, key_prefix=name)


def documents_of(squad: SquadSet) -> Iterator[Document]:
    for context in squad.contexts:
        meta = DocMeta(
            doc_id=doc_id_of(context),
            title=context.title,
            source=squad.name,
            path=f"{squad.name}#{context.article}.{context.paragraph}",
        )
        yield Document(meta=meta, text=context.text)


def doc_id_of(context: Context) -> str:
    """Stable per (article, paragraph), so a kept index can be evaluated again."""
    return doc_id_for(f"squad:{context.article}:{context.paragraph}")


def evaluate_on(
    engine: QAEngine,
    squad: SquadSet,
    *,
    k: int = 5,
    reader: str | None = None,
    mode: str | None = None,
    ingest: IngestReport | None = None,
    progress: Progress | None = None,
    min_confidence: float | None = None,
) -> EvalReport:
    """Ask every question of `squad` against an index that already holds its contexts
    (`min_confidence` as in `QAEngine.ask`: 0 measures reading apart from refusal)."""
    mode = mode or engine.settings.retrieval_mode
    if squad.questions:  # untimed: loads the reader and opens connections before measuring
        engine.ask(squad.questions[0].text, k=k, reader=reader, mode=mode)
    outcomes: list[_Outcome] = []
    for done, question in enumerate(squad.questions, start=1):
        doc_id = doc_id_of(squad.contexts[question.context])
        with suppress(InvalidQuestion):  # an unaskable question is counted as skipped
            outcomes.append(_ask_one(engine, doc_id, question, k, reader, mode, min_confidence))
        if progress is not None:
            progress(done, len(squad.questions))
    return _summarise(squad, engine, outcomes, k=k, mode=mode, reader=reader, ingest=ingest)


def _summarise(
    squad: SquadSet,
    engine: QAEngine,
    outcomes: list[_Outcome],
    *,
    k: int,
    mode: str,
    reader: str | None,
    ingest: IngestReport | None,
) -> EvalReport:
    answerable = [o for o in outcomes if o.rank != _UNANSWERABLE]
    given = [o.words for o in outcomes if o.words is not None]
    return EvalReport(
        dataset=squad.name,
        index=engine.settings.index_name,
        mode=mode,
        reader=Counter(o.reader for o in outcomes).most_common(1)[0][0]
        if outcomes
        else reader or engine.settings.reader,
        k=k,
        documents=len(squad.contexts),
        chunks=engine.index.count_chunks(),
        questions=len(squad.questions),
        answerable=len(answerable),
        skipped=len(squad.questions) - len(outcomes),
        ingest_seconds=round(ingest.seconds, 2) if ingest else None,
        hit_at={n: _mean([0 < o.rank <= n for o in answerable]) for n in RETRIEVAL_KS},
        containment=_mean([o.contains for o in outcomes]),
        context=_mean([o.context for o in outcomes]),
        exact_match=_mean([o.exact_match for o in outcomes]),
        f1=_mean([o.f1 for o in outcomes]),
        abstention=_mean([o.words is None for o in outcomes]),
        mean_answer_words=_mean(given) if given else None,
        latency_ms={
            s: _percentiles([o.latency[s] for o in outcomes if s in o.latency]) for s in STAGES
        },
    )


_UNANSWERABLE = -1
_MISSED = 0


@dataclass
class _Outcome:
    """One question's result. rank: of the gold chunk, 0 when missed, -1 when unanswerable."""

    rank: int
    contains: float
    context: float
    exact_match: float
    f1: float
    words: int | None  # None when the engine abstained
    reader: str
    latency: dict[str, float]


def _ask_one(
    engine: QAEngine,
    doc_id: str,
    question: Question,
    k: int,
    reader: str | None,
    mode: str,
    min_confidence: float | None = None,
) -> _Outcome:
    t = time.perf_counter()
    retrieval = engine.retrieve(question.text, k=max(RETRIEVAL_KS), mode=mode)
    retrieval_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    answer = engine.ask(question.text, k=k, reader=reader, mode=mode, min_confidence=min_confidence)
    ask_ms = (time.perf_counter() - t) * 1000

    latency = {s: answer.timings[s] for s in ("embed", "retrieve", "read") if s in answer.timings}
    latency.update(ask=ask_ms, retrieval_only=retrieval_ms)
    words = None if answer.answer is None else len(answer.answer.split())
    if question.impossible:  # SQuAD 2.0: abstaining is the right answer
        right = float(answer.answer is None)
        return _Outcome(_UNANSWERABLE, right, right, right, right, words, answer.reader, latency)
    prediction, golds = answer.answer or "", [g.text for g in question.answers]
    shown = (answer.context or {}).get("text", "")
    return _Outcome(
        rank=gold_rank(retrieval.hits, doc_id, question) or _MISSED,
        contains=best_over(contains, prediction, golds),
        context=best_over(contains, shown, golds),
        exact_match=best_over(exact_match, prediction, golds),
        f1=best_over(f1, prediction, golds),
        words=words,
        reader=answer.reader,
        latency=latency,
    )


def gold_rank(hits: list[Hit], doc_id: str, question: Question) -> int | None:
    """The 1-based rank of the first hit whose chunk holds a whole gold span, or None."""
    for rank, hit in enumerate(hits, start=1):
        if hit.doc_id == doc_id and any(
            hit.start <= g.start and g.end <= hit.end for g in question.answers
        ):
            return rank
    return None


def _mean(values: list[Any]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None}
    return {"p50": round(percentile(values, 50), 2), "p95": round(percentile(values, 95), 2)}


def _fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
