"""Slack follow-up latency against a first question's, paired, on COVID-QA.

    .venv/bin/python -m bench.slack_followup_bench [--articles 15] [--pairs 200]

The first articles are ingested into a temporary index. For each pair of consecutive real
questions (A, B), the bot's own work is timed twice, in alternating order:
- first question: `B` asked in a channel (compose: scope lookup, engine, answer kept for the
  buttons; then the thread's question is remembered);
- follow-up: `and B` asked in A's thread (the thread's question read from Redis, the
  standalone rule, the query widened with A's key terms, then the same work).
Posting to Slack is the same for both and not timed. Each pair is run `--repeats` times and
each side keeps its fastest run, so that the load of a shared machine blurs the comparison
less. The target: the follow-up takes at most 5 ms more than the first question.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/slack_followup_bench.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import itertools

from bench._env import bench_parser, bench_settings, data_path
from bench._report import header, markdown_table, record_start, verdict, write_section
from bot.slack.responder import Responder
from retrieval.engine import QAEngine
from retrieval.training.squad import SquadSet, load_squad
from workflows.evaluation import squad_index

TARGET_MS = 5.0
CHANNEL, USER = "C0BENCH01", "U0BENCH01"


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--articles", type=int, default=25, help="articles ingested")
    parser.add_argument("--pairs", type=int, default=150, help="question pairs timed")
    parser.add_argument("--repeats", type=int, default=3, help="runs per pair; the fastest counts")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    args = parser.parse_args(argv)
    record_start()
    with bench_settings(args.redis_url) as settings:
        squad = first_articles(load_squad(data_path(args.data)), args.articles)
        engine = QAEngine(settings.with_(reader="sentence"))
        with squad_index(squad, engine.settings, engine) as ev:
            first, follow = run(Responder(ev.engine), squad, args.pairs, args.repeats)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump({"first_ms": first, "followup_ms": follow}, f)
    body = render(first, follow, args.articles, args.repeats)
    print(body)
    if not args.no_write:
        write_section("slack-followup-bench", body)


def first_articles(squad: SquadSet, n: int) -> SquadSet:
    keep = {i for i, c in enumerate(squad.contexts) if c.article < n}
    questions = [q for q in squad.questions if q.context in keep]
    return SquadSet(squad.name, [squad.contexts[i] for i in sorted(keep)], questions)


def run(
    bot: Responder, squad: SquadSet, pairs: int, repeats: int
) -> tuple[list[float], list[float]]:
    texts = [q.text for q in squad.questions][: pairs + 1]
    for text in texts[:5]:  # warm up the model and the connection
        bot.compose(text, user=USER, channel=CHANNEL)
    first: list[float] = []
    follow: list[float] = []
    for i, (earlier, question) in enumerate(itertools.pairwise(texts)):
        thread = f"1700000000.{i:06d}"
        bot.state.remember_thread(CHANNEL, thread, earlier, 600)
        arms = [(first, lambda q=question: ask_first(bot, q))]
        arms.append((follow, lambda q=question, t=thread: ask_follow_up(bot, "and " + q, t)))
        best = {id(times): float("inf") for times, _ in arms}
        for r in range(repeats):
            for times, job in arms if (i + r) % 2 else arms[::-1]:
                started = time.perf_counter()
                job()
                best[id(times)] = min(best[id(times)], (time.perf_counter() - started) * 1000)
        for times, _ in arms:
            times.append(best[id(times)])
    return first, follow


def ask_first(bot: Responder, question: str) -> None:
    _, about = bot.compose(question, user=USER, channel=CHANNEL)
    bot.state.remember_thread(CHANNEL, "1700000001.000000", about or "", 600)


def ask_follow_up(bot: Responder, question: str, thread: str) -> None:
    earlier = bot.state.thread_question(CHANNEL, thread)
    _, about = bot.compose(question, user=USER, channel=CHANNEL, earlier=earlier)
    bot.state.remember_thread(CHANNEL, thread, about or "", 600)


def render(first: list[float], follow: list[float], articles: int, repeats: int) -> str:
    diffs = [b - a for a, b in zip(first, follow, strict=True)]
    extra = statistics.median(diffs)
    rows = [
        ["first question", *_stats(first)],
        ["follow-up (with the thread's question)", *_stats(follow)],
    ]
    lines = header(
        "Slack follow-up latency",
        [
            f"Data: COVID-QA, first {articles} articles, sentence reader, hybrid retrieval; "
            f"{len(first)} pairs of consecutive questions, order alternated, the fastest of "
            f"{repeats} runs per side",
            "Timed: the bot's work before posting (Responder.compose plus the thread memory "
            "in Redis); Slack's own round trips are the same for both and not timed",
        ],
    )
    lines += markdown_table(["question", "p50 ms", "p90 ms", "mean ms"], rows)
    lines += [
        "",
        f"Median paired difference (follow-up minus first): {extra:+.2f} ms; target "
        f"<= +{TARGET_MS:.0f} ms: {verdict(extra <= TARGET_MS)}.",
    ]
    return "\n".join(lines)


def _stats(times: list[float]) -> list[str]:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return [f"{statistics.median(times):.1f}", f"{p90:.1f}", f"{statistics.fmean(times):.1f}"]


if __name__ == "__main__":
    main()
