"""Knowing when not to answer, on a held-out half of COVID-QA, before and after `qa calibrate`.

    .venv/bin/python -m bench.refusal_bench [--questions N] [--real-questions N]
        [--limit-questions N] [--data F] [--train-minutes 20]

Every other article is ingested into a temporary index; every question is asked, so the
questions about the left-out articles have no answer in the index and should be refused.
First before any calibration (the coverage rule), then after `qa calibrate` on the index
(its synthetic questions and the bundled sample's real ones: the data set's questions and
answers are never used to fit or choose). Per reader available: sentence, and `trained` with
--train-minutes (a reader trained on the ingested half's texts first, as `qa train-reader`
would). Reported: per signal, how well it ranks the real questions (AUROC); per target, the
share of answerable questions the calibration promised to refuse at most, and the measured one.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/refusal_bench.py` rather than with -m
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._env import bench_parser, bench_settings, data_path
from bench._report import header, markdown_table, record_start, verdict, write_section
from retrieval.calibration.run import DEFAULT_QUESTIONS
from retrieval.confidence.model import auroc
from retrieval.engine import QAEngine
from retrieval.errors import InvalidQuestion, ModelUnavailable
from retrieval.training.metrics import percentile
from retrieval.training.squad import SquadSet, load_squad
from workflows.calibration import REAL_QUESTIONS, calibrate_index
from workflows.evaluation import squad_index
from workflows.training import train

TARGETS = (0.03, 0.05, 0.10, 0.20)  # refusal targets read off the same calibrated answers


@dataclass
class Pass:
    """Every question asked once: was it refused, its score, how long it took."""

    answerable: list[bool]
    refused: list[bool]
    scores: list[float]
    reasons: list[str | None]
    ms: list[float]
    signals: list[dict[str, float]] = field(default_factory=list)  # once calibrated

    def refused_below(self, threshold: float) -> list[bool]:
        """Refusals had the confidence threshold been `threshold` (other reasons stay)."""
        return [
            (r not in (None, "low_confidence")) or s < threshold
            for r, s in zip(self.reasons, self.scores, strict=True)
        ]

    def rates(self, refused: list[bool] | None = None) -> tuple[float, float]:
        refused = self.refused if refused is None else refused
        a = [r for r, ok in zip(refused, self.answerable, strict=True) if ok]
        u = [r for r, ok in zip(refused, self.answerable, strict=True) if not ok]
        return sum(u) / max(len(u), 1), sum(a) / max(len(a), 1)

    def auroc(self, signal: str | None = None) -> float:
        """How well `score` (or one of the calibration's signals) ranks answerable first."""
        values = self.scores if signal is None else [s.get(signal, 0.0) for s in self.signals]
        pos = [v for v, ok in zip(values, self.answerable, strict=True) if ok]
        neg = [v for v, ok in zip(values, self.answerable, strict=True) if not ok]
        return auroc(pos, neg)


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--questions", type=int, default=DEFAULT_QUESTIONS,
                        help="synthetic questions for the calibration")  # fmt: skip
    parser.add_argument("--real-questions", type=int, default=REAL_QUESTIONS,
                        help="the sample's real questions for the calibration")  # fmt: skip
    parser.add_argument("--limit-questions", type=int, default=None, help="ask only N questions")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument(
        "--train-minutes", type=float, default=0, help="train a reader on the half, measure it too"
    )
    args = parser.parse_args(argv)
    record_start()
    with bench_settings(args.redis_url) as settings:
        squad = load_squad(data_path(args.data))
        if args.limit_questions is not None:
            squad = replace(squad, questions=squad.questions[: args.limit_questions])
        kept = {c.article for c in squad.contexts if c.article % 2 == 0}
        half = replace(squad, contexts=[c for c in squad.contexts if c.article in kept])
        engine = QAEngine(settings).warm_up()
        with squad_index(half, settings, engine) as built:
            manifest = None
            if args.train_minutes:
                manifest = train(built.engine, minutes=args.train_minutes,
                                 say=lambda m: print(m, file=sys.stderr))  # fmt: skip
            results = run(built.engine, squad, kept, args.questions, args.real_questions)
            results["trained"] = manifest
            chunks = built.engine.index.count_chunks()
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump(results, f, default=asdict)
    body = render(results, squad, kept, chunks)
    print(body)
    if not args.no_write:
        name = squad.name.removesuffix(".json").lower()
        write_section("refusal-bench" if name == "covid-qa" else f"refusal-bench-{name}", body)


