"""End-to-end quality and latency on COVID-QA, per retrieval mode, with the sentence reader.

    .venv/bin/python -m bench.qa_bench [--limit-questions N] [--data COVID-QA.json]

The articles are ingested once into a temporary index; each mode (hybrid, vector, keyword)
then asks every question against it (see `bot.evaluation`). Latencies are warm.
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
from bot.evaluation import EvalReport, evaluate_on, squad_index
from retrieval.choices import MODES
from retrieval.engine import QAEngine
from retrieval.settings import Settings
from retrieval.squad import load_squad

READER = "sentence"
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
    args = parser.parse_args(argv)
    load_start = os.getloadavg()[0]
    record_start()
    with bench_settings(args.redis_url) as settings:
        reports, ingest_s = run(settings, args.data, args.limit_questions, args.k)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump({m: r.to_dict() for m, r in reports.items()}, f, indent=2)
    body = render(reports, settings, ingest_s, load_start)
    print(body)
    if not args.no_write:
        write_section("qa-bench", body)


def run(
    settings: Settings, data: str | None, limit: int | None, k: int
) -> tuple[dict[str, EvalReport], float]:
    """One ingestion, then every mode against the same temporary index."""
    squad = load_squad(data_path(data))
    if limit is not None:
        squad = replace(squad, questions=squad.questions[:limit])
    engine = QAEngine(settings).warm_up()
    reports: dict[str, EvalReport] = {}
    with squad_index(squad, settings, engine) as built:
        print(f"ingested {built.ingest.summary()}", file=sys.stderr)
        for mode in MODES:
            with tqdm(total=len(squad.questions), desc=mode, unit="q", file=sys.stderr,
                      disable=not sys.stderr.isatty()) as bar:  # fmt: skip
                reports[mode] = evaluate_on(
                    built.engine, squad, k=k, reader=READER, mode=mode, ingest=built.ingest,
                    progress=lambda done, total: bar.update(done - bar.n),
                )  # fmt: skip
            print(f"{mode}: hit@5 {reports[mode].hit_at[5]:.3f}", file=sys.stderr)
        return reports, built.ingest.seconds


def render(
    reports: dict[str, EvalReport], settings: Settings, ingest_s: float, load_start: float
) -> str:
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
        f"Reader: {first.reader} (asked for `{READER}`), k={first.k}; hit@k from a separate "
        "top-10 retrieval; embed/retrieve/read are `Answer.timings`, ask is wall clock",
        f"Embedder: {settings.embedding_model}, backend setting `{settings.embedding_backend}`; "
        "Redis: a throwaway embedded server unless REDIS_URL was set",
        f"Hybrid ask latency p50 / p95: {lat('ask')} ms; load average at the start "
        f"{load_start:.1f} (the machine is shared; latencies are noisy)",
    ]
    lines = header(f"QA quality and latency: {first.dataset} (`bench/qa_bench.py`)", extra)
    lines += markdown_table(("metric", *modes, "target"), rows)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
