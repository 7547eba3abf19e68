"""The soak's figures (`bench/soak_bench.py`) as the `soak-bench` section of BENCHMARKS.md."""

from __future__ import annotations

import argparse
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench._report import header, markdown_table, verdict
from bench.soak_parts import Clients, Outcome

MB = 2**20
GROWTH_ALLOWED = 1.10  # a worker's memory may end at most 10 % above its warm-up peak


@dataclass
class Run:
    """Everything measured, for the report."""

    args: argparse.Namespace
    started: float = 0.0  # monotonic, when the clients started
    restarts: list[dict] = field(default_factory=list)  # killed, restarted, ready (monotonic)
    changes: list[str] = field(default_factory=list)
    worker_exits: list[str] = field(default_factory=list)
    clients: Clients | None = None
    rss: dict[int, list[tuple[float, int]]] = field(default_factory=dict)
    checks: dict = field(default_factory=dict)
    load_start: float = 0.0


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))] if xs else float("nan")


def recoveries(run: Run) -> list[dict[str, Any]]:
    """Per restart: the 503s while Redis was away, how long it took to load, and the time
    from the restart to the first 200 of a question asked after the kill."""
    out = []
    outcomes = run.clients.outcomes if run.clients else []
    for r in run.restarts:
        first = min((o.done for o in outcomes
                     if o.status == 200 and o.sent >= r["killed"] and o.done >= r["restarted"]),
                    default=None)  # fmt: skip
        during = [o for o in outcomes if r["killed"] <= o.done <= (first or r["ready"])]
        out.append({
            "minute": (r["killed"] - run.started) / 60,
            "load_s": r["ready"] - r["restarted"],
            "recovery_s": None if first is None else first - r["restarted"],
            "503": sum(1 for o in during if o.status == 503),
            "failed": sum(1 for o in during if not o.ok),
        })  # fmt: skip
    return out


def memory(run: Run) -> list[dict[str, Any]]:
    """Per gunicorn worker: peak RSS in the warm-up, peak after it, at the end."""
    warm_end = run.started + run.args.warmup_minutes * 60
    rows = []
    for pid, samples in sorted(run.rss.items()):
        warm = [rss for t, rss in samples if t <= warm_end]
        later = [rss for t, rss in samples if t > warm_end]
        rows.append({
            "pid": pid, "from_minute": (samples[0][0] - run.started) / 60,
            "warm_peak_mb": max(warm) / MB if warm else None,
            "later_peak_mb": max(later) / MB if later else None,
            "end_mb": samples[-1][1] / MB,
            "ok": (not warm or not later) or max(later) <= GROWTH_ALLOWED * max(warm),
        })  # fmt: skip
    return rows