def run(engine: QAEngine, squad: SquadSet, kept: set[int], questions: int, real: int) -> dict:
    readers = ["sentence"]
    try:
        engine.reader_for("trained")
        readers.append("trained")
    except ModelUnavailable:
        pass
    answerable = [squad.contexts[q.context].article in kept for q in squad.questions]
    out: dict = {"readers": {}}
    before = {r: ask_all(engine, squad, answerable, r) for r in readers}
    t = time.perf_counter()
    record = calibrate_index(engine, questions=questions, readers=readers, real_questions=real)
    out["calibration_minutes"] = (time.perf_counter() - t) / 60
    out["synthetic_questions"] = record.questions
    engine.calibration.refresh()
    for r in readers:
        after = ask_all(engine, squad, answerable, r)
        cal = record.readers[r]
        out["readers"][r] = {
            "before": before[r], "after": after,
            "auroc": {k: c.auroc for k, c in cal.curves.items()},
            "thresholds": {t: cal.threshold_for(t) for t in TARGETS},
            "promised": {t: {k: cal.refused(cal.threshold_for(t), k)[0] for k in cal.trusted()}
                         for t in TARGETS},
        }  # fmt: skip
        print(f"{r}: before {before[r].rates()} after {after.rates()}", file=sys.stderr)
    return out


def ask_all(engine: QAEngine, squad: SquadSet, answerable: list[bool], reader: str) -> Pass:
    p = Pass([], [], [], [], [])
    engine.ask(squad.questions[0].text, reader=reader)  # warm
    for q, ok in zip(squad.questions, answerable, strict=True):
        t = time.perf_counter()
        try:
            answer = engine.ask(q.text, reader=reader)
        except InvalidQuestion:
            continue
        p.ms.append((time.perf_counter() - t) * 1000)
        p.answerable.append(ok)
        p.refused.append(answer.answer is None)
        p.scores.append(answer.score)
        p.reasons.append(answer.reason)
        p.signals.append(answer.explanation.get("confidence", {}).get("signals") or {})
    return p


def render(results: dict, squad: SquadSet, kept: set[int], chunks: int) -> str:
    rows, promised, signals = [], [], []
    for reader, r in results["readers"].items():
        before, after = r["before"], r["after"]
        for name, p in (("before calibration", before), ("calibrated, target 0.10", after)):
            u, a = p.rates()
            ok = u >= 0.50 and a <= 0.10
            rows.append([reader, name, f"{u:.3f}", f"{a:.3f}", f"{p.auroc():.3f}",
                         f"{percentile(p.ms, 50):.1f}", verdict(ok)])  # fmt: skip
        for target, threshold in r["thresholds"].items():
            u, a = after.rates(after.refused_below(threshold))
            kinds = r["promised"][target]
            promised.append([reader, f"{target:.2f}", f"{threshold:.3f}",
                             " / ".join(f"{kinds[k]:.3f} {k}" for k in sorted(kinds)),
                             f"{a:.3f}", verdict(a <= target), f"{u:.3f}"])  # fmt: skip
        names = sorted({n for s in after.signals for n in s})
        signals += [[reader, n, f"{after.auroc(n):.3f}"] for n in names]
        signals.append([reader, "**calibrated confidence**", f"{after.auroc():.3f}"])
        signals += [[reader, f"calibration's own {k} questions", f"{v:.3f}"]
                    for k, v in r["auroc"].items()]  # fmt: skip
    n_answerable = sum(results["readers"]["sentence"]["after"].answerable)
    extra = [
        f"Data: {squad.name}: {len(kept)} of {len({c.article for c in squad.contexts})} documents "
        f"ingested (every other one), {chunks} chunks; {len(squad.questions)} questions asked, "
        f"{n_answerable} about ingested ones (answerable), the rest unanswerable",
        f"Calibration: {results['synthetic_questions']} synthetic questions and the bundled "
        f"sample's real ones, each asked with and without its document, "
        f"{results['calibration_minutes']:.2f} minutes; no label of this data set used",
        "AUROC of the answers' `score` (answerable vs not). "
        "Targets: unanswerable refused >= 0.50 while answerable refused <= 0.10, AUROC >= 0.92",
        "ask p50: wall clock per question, before calibration vs calibrated index",
    ]
    if trained := results.get("trained"):
        extra.append(
            f"Trained reader: {trained['minutes']} minutes on the ingested half's texts "
            f"({trained['examples']['trained_on']} examples read, {trained['precision']})"
        )
    lines = header(f"Refusals on a held-out half: {squad.name} (`bench/refusal_bench.py`)", extra)
    lines += markdown_table(("reader", "rule", "unanswerable refused", "answerable refused",
                             "AUROC", "ask ms p50", "target met"), rows)  # fmt: skip
    lines += [
        "",
        "Promised (the calibration's own answerable questions refused at the "
        "threshold, per kind it keeps the promise on) vs measured on this set:",
        "",
    ]
    lines += markdown_table(("reader", "target", "threshold", "promised", "measured answerable "
                             "refused", "kept", "unanswerable refused"), promised)  # fmt: skip
    lines += ["", "Each signal alone, on this set's questions (AUROC, answerable vs not):", ""]
    lines += markdown_table(("reader", "signal", "AUROC"), signals)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
