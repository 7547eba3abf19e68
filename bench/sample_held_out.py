"""Write the bundled sample's held-out articles as one SQuAD file, one document per article.

    .venv/bin/python -m bench.sample_held_out /tmp/sample-held-out.json
    .venv/bin/python -m bench.qa_bench --data /tmp/sample-held-out.json --train-minutes 20
    .venv/bin/python -m bench.sample_held_out --refusal /tmp/sample-refusal.json
    .venv/bin/python -m bench.refusal_bench --data /tmp/sample-refusal.json

The reader's general stage never trains on these articles (`general.HELD_OUT`), so they are
a second set for the benchmarks, of another kind than COVID-QA (encyclopedic, short answers).
With --refusal: one document per paragraph (a half of the articles still makes an index to
calibrate), and only the questions the refusal calibration never asks (`measured_half`).
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from retrieval.training.general import HELD_OUT, SAMPLE, sample_sets
from retrieval.training.squad import SquadSet, load_squad
from workflows.calibration import measured_half


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
    args = sys.argv[1:]
    refusal = "--refusal" in args
    args = [a for a in args if a != "--refusal"]
    if len(args) != 1:
        raise SystemExit(__doc__)
    held = sample_sets()[1]
    if refusal:  # the same questions in the same order, each in its paragraph
        every = load_squad(SAMPLE)
        paragraphs = [n for n, c in enumerate(every.contexts) if c.title in HELD_OUT]
        renumber = {old: new for new, old in enumerate(paragraphs)}
        held = measured_half(SquadSet(every.name, [every.contexts[n] for n in paragraphs], [
            replace(q, context=renumber[q.context]) for q in every.questions
            if q.context in renumber
        ]))  # fmt: skip
    Path(args[0]).write_text(json.dumps(as_json(held)), encoding="utf-8")
    print(f"{len(held.contexts)} documents, {len(held.questions)} questions -> {args[0]}")


if __name__ == "__main__":
    main()
