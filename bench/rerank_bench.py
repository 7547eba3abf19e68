"""Retrieval hit@1/@5/@10 of the hybrid reranker per weight set, before and after `qa train`.

    .venv/bin/python -m bench.rerank_bench [--data COVID-QA.json] [--questions N]
    .venv/bin/python -m bench.rerank_bench --fit-defaults

The articles go into a temporary index once; each question's fused candidates are retrieved
once and reranked with every weight set, as the retriever does (its top k of the reranked top
30): the weights chosen on COVID-QA before issue 23 ("COVID-chosen", kept here only to
measure what replaced them), those fitted on the bundled sample's real questions, the
product's defaults (`retrieval.query.rerank.WEIGHTS`) and the weights `qa train` fits on this
index's own generated questions (the dataset's questions are never seen by the fit).

--fit-defaults fits the defaults once on the bundled sample's real questions, training
articles only (retrieval/training/sample/, CC BY-SA 4.0; the held-out articles are a
benchmark set), in an index of those articles, and prints them (no BENCHMARKS.md update).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._env import bench_parser, bench_settings, data_path
from bench._report import header, markdown_table, record_start, write_section
from retrieval.engine import QAEngine
from retrieval.query.filters import Filters
from retrieval.query.rerank import DEPTH, FEATURES, WEIGHTS, features, vector_of
from retrieval.training import general
from retrieval.training.rerank_fitting import Asked, choose, fit_weights
from retrieval.training.squad import Question, SquadSet, load_squad
from workflows.evaluation import doc_id_of, squad_index

COVID_CHOSEN = {"fused": 0.5, "sentence": 0.35, "bigram": 0.15, "chunk": 0.15}  # measured only
# What `--fit-defaults` printed (2026-12-04): measured beside the defaults it did not replace.
SAMPLE_FITTED = {"fused": 0.55, "sentence": 0.25, "bigram": 0.2, "chunk": 0.0}
KS = (1, 5, 10)


def candidates_of(engine: QAEngine, squad: SquadSet) -> list[tuple[np.ndarray, list[int]]]:
    """Per question: its fused candidates' features, and the rows holding a whole gold span."""
    out = []
    questions = squad.questions
    bar = tqdm(total=len(questions), unit="q", file=sys.stderr, disable=not sys.stderr.isatty())
    for b in range(0, len(questions), 32):
        part = questions[b : b + 32]
        for q, vector in zip(part, engine.embedder.embed([q.text for q in part]), strict=True):
            hits = engine.retriever.candidates(q.text, vector, DEPTH, Filters())[:DEPTH]
            doc_id = doc_id_of(squad.contexts[q.context])
            gold = [i for i, h in enumerate(hits) if _holds(h, doc_id, q)]
            out.append((features(q.text, hits), gold))
        bar.update(len(part))
    bar.close()
    return out


def _holds(hit, doc_id: str, q: Question) -> bool:  # type: ignore[no-untyped-def]
    return hit.doc_id == doc_id and any(
        hit.start <= g.start and g.end <= hit.end for g in q.answers
    )


def hits_at(
    asked: list[tuple[np.ndarray, list[int]]], weights: dict[str, float]
) -> dict[int, float]:
    """Share of questions whose first gold chunk ranks within k, reranked as the product does."""
    w = vector_of(weights)
    ranks = []
    for rows, gold in asked:
        if not gold:
            ranks.append(0)
            continue
        order = np.argsort(-(rows @ w), kind="stable")  # equal scores keep the fused order
        position = np.empty(len(order), dtype=int)
        position[order] = np.arange(1, len(order) + 1)
        ranks.append(int(position[gold].min()))
    return {k: float(np.mean([0 < r <= k for r in ranks])) for k in KS}


def fit_defaults(settings) -> None:  # type: ignore[no-untyped-def]
    train = general.sample_sets()[0]
    engine = QAEngine(settings).warm_up()
    with squad_index(train, settings, engine) as built:
        asked = candidates_of(built.engine, train)
    rows = [Asked(r, g[0] if g else -1) for r, g in asked]
    weights, scores = choose(rows)
    print(json.dumps({"weights": weights, "scores": scores, "questions": len(rows),
                      "hit_at": {"defaults": hits_at(asked, WEIGHTS),
                                 "fitted": hits_at(asked, weights)}}, indent=2))  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--questions", type=int, default=400, help="generated for the fit")
    parser.add_argument("--fit-defaults", action="store_true")
    args = parser.parse_args(argv)
    record_start()
    with bench_settings(None) as settings:
        if args.fit_defaults:
            fit_defaults(settings)
            return
        squad = load_squad(data_path(args.data))
        engine = QAEngine(settings).warm_up()
        with squad_index(squad, settings, engine) as built:
            print(f"ingested {built.ingest.summary()}", file=sys.stderr)
            asked = candidates_of(built.engine, squad)
            record = fit_weights(built.engine, args.questions)
            chunks = built.engine.index.count_chunks()
    sets = {
        "COVID-chosen (before)": COVID_CHOSEN,
        "fitted on the sample's real questions": SAMPLE_FITTED,
        "defaults (after, before `qa train`)": dict(WEIGHTS),
    }
    if record is not None:
        sets["fitted on this index (after `qa train`)"] = record.weights
    rows = [
        [name, ", ".join(f"{w[f]:.2f}" for f in FEATURES), *(f"{v:.3f}" for v in at.values())]
        for name, w in sets.items()
        if (at := hits_at(asked, w))
    ]
    fit = "none (too few questions)" if record is None else (
        f"{record.questions} generated questions found among the candidates, "
        f"{record.seconds:.0f}s; their own chunk's MRR {record.scores['mrr_default']:.3f} with "
        f"the defaults, {record.scores['mrr_fitted']:.3f} fitted, "
        f"{record.scores['mrr_cross_validated']:.3f} cross-validated"
        + (" (defaults kept)" if record.scores.get("kept_defaults") else "")
    )  # fmt: skip
    body = "\n".join([
        *header(f"Reranker weights: {squad.name} (`bench/rerank_bench.py`)", [
            f"Data: {squad.name}: {len(squad.contexts)} contexts, {chunks} chunks, "
            f"{len(squad.questions)} questions; hybrid, top {DEPTH} fused candidates reranked",
            f"Fit: {fit}",
        ]),
        *markdown_table(["weights", " / ".join(FEATURES), *(f"hit@{k}" for k in KS)], rows),
    ])  # fmt: skip
    print(body)
    if not args.no_write:
        write_section(f"rerank-bench-{Path(squad.name).stem.lower()}", body)


if __name__ == "__main__":
    main()
