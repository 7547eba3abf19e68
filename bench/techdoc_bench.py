"""Technical documentation: developers' own questions on a manual none of us wrote.

    .venv/bin/python -m bench.techdoc_bench [--reader auto|sentence|trained]
        [--manual-dir /usr/share/doc/bash] [--questions bench/techdoc/questions.json]
        [--k 5] [--train-minutes M] [--verbose] [--json [FILE]] [--write]

The manual (by default the GNU Bash Reference Manual that Debian's `bash-doc` installs:
`apt-get install bash-doc`) is ingested from its HTML through the product's own ingest path
(`IngestPipeline.run`, as `qa ingest` does) into a temporary index, on a throwaway embedded
Redis unless REDIS_URL is set; then every question of `bench/techdoc/questions.json` is asked
through `QAEngine.ask`, with the refusal rule the index would have in use (a fresh index:
the coverage rule). The questions were written in a developer's words, not the manual's; 40
have short gold answers found word for word in the manual, 10 are about neighbouring things
the manual does not cover and should be refused.

Reported: answerable questions whose answer shows the fact (a gold string inside the answer
span: "in answer"; else inside the `context` shown around it: "in context"), answered
without the fact, wrongly refused; unanswerable questions rightly refused; ask latency
(wall clock, warm). A gold string matches case-insensitively with white space collapsed, and
not glued to a letter or digit (so `-e` is not found in `-eu`, nor `500` in `5000`).
Before asking, every gold string is checked against the text the loader extracts from the
manual's files: a manual of another edition that lacks one stops the run.

`--reader trained` needs a reader trained on this temporary index: `--train-minutes M`
trains one on the manual's own texts first (as `qa train-reader` does; no question of the set
is seen). Nothing is written to BENCHMARKS.md unless `--write`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/techdoc_bench.py` rather than with -m
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._env import bench_settings
from bench._report import header, markdown_table, record_start, write_section
from retrieval.choices import READERS

HERE = Path(__file__).resolve().parent
DEFAULT_QUESTIONS = HERE / "techdoc" / "questions.json"
DEFAULT_MANUAL_DIR = Path("/usr/share/doc/bash")
SOURCE = "bash-manual"
SECTION = "techdoc-bench"
WARM_UP = "What is Bash?"


# -- the question set and the matching rule ---------------------------------------------------


def normalize(text: str) -> str:
    return " ".join(text.split()).casefold()


def holds(haystack: str | None, gold: str) -> bool:
    """`gold` inside `haystack`, case-insensitively, white space collapsed; an edge of `gold`
    that is a letter or digit must not continue a word (`-e` is not in `-eu`)."""
    if not haystack:
        return False
    g = normalize(gold)
    before = r"(?<![\w])" if re.match(r"\w", g) else ""
    after = r"(?![\w])" if re.search(r"\w$", g) else ""
    return re.search(before + re.escape(g) + after, normalize(haystack)) is not None


def same_passage(shown: str | None, source: str | None) -> bool:
    """One holds the other, or most of the shorter one's words are in the longer one."""
    if not shown or not source:
        return False
    a, b = normalize(shown), normalize(source)
    if a in b or b in a:
        return True
    short, long = sorted((a.split(), b.split()), key=len)
    return len(short) >= 5 and sum(w in set(long) for w in short) / len(short) >= 0.8


