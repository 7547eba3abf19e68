"""Write the bundled sample's held-out articles as one SQuAD file, one document per article.

    .venv/bin/python -m bench.sample_held_out /tmp/sample-held-out.json
    .venv/bin/python -m bench.qa_bench --data /tmp/sample-held-out.json --train-minutes 20

The reader's general stage never trains on these articles (`general.HELD_OUT`), so they are
a second set for the benchmarks, of another kind than COVID-QA (encyclopedic, short answers).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from retrieval.squad import SquadSet
from retrieval.training.general import sample_sets


def as_json(squad: SquadSet) -> dict:
    articles = []
    for n, context in enumerate(squad.contexts):
        qas = [
            {"id": f"{n}-{i}", "question": q.text,
             "answers": [{"text": g.text, "answer_start": g.start} for g in q.answers]}
            for i, q in enumerate(x for x in squad.questions if x.context == n)
        ]  # fmt: skip
        articles.append({"title": context.title, "paragraphs": [{"context": context.text,
                                                                  "qas": qas}]})  # fmt: skip
    return {"version": "1.1", "data": articles}


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    _, held = sample_sets()
    Path(sys.argv[1]).write_text(json.dumps(as_json(held)), encoding="utf-8")
    print(f"{len(held.contexts)} articles, {len(held.questions)} questions -> {sys.argv[1]}")


if __name__ == "__main__":
    main()
