"""Ingestion speed on COVID-QA: the whole pipeline against the embedding step alone.

    .venv/bin/python -m bench.ingest_bench [--limit-docs N] [--data COVID-QA.json]

(a) load the JSON, chunk, embed and write every article into a fresh temporary index;
(b) embed the same chunk texts with nothing else around it, before and after (a).
The pipeline should run at >= 90% of the embedding speed: the model is the cost, and
everything else should hide behind it.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import psutil

if __package__ in (None, ""):  # run as `python bench/ingest_bench.py` rather than with -m
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._env import bench_parser, bench_settings, data_path
from bench._report import header, markdown_table, record_start, verdict, write_section
from ingest.chunker import Chunker, count_tiktokens
from retrieval.engine import QAEngine
from retrieval.settings import Settings
from retrieval.training.squad import load_squad
from workflows.evaluation import documents_of, squad_index

TARGET_RATIO = 0.90


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--limit-docs", type=int, default=None, help="ingest only N articles")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    args = parser.parse_args(argv)
    load_start = os.getloadavg()[0]
    record_start()
    with bench_settings(args.redis_url) as settings:
        result = run(settings, args.data, args.limit_docs)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    body = render(result, settings, load_start)
    print(body)
    if not args.no_write:
        write_section("ingest-bench", body)


def run(settings: Settings, data: str | None, limit_docs: int | None) -> dict:
    """(b) embedding alone, (a) the pipeline, (b) again: the bracket evens out warm-up and drift."""
    engine = QAEngine(settings)
    embedder = engine.embedder.warm_up()
    path = data_path(data)
    squad = load_squad(path)
    squad = replace(squad, contexts=squad.contexts[:limit_docs], questions=[])
    chunker = Chunker(
        settings.chunk_tokens, settings.chunk_overlap_tokens, embedder.max_tokens,
        embedder.count_tokens,
    )  # fmt: skip
    chunks = [c for doc in documents_of(squad) for c in chunker.chunk(doc)]
    texts = [c.embedding_text() for c in chunks]
    embedder.embed(texts[:64])  # untimed: the first batches of a new shape are slow
    embed_s = [_timed(embedder.embed, texts)]
    redis_before = _redis_used(engine)

    t = time.perf_counter()  # (a) the pipeline, from reading the JSON file on
    squad = replace(load_squad(path), questions=[])
    squad = replace(squad, contexts=squad.contexts[:limit_docs])
    with squad_index(squad, settings, engine) as built:
        pipeline_s = time.perf_counter() - t
        report = built.ingest
        info = built.engine.index.info()
        redis_delta = _redis_used(engine) - redis_before
    rss_after_pipeline = psutil.Process().memory_info().rss
    embed_s.append(_timed(embedder.embed, texts))

    tiktokens = count_tiktokens([c.text for c in chunks])
    pieces = embedder.count_tokens(texts)
    return {
        "documents": len(squad.contexts), "chunks": report.chunks, "pipeline_s": pipeline_s,
        "pipeline_embed_s": report.embed_seconds, "embed_only_chunks": len(texts),
        "embed_s": embed_s, "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "rss_after_pipeline": rss_after_pipeline, "redis_delta": redis_delta,
        "index_mb": {k: info.get(k) for k in
                     ("vector_index_sz_mb", "inverted_sz_mb", "doc_table_size_mb")},
        "tiktoken_mean": statistics.fmean(tiktokens), "tiktoken_max": max(tiktokens),
        "pieces_max": max(pieces), "window": embedder.max_tokens,
        "over_window": sum(p > embedder.max_tokens for p in pieces),
        "batch": settings.embedding_batch_size, "model": embedder.identity,
        "backend": settings.embedding_backend, "dataset": path.name,
    }  # fmt: skip


def render(r: dict, settings: Settings, load_start: float) -> str:
    pipe_rate = r["chunks"] / r["pipeline_s"]
    before, after = (r["embed_only_chunks"] / s for s in r["embed_s"])
    embed_rate = (before + after) / 2
    outside = r["pipeline_s"] - r["pipeline_embed_s"]
    ratio = pipe_rate / embed_rate
    mib = 2**20
    idx = r["index_mb"]
    rows = [
        ("documents (articles)", r["documents"], ""),
        ("chunks", r["chunks"], ""),
        ("(a) pipeline: load + chunk + embed + write, seconds", f"{r['pipeline_s']:.1f}", ""),
        ("(a) pipeline chunks/s", f"{pipe_rate:.1f}", ""),
        ("(a) of which inside `embedder.embed`, seconds", f"{r['pipeline_embed_s']:.1f}", ""),
        ("(a) pipeline time outside the model (load, chunk, write, waits)",
         f"{outside:.1f} s ({outside / r['pipeline_s']:.1%})",
         "what the pipeline adds; unlike the ratio, barely moved by CPU contention"),
        ("(b) embedding alone chunks/s: mean (before / after the pipeline)",
         f"{embed_rate:.1f} ({before:.1f} / {after:.1f})", ""),
        ("pipeline / embedding speed", f"{ratio:.2f}",
         f">= {TARGET_RATIO:.2f}: {verdict(ratio >= TARGET_RATIO)}"),
        ("peak RSS of the process (model included)", f"{r['peak_rss'] / mib:.0f} MiB", ""),
        ("RSS after the pipeline", f"{r['rss_after_pipeline'] / mib:.0f} MiB", ""),
        ("Redis `used_memory` added by the index", f"{r['redis_delta'] / mib:.1f} MiB", ""),
        ("RediSearch: vector / inverted / doc table",
         " / ".join(f"{float(idx[k] or 0):.1f}" for k in idx) + " MB", ""),
        ("chunk size, tiktoken cl100k: mean / max",
         f"{r['tiktoken_mean']:.0f} / {r['tiktoken_max']}", f"target {settings.chunk_tokens}"),
        ("largest chunk in model word pieces (with [CLS]/[SEP], heading line)",
         f"{r['pieces_max']} of {r['window']}",
         f"chunks over the window: {r['over_window']}"),
    ]  # fmt: skip
    extra = [
        f"Data: {r['dataset']} ({r['documents']} articles as documents)",
        f"Embedder: {r['model']}, backend setting `{r['backend']}`, batch {r['batch']}; "
        "Redis: a throwaway embedded server unless REDIS_URL was set",
        f"Load average at the start: {load_start:.1f} (the machine is shared; numbers are noisy)",
    ]
    lines = header(f"Ingestion: {r['dataset']} articles (`bench/ingest_bench.py`)", extra)
    lines += markdown_table(("measure", "value", "target / note"), rows)
    return "\n".join(lines)


def _timed(fn: Callable[[list[str]], object], texts: list[str]) -> float:
    t = time.perf_counter()
    fn(texts)
    return time.perf_counter() - t


def _redis_used(engine: QAEngine) -> int:
    return int(engine.index.client.info("memory")["used_memory"])


if __name__ == "__main__":
    main()