def load_set(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    for q in data["questions"]:
        if q["answerable"] and not q["answers"]:
            raise SystemExit(f"{path}: answerable question {q['id']} has no gold answer")
    return data


def manual_files(data: dict[str, Any], manual_dir: Path) -> list[Path]:
    files = [manual_dir / name for name in data["files"]]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise SystemExit(
            f"manual not found: {', '.join(missing)}. Install it (`apt-get install bash-doc`) "
            "or pass --manual-dir"
        )
    return files


def check_golds(data: dict[str, Any], files: list[Path]) -> str:
    """Every gold string (and source sentence) is in the text the product's loader extracts;
    returns that text's size in words. Stops the run when one is not."""
    from ingest.loaders import load_path

    text = "\n\n".join(doc.text for f in files for doc in load_path(f))
    flat = normalize(text)
    missing = [
        f"{q['id']}: {g!r}" for q in data["questions"] for g in q["answers"] if not holds(text, g)
    ]
    missing += [
        f"{q['id']}: source sentence {q['source_sentence'][:60]!r}..."
        for q in data["questions"]
        if q.get("source_sentence") and normalize(q["source_sentence"]) not in flat
    ]
    if missing:
        raise SystemExit(
            "gold strings not in the manual's extracted text (another edition?):\n  "
            + "\n  ".join(missing)
        )
    return f"{len(text.split())} words"


# -- asking ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    id: str
    question: str
    answerable: bool
    golds: list[str]
    answer: str | None
    context: str | None
    reason: str | None
    score: float
    reader: str
    ms: float
    in_answer: bool = False
    in_context: bool = False
    in_sources: bool = False  # a gold string in a passage the answer lists (retrieval found it)
    top_source: str | None = None
    # the answer (or its context) is the gold's source sentence, or part of it: the right
    # passage; a miss then means the fact's name is not in that sentence (a definition
    # list's term sits in a block of its own, before its description)
    from_source: bool = False

    @property
    def refused(self) -> bool:
        return self.answer is None

    @property
    def verdict(self) -> str:
        if not self.answerable:
            return "refused (right)" if self.refused else "answered (wrong)"
        if self.refused:
            return "refused (wrong)"
        if self.in_answer:
            return "in answer"
        if self.in_context:
            return "in context"
        return "miss"


@dataclass
class Run:
    reader_asked: str
    k: int
    files: list[str]
    manual: str
    extracted: str
    documents: int
    chunks: int
    ingest_seconds: float
    ask_seconds: float
    train: dict[str, Any] | None
    unavailable: dict[str, str] = field(default_factory=dict)  # auto: readers it could not take
    outcomes: list[Outcome] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        ans = [o for o in self.outcomes if o.answerable]
        una = [o for o in self.outcomes if not o.answerable]
        ms = sorted(o.ms for o in self.outcomes)
        shown = sum(o.in_answer or o.in_context for o in ans)
        return {
            "answerable": len(ans),
            "in_answer": sum(o.in_answer for o in ans),
            "in_context": sum(o.in_context and not o.in_answer for o in ans),
            "shows_fact": shown,
            "answered_without_fact": sum(
                not o.refused and not (o.in_answer or o.in_context) for o in ans
            ),
            "wrongly_refused": sum(o.refused for o in ans),
            "gold_in_listed_sources": sum(o.in_sources for o in ans),
            "missed_but_source_sentence": sum(
                o.from_source and not (o.in_answer or o.in_context) and not o.refused for o in ans
            ),
            "unanswerable": len(una),
            "rightly_refused": sum(o.refused for o in una),
            "readers_used": dict(Counter(o.reader for o in self.outcomes)),
            "refusal_reasons": dict(Counter(o.reason for o in self.outcomes if o.reason)),
            "ask_ms_p50": _percentile(ms, 50),
            "ask_ms_p95": _percentile(ms, 95),
        }


def _percentile(sorted_values: list[float], p: float) -> float | None:
    if not sorted_values:
        return None
    from retrieval.training.metrics import percentile

    return round(percentile(sorted_values, p), 1)


@contextmanager
def manual_index(settings, files: list[Path], engine) -> Iterator[tuple[Any, Any]]:
    """Ingest the manual's files into a new `qa-eval-<hex>` index, as `qa ingest` would;
    the index is dropped on exit (also on Ctrl-C)."""
    from workflows.evaluation import temporary_pipeline

    with temporary_pipeline(settings, engine) as (qa, pipeline):
        report = pipeline.run(files, source=SOURCE)
        if report.failed:
            raise SystemExit(f"ingesting the manual failed: {report.failed}")
        yield qa, report


def ask_all(engine, data: dict[str, Any], reader: str, k: int, say) -> list[Outcome]:
    from retrieval.errors import InvalidQuestion

    questions = data["questions"]
    engine.ask(WARM_UP, k=k, reader=reader)  # untimed: loads, connects; not one of the set
    out: list[Outcome] = []
    for n, q in enumerate(questions, start=1):
        t = time.perf_counter()
        try:
            a = engine.ask(q["question"], k=k, reader=reader)
        except InvalidQuestion as e:
            raise SystemExit(f"{q['id']}: the engine rejected the question: {e}") from None
        ms = (time.perf_counter() - t) * 1000
        shown = (a.context or {}).get("text")
        passages = [s.get("text") or "" for s in a.sources]
        passages += [p.get("text") or "" for s in a.sources for p in s.get("passages") or []]
        golds = q["answers"]
        o = Outcome(
            id=q["id"], question=q["question"], answerable=q["answerable"], golds=golds,
            answer=a.answer, context=shown, reason=a.reason, score=round(a.score, 3),
            reader=a.reader, ms=round(ms, 1),
            top_source=(a.sources[0].get("title") or a.sources[0].get("doc_id"))
            if a.sources else None,
        )  # fmt: skip
        if a.answer is not None:
            o.in_answer = any(holds(a.answer, g) for g in golds)
            o.in_context = any(holds(shown, g) for g in golds)
        o.in_sources = any(holds(p, g) for p in passages for g in golds)
        o.from_source = a.answer is not None and any(
            same_passage(text, q.get("source_sentence")) for text in (a.answer, shown)
        )
        out.append(o)
        say(f"[{n}/{len(questions)}] {q['id']} {o.verdict} ({ms:.0f} ms)")
    return out


def run(args: argparse.Namespace, say) -> Run:
    from retrieval.engine import QAEngine
    from retrieval.errors import ModelUnavailable

    data = load_set(Path(args.questions))
    files = manual_files(data, Path(args.manual_dir))
    extracted = check_golds(data, files)
    with bench_settings(args.redis_url) as settings:
        base = QAEngine(settings)
        base.embedder.warm_up()
        started = time.perf_counter()
        with manual_index(settings, files, base) as (engine, report):
            say(f"ingested {report.summary()}")
            manifest = None
            if args.train_minutes:
                from workflows.training import train

                manifest = train(engine, minutes=args.train_minutes, say=say)
            try:
                engine.reader_for(args.reader)
            except ModelUnavailable as e:
                hint = " (pass --train-minutes M)" if args.reader == "trained" else ""
                raise SystemExit(f"reader {args.reader} unavailable: {e}{hint}") from None
            fallback = {}
            if args.reader == "auto":  # why `auto` took what it took
                for name, load in (("trained", engine.reading.trained_reader),
                                   ("span", engine.reading.span_reader)):  # fmt: skip
                    try:
                        load()
                    except ModelUnavailable as e:
                        fallback[name] = str(e)
            t = time.perf_counter()
            outcomes = ask_all(engine, data, args.reader, args.k, say)
            result = Run(
                reader_asked=args.reader, k=args.k, files=[str(f) for f in files],
                manual=data.get("manual", ""), extracted=extracted,
                documents=report.new + report.updated + report.unchanged,
                chunks=engine.index.count_chunks(), ingest_seconds=round(report.seconds, 1),
                ask_seconds=round(time.perf_counter() - t, 1),
                train=_train_summary(manifest), unavailable=fallback, outcomes=outcomes,
            )  # fmt: skip
        say(f"total {time.perf_counter() - started:.0f}s")
    return result


def _train_summary(manifest: dict[str, Any] | None) -> dict[str, Any] | None:
    if manifest is None:
        return None
    return {k: manifest.get(k) for k in ("minutes", "train_seconds", "examples", "held_out")}


# -- reporting -------------------------------------------------------------------------------


def render(r: Run, verbose: bool) -> str:
    s = r.summary()
    n, u = s["answerable"], s["unanswerable"]

    def share(count: int, of: int) -> str:
        return f"{count}/{of} ({count / of:.2f})" if of else "-"

    readers = ", ".join(f"{k} x{v}" for k, v in s["readers_used"].items())
    extra = [
        f"Manual: {r.manual}; files {', '.join(r.files)} ({r.extracted} extracted); "
        f"{r.documents} document(s), {r.chunks} chunks, ingested in {r.ingest_seconds:.0f}s",
        f"Reader asked: `{r.reader_asked}`; answered by: {readers}; k={r.k}; no calibration "
        "(a fresh index's refusal rule)",
        f"Questions: {n} answerable (gold strings verified in the extracted text), "
        f"{u} unanswerable; asked in {r.ask_seconds:.0f}s",
    ]
    if r.unavailable:
        why = "; ".join(f"{k}: {v}" for k, v in r.unavailable.items())
        extra.append(f"`auto` could not take: {why}")
    if r.train:
        extra.append(f"Trained reader: {r.train}")
    lines = header("Technical documentation: the Bash manual (`bench/techdoc_bench.py`)", extra)
    rows = [
        ["answerable: shows the fact (in answer or in context)", share(s["shows_fact"], n)],
        ["  gold in the answer span", share(s["in_answer"], n)],
        ["  gold only in the context sentence", share(s["in_context"], n)],
        ["answerable: answered without the fact", share(s["answered_without_fact"], n)],
        [
            "  of which the answer is the fact's source sentence (its term not in it)",
            share(s["missed_but_source_sentence"], n),
        ],
        ["answerable: wrongly refused", share(s["wrongly_refused"], n)],
        ["answerable: gold in a listed source passage", share(s["gold_in_listed_sources"], n)],
        ["unanswerable: rightly refused", share(s["rightly_refused"], u)],
        ["ask ms p50 / p95", f"{s['ask_ms_p50']} / {s['ask_ms_p95']}"],
    ]
    lines += markdown_table(("metric", "value"), rows)
    if s["refusal_reasons"]:
        reasons = ", ".join(f"{k} x{v}" for k, v in s["refusal_reasons"].items())
        lines += ["", f"Refusal reasons: {reasons}"]
    if verbose:
        lines += ["", "Per question:", ""]
        for o in r.outcomes:
            mark = " (source sentence)" if o.from_source and o.verdict == "miss" else ""
            lines.append(f"- {o.id} [{o.verdict}{mark}] {o.question}")
            lines.append(f"    gold: {' | '.join(o.golds) or '-'}; score {o.score}; {o.ms:.0f} ms")
            if o.refused:
                lines.append(f"    refused: {o.reason}")
            else:
                lines.append(f"    answer: {_clip(o.answer)}")
                if o.context and normalize(o.context) != normalize(o.answer or ""):
                    lines.append(f"    context: {_clip(o.context)}")
    return "\n".join(lines)


def _clip(text: str | None, limit: int = 300) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def to_json(r: Run) -> dict[str, Any]:
    d = asdict(r)
    for o, od in zip(r.outcomes, d["outcomes"], strict=True):
        od["verdict"] = o.verdict
    d["summary"] = r.summary()
    return d


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--reader",
        choices=[x for x in READERS if x != "span"],
        default="auto",
        help="the reader asked for (default auto: the best this index has)",
    )
    parser.add_argument(
        "--manual-dir",
        default=str(DEFAULT_MANUAL_DIR),
        help=f"folder holding the manual's files (default {DEFAULT_MANUAL_DIR})",
    )
    parser.add_argument(
        "--questions",
        default=str(DEFAULT_QUESTIONS),
        help="the question set (default bench/techdoc/questions.json)",
    )
    parser.add_argument("--k", type=int, default=5, help="chunks each answer reads")
    parser.add_argument(
        "--train-minutes",
        type=float,
        default=0,
        help="train a reader on the manual's texts first (for --reader trained)",
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--verbose", action="store_true", help="one entry per question")
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="FILE",
        help="the raw results as JSON: on stdout instead of the report, or "
        "written to FILE beside it",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help=f"also replace the `{SECTION}` section of BENCHMARKS.md",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    if args.reader == "trained" and not args.train_minutes:  # a fresh index has none
        parser.error("--reader trained needs --train-minutes M: the temporary index is new")

    def say(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    record_start()
    result = run(args, say)
    body = render(result, args.verbose)
    if args.json == "-":
        json.dump(to_json(result), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(to_json(result), f, indent=2, ensure_ascii=False)
        print(body)
    if args.write:
        write_section(f"{SECTION}-{args.reader}", render(result, verbose=False))


if __name__ == "__main__":
    main()
