"""The index at scale: insert rate, memory per chunk, query latency and HNSW recall.

    .venv/bin/python -m bench.scale_bench                   # --sizes 100000,1000000
    .venv/bin/python -m bench.scale_bench --sizes 20000     # quick
    .venv/bin/python -m bench.scale_bench --sizes 0 --sweep FLOAT16:32:200,FLOAT16:48:200
                                                            # HNSW settings only, at 100k

Each size is loaded into a fresh index of a throwaway embedded Redis (its own temporary
folder, AOF off: the disk is not what is measured here), with chunk texts made of real
COVID-QA sentences and vectors from the real embedder (a base of --base chunks; the rest
derived from them, see bench/scale_data.py). Then: KNN and hybrid latency, and recall@10
of HNSW against exact (numpy) search for a range of EF_RUNTIME values. At --sweep-size a
vector-only sweep compares FLOAT32 with FLOAT16 and a few M / EF_CONSTRUCTION choices.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import redis

if __package__ in (None, ""):  # run as `python bench/scale_bench.py` rather than with -m
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import scale_redis as sr
from bench._env import bench_parser, data_path
from bench._report import write_section
from bench.scale_data import Corpus, all_vectors, base_vectors, crowding, exact_top_k
from bench.scale_render import render
from retrieval.embedding.embedder import Embedder
from retrieval.embedding.model_files import int8_preset, model_cache_key
from retrieval.index.chunks import ChunkIndex
from retrieval.index.schema import IndexSchema
from retrieval.query.filters import Filters
from retrieval.query.retriever import Retriever
from retrieval.redis.server import EmbeddedRedis
from retrieval.settings import Settings
from retrieval.training.squad import load_squad

EFS = (10, 20, 50, 100, 200, 400, 800, 1600)


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--sizes", default="100000,1000000", help="chunks per run, comma list")
    parser.add_argument("--base", type=int, default=20_000, help="chunks embedded for real")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backend", default="onnx-int8" if int8_preset() else "auto",
                        help="embedding backend for the base (default: the fastest)")  # fmt: skip
    parser.add_argument("--efs", default=",".join(map(str, EFS)))
    parser.add_argument("--sweep-size", type=int, default=None,
                        help="vector-only sweep size (default: 100000 if listed, else the "
                        "smallest size; 0 to skip)")  # fmt: skip
    parser.add_argument("--sweep", type=sr.parse_sweep, default=sr.SWEEP,
                        help="the sweep's indexes, TYPE:M:EF_CONSTRUCTION comma list")  # fmt: skip
    parser.add_argument("--shares", type=lambda v: [float(x) for x in v.split(",")],
                        default=[1.0, 0.3, 0.2, 0.1, 0.05],
                        help="QA_KEYWORD_MAX_SHARE values to time keyword search with")  # fmt: skip
    parser.add_argument("--candidates", type=lambda v: [int(x) for x in v.split(",") if x],
                        default=[40, 200],
                        help="QA_KEYWORD_CANDIDATES values: hybrid is timed with BM25 over "
                        "KNN's candidates (QA_KEYWORD_SCOPE=candidates) too")  # fmt: skip
    parser.add_argument("--max-load-s", type=float, default=900.0, help="stop a load after this")
    parser.add_argument("--batch", type=int, default=500, help="HSETs per pipeline")
    parser.add_argument("--writers", type=int, default=2, help="threads sending pipelines")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip() and int(s)]
    efs = [int(e) for e in args.efs.split(",") if e.strip()]
    if args.sweep_size is None:
        args.sweep_size = 100_000 if 100_000 in sizes or not sizes else min(sizes)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up like Ctrl-C
    load_start = os.getloadavg()[0]
    result = run(args, sizes, efs)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2, default=str), "utf-8")
    body = render(result, load_start)
    print(body)
    if not args.no_write:  # --sizes 0 sweeps only: a section of its own
        write_section("scale-bench" if sizes else "scale-bench-sweep", body)


def run(args: argparse.Namespace, sizes: list[int], efs: list[int]) -> dict:
    settings = Settings.from_env()
    embedder = Embedder(settings.with_(embedding_backend=args.backend)).warm_up()
    squad = load_squad(data_path(args.data))
    corpus = Corpus(squad)
    largest = max([*sizes, args.sweep_size])
    base_n = min(args.base, largest)
    ident = model_cache_key(embedder.identity, embedder.backend)  # recipe and version included
    log(f"embedding a base of {base_n} chunks with {embedder.backend} (cached after the first run)")
    base = base_vectors(corpus, base_n, embedder.embed, ident)
    questions = [q for q in squad.questions if not q.impossible]
    questions = questions[:: max(1, len(questions) // args.queries)][: args.queries]
    qtexts = [q.text for q in questions]
    qvecs = embedder.embed(qtexts)
    vectors = all_vectors(corpus, largest, base)
    nearest = float(np.mean(np.max(vectors[base_n : base_n + 2000] @ base.T, axis=1))) if (
        len(vectors) > base_n) else None  # fmt: skip
    out: dict = {
        "sizes": sizes, "efs": efs, "base": base_n, "backend": embedder.backend,
        "model": embedder.identity, "queries": len(qtexts), "batch": args.batch,
        "writers": args.writers, "max_load_s": args.max_load_s, "derived_nearest_cos": nearest,
        "defaults": {"m": settings.hnsw_m, "ef_construction": settings.hnsw_ef_construction,
                     "ef_runtime": settings.hnsw_ef_runtime, "vector_type": settings.vector_type},
        "runs": [], "sweep": [],
    }  # fmt: skip
    with scratch_server() as (_server, client):
        server_info = client.info("server")
        out["server"] = _s(server_info.get("valkey_version") or server_info.get("redis_version"))
        if args.sweep_size:
            n = min(args.sweep_size, len(vectors))
            log(f"vector-only sweep at {n}: {len(args.sweep)} index configurations")
            exact = exact_top_k(vectors[:n], qvecs, 10)
            out["sweep"] = sr.sweep(client, vectors[:n], qvecs, exact, efs, args.max_load_s,
                                    args.sweep)  # fmt: skip
        for n in sizes:
            log(f"loading {n} chunks")
            out["runs"].append(run_size(client, settings, corpus, vectors[:n], qtexts, qvecs,
                                        efs, args))  # fmt: skip
    return out


def run_size(client, settings, corpus, vectors, qtexts, qvecs, efs, args) -> dict:
    """One fresh index of len(vectors) chunks: load it, then query it."""
    n = len(vectors)
    sr.drop_everything(client)
    s = settings.with_(index_name=f"scale{n}:idx", key_prefix=f"scale{n}")
    schema = IndexSchema.for_settings(s, dim=vectors.shape[1], model=settings.embedding_model)
    before = sr.settle(client)
    ChunkIndex(client, schema).ensure()
    load = sr.load_chunks(client, schema, corpus, vectors, batch=args.batch,
                          writers=args.writers, max_seconds=args.max_load_s)  # fmt: skip
    info = sr.index_info(client, schema.name)
    loaded = int(info["num_docs"])  # batches in flight when a load stops early count too
    memory = sr.used_memory(client) - before
    log(f"loaded {loaded} in {load.seconds:.0f} s; exact search for {len(qvecs)} queries")
    exact = exact_top_k(vectors[:loaded], qvecs, 10)
    crowd = crowding(vectors[:loaded], qvecs, exact[1][:, -1], sr.NEAR)
    keys = _key_of(schema)
    curve = sr.knn_curve(client, schema, qvecs, exact, keys, sorted({*efs, schema.ef_runtime}))
    default = next(c for c in curve if c["ef"] == schema.ef_runtime)
    ef = schema.ef_runtime
    # The service's own retriever, as a fresh worker has it: word counts not yet cached; and
    # beside it BM25 over KNN's candidates, each question asked of each in turn (the machine
    # is shared: what matters is the ratio within one run).
    scopes = {"index": _retriever(client, schema, settings, settings.keyword_max_share)}
    for width in args.candidates:
        scopes[f"candidates {width}"] = _retriever(client, schema, settings,
                                                   settings.keyword_max_share, width)  # fmt: skip
    hybrid_ms: dict[str, list[float]] = {name: [] for name in scopes}
    bm25_ms: dict[str, list[float]] = {name: [] for name in scopes}
    for q, v in zip(qtexts, qvecs, strict=True):
        for name, retriever in scopes.items():
            timings: dict[str, float] = {}
            call = partial(retriever.candidates, q, v, 10, Filters(), "hybrid", ef, timings)
            hybrid_ms[name].append(sr.timed(call)[1])
            bm25_ms[name].append(timings["keyword_ms"])
    keyword = {}
    for share in args.shares:  # the keyword query alone, by how common a kept word may be
        r = _retriever(client, schema, settings, share)
        ms = [sr.timed(lambda q=q, r=r: r.keyword(q, "*", sr.POOL))[1] for q in qtexts]
        keyword[share] = {"p50": _pct(ms, 50), "p99": _pct(ms, 99)}
    return {
        "n": n, "loaded": loaded, "load_s": load.seconds, "stopped_early": load.stopped_early,
        "rate": loaded / load.seconds, "checkpoints": load.checkpoints,
        "memory": memory, "bytes_per_chunk": memory / loaded, "info": info,
        "knn": {"p50": default["p50"], "p99": default["p99"], "ef": ef},
        "hybrid": {"p50": _pct(hybrid_ms["index"], 50), "p99": _pct(hybrid_ms["index"], 99)},
        "scopes": {name: {"p50": _pct(ms, 50), "p99": _pct(ms, 99),
                          "bm25_p50": _pct(bm25_ms[name], 50)} for name, ms in hybrid_ms.items()},
        "keyword": keyword, "keyword_max_share": settings.keyword_max_share,
        "keyword_floor": settings.keyword_floor,
        "curve": curve, "crowding_median": float(np.median(crowd)),
        "crowding_p90": float(np.percentile(crowd, 90)),
    }  # fmt: skip


def _retriever(
    client, schema: IndexSchema, settings: Settings, share: float, candidates: int | None = None
) -> Retriever:
    """The service's retriever; with `candidates`, BM25 over that many of KNN's results."""
    index = ChunkIndex(client, schema)
    scope = ("index", 0) if candidates is None else ("candidates", candidates)
    return Retriever(
        index, settings.candidate_pool, settings.rrf_k, share, settings.keyword_floor, *scope
    )


def _key_of(schema: IndexSchema):
    def key(i: int) -> str:
        return schema.chunk_key(f"scale-{i // sr.DOC_CHUNKS:07d}", "g0", i % sr.DOC_CHUNKS)

    return key


@contextlib.contextmanager
def scratch_server() -> Iterator[tuple[EmbeddedRedis, redis.Redis]]:
    """A throwaway embedded server in its own temp folder, stopped and deleted at the end."""
    folder = Path(tempfile.mkdtemp(prefix="qa-scale-"))  # short: unix socket path limit
    server = EmbeddedRedis(folder)
    try:
        server.start()
        client = server.client(timeout=600)
        client.config_set("appendonly", "no")  # measure the index, not the disk
        yield server, client
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _pct(values, p: float) -> float:
    return float(np.percentile(list(values), p))


def _s(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def log(message: str) -> None:
    print(f"[scale-bench] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
