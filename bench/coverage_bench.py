"""Refusal before calibration: what the coverage rule refuses, answerable and not.

    .venv/bin/python -m bench.coverage_bench [--data F] [--limit-questions 200]

Every article goes into a temporary index; each question is retrieved twice, as asked and
with its own article left out (`not_doc_id`: unanswerable), and the rule of an uncalibrated
index (`retrieval/confidence/coverage.py`) says whether it refuses. Retrieval only: the
rule does not look at the reader. Words the left-out article alone uses still count as
known (the index holds it), so the second column is a lower bound.
"""

from __future__ import annotations

import os
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._env import bench_parser, bench_settings, data_path
from bench._report import header, markdown_table, record_start, write_section
from retrieval.confidence.coverage import MIN_SHARE, coverage
from retrieval.engine import QAEngine
from retrieval.query.filters import Filters
from retrieval.training.squad import load_squad
from workflows.evaluation import doc_id_of, squad_index


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--limit-questions", type=int, default=200)
    args = parser.parse_args(argv)
    record_start()
    with bench_settings(os.environ.get("REDIS_URL")) as settings:
        squad = load_squad(data_path(args.data))
        asked = [q for q in squad.questions if q.answers]
        asked = random.Random(0).sample(asked, min(args.limit_questions, len(asked)))
        with squad_index(replace(squad, questions=asked), settings, QAEngine(settings)) as built:
            engine = built.engine
            refused = {"answerable": 0, "own article left out": 0}
            t = time.perf_counter()
            for q in asked:
                left_out = Filters(not_doc_ids=(doc_id_of(squad.contexts[q.context]),))
                for name, filters in (("answerable", None), ("own article left out", left_out)):
                    found = engine.retrieve(q.text, filters=filters)
                    refused[name] += not coverage(engine.index, found).covered
            ms = (time.perf_counter() - t) * 1000 / (2 * len(asked))
    lines = header(
        f"Refusal before calibration: {squad.name} (`bench/coverage_bench.py`)",
        [f"{len(asked)} questions of {len(squad.contexts)} articles, each asked as is and with "
         f"its own article left out; rule: passages hold >= {MIN_SHARE} of the question's "
         f"words, words no chunk holds counted twice; {ms:.1f} ms per question (retrieval "
         "and rule)"],
    )  # fmt: skip
    lines += markdown_table(("questions", "refused by the rule"),
                            [[k, f"{v / len(asked):.3f}"] for k, v in refused.items()])  # fmt: skip
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section(f"coverage-bench-{squad.name.removesuffix('.json').lower()}", body)


if __name__ == "__main__":
    main()
