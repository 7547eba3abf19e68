"""End-to-end quality and latency on COVID-QA, per retrieval mode, with the product's reader.

    .venv/bin/python -m bench.qa_bench [--limit-questions N] [--data COVID-QA.json]
        [--modes hybrid,vector,keyword] [--reader auto|sentence] [--train-minutes 20]

The articles are ingested once into a temporary index; each mode (hybrid, vector, keyword)
then asks every question against it (see `workflows.evaluation`). Latencies are warm. With
--train-minutes, a reader is then trained on the index's own texts (as `qa train-reader`
does; the questions and answers are never seen) and hybrid is asked again with it, then
both readers on the short-answer questions alone.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

if __package__ in (None, ""):  # run as `python bench/qa_bench.py` rather than with -m
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._env import bench_parser, bench_settings, data_path
from bench._report import header, markdown_table, record_start, verdict, write_section
from retrieval.choices import MODES
from retrieval.engine import QAEngine
from retrieval.settings import Settings
from retrieval.training.squad import SquadSet, load_squad
from workflows.evaluation import EvalIndex, EvalReport, evaluate_on, squad_index
from workflows.training import train

READER = "auto"  # what a fresh index answers with: the shipped reader
# Reading is measured apart from refusal (bench/refusal_bench.py): no confidence threshold,
# so only a reader's own abstention counts, as in the rounds before.
READ_ALL = 0.0
TRAINED = "hybrid, trained"
SHORT_WORDS = 3
SHORT, SHORT_TRAINED = f"answers <= {SHORT_WORDS} words", f"answers <= {SHORT_WORDS} words, trained"
TRAINED_TARGETS = {  # the trained reader's (COVID-QA's, from the reader issue)
    "F1": (">= 0.35", lambda r, s: r.f1 >= 0.35),
    "EM": (">= 0.10", lambda r, s: r.exact_match >= 0.10),
    "context holds gold": (">= 0.48", lambda r, s: r.context >= 0.48),
}
TARGETS = {  # checked on the default configuration: hybrid retrieval, sentence reader
    "hit@5": (">= 0.85", lambda r: r.hit_at[5] >= 0.85),
    "containment": (">= 0.60", lambda r: r.containment >= 0.60),
    "mean answer words": ("<= 40", lambda r: (r.mean_answer_words or 0) <= 40),
    "ask ms": ("p50 < 60", lambda r: (r.latency_ms["ask"]["p50"] or 0) < 60),
}


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--limit-questions", type=int, default=None, help="ask only N questions")
    parser.add_argument("--k", type=int, default=5, help="chunks each answer reads")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--modes", default=",".join(MODES), help="retrieval modes to measure")
    parser.add_argument(
        "--train-minutes", type=float, default=0, help="also train a reader and measure it"
    )
    parser.add_argument("--reader", default=READER, choices=("auto", "sentence"),
                        help="the reader of the untrained columns")  # fmt: skip
    args = parser.parse_args(argv)
    load_start = os.getloadavg()[0]
    record_start()
    with bench_settings(args.redis_url) as settings:
        modes = ["hybrid", *(m for m in args.modes.split(",") if m in MODES and m != "hybrid")]
        reports, ingest_s, manifest = run(settings, args.data, args.limit_questions, args.k,
                                          modes, args.train_minutes, args.reader)  # fmt: skip
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump({m: r.to_dict() for m, r in reports.items()}, f, indent=2)
    body = render(reports, settings, ingest_s, load_start, manifest, args.reader)
    print(body)
    if not args.no_write:
        name = "qa-bench-trained" if args.train_minutes else "qa-bench"
        write_section(name if args.reader == READER else f"{name}-{args.reader}", body)


def run(
    settings: Settings, data: str | None, limit: int | None, k: int,
    modes: list[str] | tuple[str, ...] = MODES, train_minutes: float = 0, reader: str = READER,
) -> tuple[dict[str, EvalReport], float, dict | None]:  # fmt: skip
    """One ingestion, then every mode against the same temporary index (then trained)."""
    squad = load_squad(data_path(data))
    if limit is not None:
        squad = replace(squad, questions=squad.questions[:limit])
    engine = QAEngine(settings).warm_up()
    reports: dict[str, EvalReport] = {}
    with squad_index(squad, settings, engine) as built:
        print(f"ingested {built.ingest.summary()}", file=sys.stderr)
        for mode in modes:
            reports[mode] = _measure(built, squad, k, reader, mode)
            print(f"{mode}: hit@5 {reports[mode].hit_at[5]:.3f}", file=sys.stderr)
        manifest = None
        if train_minutes:
            manifest = train(built.engine, minutes=train_minutes,
                             say=lambda m: print(m, file=sys.stderr))  # fmt: skip
            print(f"trained: {manifest['examples']} {manifest['held_out']}", file=sys.stderr)
            reports[TRAINED] = _measure(built, squad, k, "trained", "hybrid")
            short = _short_answers(squad)  # factoid questions, as encyclopedic QA sets ask
            reports[SHORT] = _measure(built, short, k, reader, "hybrid")
            reports[SHORT_TRAINED] = _measure(built, short, k, "trained", "hybrid")
        return reports, built.ingest.seconds, manifest


def _short_answers(squad: SquadSet) -> SquadSet:
    questions = [
        q for q in squad.questions if q.answers and len(q.answers[0].text.split()) <= SHORT_WORDS
    ]
    return replace(squad, questions=questions)


def _measure(built: EvalIndex, squad: SquadSet, k: int, reader: str, mode: str) -> EvalReport:
    with tqdm(total=len(squad.questions), desc=f"{mode} {reader}", unit="q", file=sys.stderr,
              disable=not sys.stderr.isatty()) as bar:  # fmt: skip
        return evaluate_on(
            built.engine, squad, k=k, reader=reader, mode=mode, ingest=built.ingest,
            progress=lambda done, total: bar.update(done - bar.n), min_confidence=READ_ALL,
        )  # fmt: skip


def render(
    reports: dict[str, EvalReport], settings: Settings, ingest_s: float, load_start: float,
    manifest: dict | None = None, reader: str = READER,
) -> str:  # fmt: skip
    first = next(iter(reports.values()))
    default = reports["hybrid"]
    modes = list(reports)

    def row(name: str, value, digits: int = 3, target: str | None = None) -> list[str]:
        cells = [
            f"{value(r):.{digits}f}" if value(r) is not None else "-" for r in reports.values()
        ]
        note = ""
        if target in TARGETS:
            text, check = TARGETS[target]
            note = f"{text} (hybrid): {verdict(check(default))}"
        return [name, *cells, note]

    def lat(stage: str) -> str:
        return " / ".join(
            "-" if r.latency_ms[stage][p] is None else f"{r.latency_ms[stage][p]:.1f}"
            for r in [default]
            for p in ("p50", "p95")
        )

    rows = [
        row("retrieval hit@1 (top-10 list)", lambda r: r.hit_at[1]),
        row("retrieval hit@5", lambda r: r.hit_at[5], target="hit@5"),
        row("retrieval hit@10", lambda r: r.hit_at[10]),
        row(f"answer containment (k={first.k})", lambda r: r.containment, target="containment"),
        row("context holds gold", lambda r: r.context),
        row("exact match", lambda r: r.exact_match),
        row("F1", lambda r: r.f1),
        row("abstention", lambda r: r.abstention),
        row("mean answer words", lambda r: r.mean_answer_words, 1, "mean answer words"),
        *(
            row(f"{stage.replace('_', ' ')} ms p50", lambda r, s=stage: r.latency_ms[s]["p50"], 1,
                "ask ms" if stage == "ask" else None)
            for stage in ("ask", "embed", "retrieve", "read", "retrieval_only")
        ),
        *(
            row(f"{stage.replace('_', ' ')} ms p95", lambda r, s=stage: r.latency_ms[s]["p95"], 1)
            for stage in ("ask", "embed", "retrieve", "read", "retrieval_only")
        ),
    ]  # fmt: skip
    extra = [
        f"Data: {first.dataset}: {first.documents} articles as documents, {first.chunks} chunks "
        f"(ingested once in {ingest_s:.0f}s), {first.questions} questions "
        f"({first.answerable} answerable, {first.skipped} skipped)",
        f"Reader: {first.reader} (asked for `{reader}`), k={first.k}; hit@k from a separate "
        "top-10 retrieval; embed/retrieve/read are `Answer.timings`, ask is wall clock",
        f"Embedder: {settings.embedding_model}, backend setting `{settings.embedding_backend}`; "
        "Redis: a throwaway embedded server unless REDIS_URL was set",
        f"Hybrid ask latency p50 / p95: {lat('ask')} ms; load average at the start "
        f"{load_start:.1f} (the machine is shared; latencies are noisy)",
    ]
    if manifest is not None:
        extra += _trained_lines(manifest, reports, settings.train_threads or os.cpu_count() or 1)
    lines = header(f"QA quality and latency: {first.dataset} (`bench/qa_bench.py`)", extra)
    lines += markdown_table(("metric", *modes, "target"), rows)
    return "\n".join(lines)


def _trained_lines(manifest: dict, reports: dict[str, EvalReport], threads: int) -> list[str]:
    ex, held = manifest["examples"], manifest["held_out"]
    trained, sentence = reports[TRAINED], reports["hybrid"]
    checks = ", ".join(
        f"{name} {text}: {verdict(check(trained, sentence))}"
        for name, (text, check) in TRAINED_TARGETS.items()
    )
    stage = manifest["general"]
    return [
        f"Trained reader (`{TRAINED}` column): general stage {stage['key']} ({stage['minutes']} "
        f"minutes, {stage['questions']} real questions; held out, through retrieval: "
        f"EM {stage['held_out']['em']:.3f} F1 {stage['held_out']['f1']:.3f}); index stage "
        f"{manifest['minutes']} minutes ({manifest['train_seconds']}s training, "
        f"{manifest['steps']} steps): {ex['trained_on']} questions read of {ex['generated']} "
        f"generated ({ex['generator']}, {ex['generation_seconds']}s) and {ex['real']} real, "
        f"{manifest['precision']}; held-out generated EM {held['em']:.3f} "
        f"F1 {held['f1']:.3f}; base {manifest['base']}; {threads} torch thread(s)",
        f"Trained-reader targets: {checks}",
        f"Short-answer columns: the {reports[SHORT].questions} questions whose gold answer has at "
        f"most {SHORT_WORDS} words, each reader (factoid questions, like encyclopedic QA sets')",
    ]


if __name__ == "__main__":
    main()
