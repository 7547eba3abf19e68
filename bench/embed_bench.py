"""Embedding backends side by side on COVID-QA: speed, query latency, retrieval quality.

    .venv/bin/python -m bench.embed_bench [--backends torch,onnx,onnx-int8] [--rounds 5]

torch fp32, ONNX fp32 and ONNX int8 run in one process, interleaved, so a busy shared
machine slows all of them alike and the ratios hold even when the absolute numbers do not:
- speed: chunks/s embedding the same sample of ~200-token chunks, backends taking turns;
- query latency: one short question at a time, backends taking turns per question;
- quality: hit@k of exact cosine search over every chunk of COVID-QA, per backend (a hit:
  a chunk of the right article that holds the whole gold span is in the top k).
`auto` should be the fastest backend whose hit@5 stays within 0.01 of torch fp32.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as `python bench/embed_bench.py` rather than with -m
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._env import bench_parser, data_path
from bench._report import header, markdown_table, write_section
from ingest.chunker import Chunker
from retrieval.embedding.embedder import BACKENDS, Embedder
from retrieval.embedding.model_files import int8_preset
from retrieval.settings import Settings
from retrieval.training.squad import load_squad
from retrieval.types import Chunk
from workflows.evaluation import doc_id_of, documents_of

KS = (1, 5, 10)
QUALITY_MARGIN = 0.01  # hit@5 a backend may lose against torch fp32 and still be `auto`


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--rounds", type=int, default=5, help="speed rounds per backend")
    parser.add_argument("--sample", type=int, default=256, help="chunks per speed round")
    parser.add_argument("--queries", type=int, default=200, help="questions timed one by one")
    parser.add_argument("--limit-docs", type=int, default=None, help="use only N articles")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    load_start = os.getloadavg()[0]
    result = run(args, [b.strip() for b in args.backends.split(",") if b.strip()])
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    body = render(result, load_start)
    print(body)
    if not args.no_write:
        write_section("embed-bench", body)


def run(args: argparse.Namespace, backends: list[str]) -> dict:
    settings = Settings.from_env()
    embedders: dict[str, Embedder] = {}
    load_s: dict[str, float] = {}
    for backend in backends:  # the first load of an ONNX backend exports it (then cached)
        t = time.perf_counter()
        embedders[backend] = Embedder(settings.with_(embedding_backend=backend)).warm_up()
        load_s[backend] = time.perf_counter() - t
    squad = load_squad(data_path(args.data))
    contexts = squad.contexts[: args.limit_docs]
    first = embedders[backends[0]]
    chunker = Chunker(
        settings.chunk_tokens, settings.chunk_overlap_tokens, first.max_tokens, first.count_tokens
    )
    docs = list(documents_of(squad))[: len(contexts)]
    chunks = [c for doc in docs for c in chunker.chunk(doc)]
    texts = [c.embedding_text() for c in chunks]
    questions = [q for q in squad.questions if not q.impossible and q.context < len(contexts)]
    short = sorted(questions[: args.queries * 2], key=lambda q: len(q.text))[: args.queries]

    speed = _speed(embedders, texts, args.sample, args.rounds)
    latency = _latency(embedders, [q.text for q in short])
    quality = _quality(embedders, chunks, texts, questions, contexts)
    return {
        "backends": backends, "load_s": load_s, "speed": speed, "latency_ms": latency,
        "quality": quality, "chunks": len(chunks), "questions": len(questions),
        "documents": len(contexts), "dataset": squad.name, "sample": args.sample,
        "rounds": args.rounds, "batch": settings.embedding_batch_size,
        "threads": len(os.sched_getaffinity(0)), "int8_preset": int8_preset(),
        "model": first.identity,
    }  # fmt: skip


def _speed(embedders: dict[str, Embedder], texts: list[str], size: int, rounds: int) -> dict:
    """chunks/s per backend on the same sample; the order rotates each round."""
    step = max(1, len(texts) // size)
    sample = texts[::step][:size]
    names = list(embedders)
    for name in names:
        embedders[name].embed(sample[:64])  # untimed: first batches of a new shape are slow
    rates: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t = time.perf_counter()
            embedders[name].embed(sample)
            rates[name].append(len(sample) / (time.perf_counter() - t))
    return rates


def _latency(embedders: dict[str, Embedder], questions: list[str], block: int = 20) -> dict:
    """ms per single-question embedding; backends take turns in blocks of questions.

    Blocks rather than single questions: torch's OpenMP threads keep spinning a moment
    after each call, which would be charged to whichever backend runs next.
    """
    times: dict[str, list[float]] = {n: [] for n in embedders}
    for e in embedders.values():
        for q in questions[:10]:
            e.embed_query(q)
    for start in range(0, len(questions), block):
        for name, e in embedders.items():
            for q in questions[start : start + block]:
                t = time.perf_counter()
                e.embed_query(q)
                times[name].append((time.perf_counter() - t) * 1000)
    return {n: {"p50": _pct(v, 50), "p95": _pct(v, 95), "mean": statistics.fmean(v)}
            for n, v in times.items()}  # fmt: skip


def _quality(embedders, chunks: list[Chunk], texts, questions, contexts) -> dict:
    """hit@k of exact cosine search over all chunks; also whole-corpus chunks/s."""
    doc_of = np.array([c.doc_id for c in chunks])
    out: dict[str, dict] = {}
    reference: np.ndarray | None = None
    for name, e in embedders.items():
        t = time.perf_counter()
        vectors = e.embed(texts)
        corpus_s = time.perf_counter() - t
        queries = e.embed([q.text for q in questions])
        top = np.argsort(-(queries @ vectors.T), axis=1)[:, : max(KS)]
        ranks = [
            _gold_rank(row, q, chunks, doc_of, contexts)
            for row, q in zip(top, questions, strict=True)
        ]
        reference = vectors if reference is None else reference
        out[name] = {
            **{f"hit@{k}": sum(r is not None and r <= k for r in ranks) / len(ranks) for k in KS},
            "corpus_chunks_per_s": len(texts) / corpus_s,
            "cosine_to_first": float(np.mean(np.sum(reference * vectors, axis=1))),
        }
    return out


def _gold_rank(row, question, chunks: list[Chunk], doc_of, contexts) -> int | None:
    doc_id = doc_id_of(contexts[question.context])
    for rank, i in enumerate(row, start=1):
        c = chunks[i]
        if doc_of[i] == doc_id and any(
            c.start <= g.start and g.end <= c.end for g in question.answers
        ):
            return rank
    return None


def choose_auto(result: dict) -> tuple[str, str]:
    """The fastest backend whose hit@5 is within QUALITY_MARGIN of torch fp32, and why."""
    quality, speed = result["quality"], result["speed"]
    base = quality.get("torch", next(iter(quality.values())))["hit@5"]
    ok = [b for b in result["backends"] if quality[b]["hit@5"] >= base - QUALITY_MARGIN]
    best = max(ok, key=lambda b: statistics.median(speed[b]))
    why = (f"fastest (median chunks/s) among backends with hit@5 >= {base:.3f} - "
           f"{QUALITY_MARGIN} (torch fp32): {', '.join(ok)}")  # fmt: skip
    return best, why


def render(r: dict, load_start: float) -> str:
    names = r["backends"]
    base = "torch" if "torch" in names else names[0]
    med = {n: statistics.median(r["speed"][n]) for n in names}
    ratio = {  # per round, then the median: both backends saw the same moment of load
        n: statistics.median(a / b for a, b in zip(r["speed"][n], r["speed"][base], strict=True))
        for n in names
    }
    rows = []
    for n in names:
        q, lat = r["quality"][n], r["latency_ms"][n]
        rows.append((
            f"`{n}`", f"{med[n]:.1f}", f"{ratio[n]:.2f}x", f"{q['corpus_chunks_per_s']:.1f}",
            f"{lat['p50']:.2f} / {lat['p95']:.2f}", f"{q['hit@1']:.3f}", f"{q['hit@5']:.3f}",
            f"{q['hit@10']:.3f}", f"{q['cosine_to_first']:.4f}", f"{r['load_s'][n]:.1f}",
        ))  # fmt: skip
    auto, why = choose_auto(r)
    extra = [
        f"Data: {r['dataset']}: {r['documents']} articles, {r['chunks']} chunks of ~200 tokens "
        f"(ingest.chunker.Chunker), {r['questions']} answerable questions",
        f"Model: {r['model']}; batch {r['batch']}; ONNX Runtime threads {r['threads']}; "
        f"int8 preset `{r['int8_preset']}` (dynamic quantisation)",
        f"Speed: {r['rounds']} rounds of the same {r['sample']} chunks, backends taking turns; "
        "query latency: the shortest questions, one at a time, backends taking turns "
        "in blocks of 20",
        f"Load average at the start: {load_start:.1f} (the machine is shared: compare the "
        "ratios, measured side by side, rather than the absolute numbers)",
    ]
    lines = header("Embedding backends on COVID-QA (`bench/embed_bench.py`)", extra)
    lines += markdown_table(
        ("backend", "chunks/s (median)", f"vs `{base}`", "chunks/s whole corpus",
         "query ms p50 / p95", "hit@1", "hit@5", "hit@10", f"cosine to `{names[0]}`",
         "first load s (export)"),
        rows,
    )  # fmt: skip
    lines += ["", f"**`auto` = `{auto}`**: {why}."]
    return "\n".join(lines)


def _pct(values: list[float], p: float) -> float:
    return float(np.percentile(values, p))


if __name__ == "__main__":
    main()
