"""What users' labels do: the reader trained with and without 50 👍 answers, on COVID-QA.

    QA_DATA_DIR=~/.cache/qa-bench .venv/bin/python -m bench.labels_bench [--labels 50]
        [--train-minutes 20] [--data COVID-QA.json]

All articles go into one temporary index. The labels are questions of the first half of the
articles, recorded as a user's 👍 would be (`FeedbackStore.record`: the question, the gold
answer and the passage around it, five users); the reader is trained without them, measured
on the questions of the other half, then trained again from the same general stage and seed
with them, and measured again. The general stage is trained first if QA_DATA_DIR holds none.
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._env import bench_parser, bench_settings, data_path
from bench._report import header, markdown_table, record_start, write_section
from bench.qa_bench import READ_ALL
from retrieval.engine import QAEngine
from retrieval.feedback import FeedbackStore
from retrieval.training.groups import gold_window
from retrieval.training.squad import SquadSet, load_squad
from workflows.evaluation import EvalReport, doc_id_of, evaluate_on, squad_index
from workflows.training import train

USERS = 5


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--labels", type=int, default=50, help="labelled examples to give")
    parser.add_argument("--train-minutes", type=float, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    record_start()
    with bench_settings(os.environ.get("REDIS_URL")) as settings:
        squad = load_squad(data_path(args.data))
        half = len(squad.contexts) // 2
        measured = replace(squad, questions=[q for q in squad.questions if q.context >= half])
        pool = [q for q in squad.questions if q.context < half and q.answers]
        labels = random.Random(args.seed).sample(pool, min(args.labels, len(pool)))
        say = lambda m: print(m, file=sys.stderr)  # noqa: E731
        engine = QAEngine(settings).warm_up()
        rows = {}
        with squad_index(squad, settings, engine) as built:
            for name, given in (("without labels", []), (f"+ {len(labels)} labels", labels)):
                _record(built.engine, squad, given)
                manifest = train(built.engine, minutes=args.train_minutes, seed=args.seed,
                                 say=say)  # fmt: skip
                say(f"{name}: {manifest['examples']}")
                report = evaluate_on(built.engine, measured, reader="trained",
                                     min_confidence=READ_ALL)  # fmt: skip
                rows[name] = (report, manifest["examples"]["from_users"])
    body = render(rows, squad, measured, args)
    print(body)
    if not args.no_write:
        write_section("labels-bench", body)


def _record(engine: QAEngine, squad: SquadSet, questions: list) -> None:
    """Each question's gold answer as a user's 👍 on it, with the passage around it."""
    store = FeedbackStore(engine.index.client, engine.settings.key_prefix)
    for n, q in enumerate(questions):
        context, gold = squad.contexts[q.context], q.answers[0]
        passage, _ = gold_window(context.text, gold.start, gold.end)
        store.record(question=q.text, answer=gold.text, vote="up", user=f"bench-{n % USERS}",
                     sources=[{"text": passage, "doc_id": doc_id_of(context)}],
                     origin="bench")  # fmt: skip


def render(rows: dict[str, tuple[EvalReport, int]], squad: SquadSet, measured: SquadSet,
           args) -> str:  # type: ignore[no-untyped-def]  # fmt: skip
    lines = header(
        f"Labels from users: {squad.name} (`bench/labels_bench.py`)",
        [f"Labels: {args.labels} questions of the first {len(squad.contexts) // 2} articles "
         f"as 👍 answers; measured on the {len(measured.questions)} questions of the other "
         f"articles, trained reader, {args.train_minutes:g} minutes per training, seed "
         f"{args.seed}; reading measured apart from refusal"],
    )  # fmt: skip
    table = [
        [name, str(used), f"{r.exact_match:.3f}", f"{r.f1:.3f}", f"{r.context:.3f}",
         f"{r.hit_at[5]:.3f}"]
        for name, (r, used) in rows.items()
    ]  # fmt: skip
    lines += markdown_table(("reader", "labels used", "EM", "F1", "context holds gold",
                             "hit@5"), table)  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    main()