def per_minute(run: Run) -> list[list[Any]]:
    by_minute: dict[int, list[Outcome]] = {}
    for o in run.clients.outcomes if run.clients else []:
        by_minute.setdefault(int((o.done - run.started) // 60), []).append(o)
    rows = []
    for minute, outcomes in sorted(by_minute.items()):
        ms = [o.ms for o in outcomes if o.status == 200]
        counts = Counter("200" if o.status == 200 else "503" if o.ok else "bad" for o in outcomes)
        rows.append([minute + 1, len(outcomes), counts["200"], counts["503"], counts["bad"],
                     f"{percentile(ms, 50):.0f}", f"{percentile(ms, 99):.0f}"])  # fmt: skip
    return rows


def render(run: Run) -> tuple[str, dict[str, Any]]:
    args, checks = run.args, run.checks
    outcomes = run.clients.outcomes if run.clients else []
    answered = [o.ms for o in outcomes if o.status == 200]
    bad = [o for o in outcomes if not o.ok]
    minutes = max(args.minutes, 1e-9)
    examples = Counter(o.what[:120] for o in bad).most_common(5)
    rec, mem = recoveries(run), memory(run)
    equal = not checks.get("differences", ["not checked"])
    lost = len(checks.get("answers_missing", [])) + len(checks.get("feedback_missing", []))
    title = "Soak: web and worker through Redis kills, documents changing (`bench/soak_bench.py`)"
    lines = header(title, [
        f"Processes: the Procfile's `web` (gunicorn, gunicorn.conf.py, WEB_CONCURRENCY "
        f"{os.environ.get('WEB_CONCURRENCY') or 'per core'}) and `worker` (`qa sync --every "
        f"{args.sync_every}`) against one embedded Redis (Valkey + RediSearch, AOF everysec, "
        "its own socket and data folder)",
        f"Load: {args.clients} client threads asking COVID-QA's questions about the "
        f"{args.articles} articles ingested at the start, without pause (0.5 s after a 503), "
        f"for {args.minutes:g} "
        f"minutes; one answer in 20 rated (POST /feedback); every {args.change_every:g} "
        f"minutes {args.new_per_change} new articles written and {args.new_per_change} edited "
        f"for the worker to sync; Redis killed (SIGKILL) every {args.restart_every:g} minutes, "
        f"down {args.down_seconds:g} s, started again on the same AOF",
        f"Shared machine: 2 cores with other people's work (load average at the start "
        f"{run.load_start:.1f}): latencies include their load",
    ])  # fmt: skip
    lines += markdown_table(["check", "measured", "verdict"], [
        ["every response is a 200 or a 503 problem+json",
         f"{len(outcomes)} responses: {len(answered)} answers, "
         f"{sum(1 for o in outcomes if o.ok and o.status == 503)} 503, {len(bad)} other"
         + ("; " + "; ".join(f"{n} x `{w}`" for w, n in examples) if examples else ""),
         verdict(not bad)],
        [f"no web worker's RSS grows > 10 % past its first {args.warmup_minutes:g} minutes' "
         "peak", "; ".join(_memory_cell(m) for m in mem) or "no samples",
         verdict(all(m["ok"] for m in mem))],
        ["nothing a user saw answered is lost (after one more SIGKILL at the end)",
         f"{checks.get('answers_handed', 0)} answer ids handed out, "
         f"{len(checks.get('answers_missing', []))} missing; "
         f"{checks.get('feedback_acked', 0)} feedback entries acknowledged, "
         f"{len(checks.get('feedback_missing', []))} missing; "
         f"{checks.get('answers_not_kept', 0)} answers sent without an id (Redis could not keep "
         "them: said so, not lost)", verdict(lost == 0)],
        ["the index equals a clean ingest of the same files",
         f"{checks.get('documents')} documents / {checks.get('chunks')} chunks vs "
         f"{checks.get('clean_documents')} / {checks.get('clean_chunks')}"
         + ("" if equal else ": " + "; ".join(checks.get("differences", []))), verdict(equal)],
        ["the worker keeps running", "; ".join(run.worker_exits) or "never exited",
         verdict(not run.worker_exits)],
    ])  # fmt: skip
    lines += ["", f"Answers: p50 {percentile(answered, 50):.0f} ms, p99 "
              f"{percentile(answered, 99):.0f} ms over {len(answered)}; errors (not 200) per "
              f"minute {(len(outcomes) - len(answered)) / minutes:.1f}, of which failures "
              f"(neither 200 nor 503 problem+json) {len(bad) / minutes:.2f}", ""]  # fmt: skip
    lines += markdown_table(["Redis kill", "at minute", "503s", "failures", "Redis load s",
                             "restart to first 200, s"],
                            [[i + 1, f"{r['minute']:.1f}", r["503"], r["failed"],
                              f"{r['load_s']:.2f}", _seconds(r["recovery_s"])]
                             for i, r in enumerate(rec)])  # fmt: skip
    lines += ["", *markdown_table(["minute", "responses", "200", "503", "failures", "p50 ms",
                                   "p99 ms"], per_minute(run))]  # fmt: skip
    lines += ["", "Documents changed: " + ("; ".join(run.changes) or "none")]
    result = {"responses": len(outcomes), "answered": len(answered), "failures": len(bad),
              "p50_ms": percentile(answered, 50), "p99_ms": percentile(answered, 99),
              "restarts": rec, "memory": mem, "checks": checks,
              "worker_exits": run.worker_exits, "changes": run.changes}  # fmt: skip
    return "\n".join(lines), result


def _memory_cell(m: dict[str, Any]) -> str:
    if m["warm_peak_mb"] is None:
        return f"pid {m['pid']} (from minute {m['from_minute']:.1f}): end {m['end_mb']:.0f} MB"
    later = "-" if m["later_peak_mb"] is None else f"{m['later_peak_mb']:.0f}"
    return (f"pid {m['pid']}: warm-up peak {m['warm_peak_mb']:.0f} MB, later peak {later} MB, "
            f"end {m['end_mb']:.0f} MB")  # fmt: skip


def _seconds(x: float | None) -> str:
    return "never" if x is None else f"{x:.1f}"
