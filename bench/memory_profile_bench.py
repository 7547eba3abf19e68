"""Memory per chunk and one ask's profile, on a temporary index of a SQuAD-format set.

    .venv/bin/python -m bench.memory_profile_bench [--data F] [--questions 100] [--no-write]

Memory: the set's articles are ingested by the product (`squad_index`, as `qa eval` does)
into a throwaway embedded Redis, AOF on as the product runs it: `used_memory` added, per
chunk stored; FT.INFO's vector and inverted index sizes; MEMORY USAGE and the encoding of one
chunk's hash.

Profile: `QAEngine.ask` under cProfile (sentence reader, hybrid, 1 torch thread) on the set's
first N questions in file order, none asked before in the process: cumulative ms per question
of each step. Then p50 of `POST /ask` through the Flask app in-process, unprofiled: the next
20 questions as a warm-up, then the N after them.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from bench._env import bench_parser, bench_settings, data_path
from bench._report import header, markdown_table, record_start, write_section
from bot.http import create_app
from retrieval.engine import QAEngine
from retrieval.index.chunks import ChunkIndex
from retrieval.redis.connection import connect
from retrieval.redis.replies import text
from retrieval.training.squad import load_squad
from workflows.evaluation import squad_index

WARM_UP = 20
# step: (module path suffix, function name), its cumulative time in the profile
STEPS = {
    "ask": ("retrieval/engine.py", "ask"),
    "sentence reader: embedding the sentences": ("retrieval/readers/sentence.py", "embed"),
    "rerank": ("retrieval/query/rerank.py", "rerank"),
    "Redis: FT.SEARCH and reply parsing": ("retrieval/index/search_index.py", "search"),
    "query embedding": ("retrieval/embedding/embedder.py", "embed_query"),
}


def memory(index: ChunkIndex, before: int) -> list[list[Any]]:
    """Bytes per chunk, the index's own sizes, and one chunk hash's size and encoding."""
    client = index.client
    info = index.info()
    chunks = int(info.get("num_docs", 0))
    added = int(client.info("memory")["used_memory"]) - before
    key = next(client.scan_iter(f"{index.schema.chunk_prefix}*", count=1000))
    return [
        ["chunks", chunks],
        ["`used_memory` added, bytes per chunk", f"{added / max(chunks, 1):,.0f}"],
        [
            "vector / inverted index (FT.INFO MB)",
            f"{float(info['vector_index_sz_mb']):.1f} / {float(info['inverted_sz_mb']):.1f}",
        ],
        [
            "one chunk hash: MEMORY USAGE bytes (encoding)",
            f"{client.memory_usage(key):,} ({text(client.object('encoding', key))})",
        ],
    ]


def profile(engine: QAEngine, questions: list[str]) -> list[list[Any]]:
    """Cumulative ms per question of each step, and `text.stem` calls per question."""
    profiler = cProfile.Profile()
    for question in questions:
        profiler.runcall(engine.ask, question)
    found: dict[str, float] = {}
    stems = 0
    for (path, _, name), (_, calls, _, cumulative, _) in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        for step, (suffix, function) in STEPS.items():
            if path.endswith(suffix) and name == function:
                found[step] = found.get(step, 0.0) + cumulative
        if path.endswith("retrieval/text.py") and name == "stem":
            stems += calls
    n = len(questions)
    rows = [[step, f"{found.get(step, 0.0) * 1000 / n:.0f}"] for step in STEPS]
    return [*rows, ["`text.stem` calls per question", f"{stems / n:,.0f}"]]


def http_p50(engine: QAEngine, questions: list[str]) -> float:
    """p50 ms of POST /ask through the app, after WARM_UP questions."""
    app = create_app(engine.settings.with_(rate_limit="100000/minute"), engine)
    client = app.test_client()
    times = []
    for i, question in enumerate(questions):
        t = time.perf_counter()
        response = client.post("/ask", json={"question": question})
        assert response.status_code == 200, response.get_data(as_text=True)
        if i >= WARM_UP:
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--questions", type=int, default=100)
    args = parser.parse_args(argv)
    record_start()
    torch.set_num_threads(1)
    n = args.questions
    with bench_settings(os.environ.get("REDIS_URL")) as settings:
        settings = settings.with_(reader="sentence", retrieval_mode="hybrid")
        squad = load_squad(data_path(args.data))
        asked = [q.text for q in squad.questions][: 2 * n + WARM_UP]
        engine = QAEngine(settings)
        before = int(connect(settings).info("memory")["used_memory"])
        with squad_index(replace(squad, questions=[]), settings, engine) as built:
            stored = memory(built.engine.index, before)
            built.engine.warm_up()
            steps = profile(built.engine, asked[:n])
            p50 = http_p50(built.engine, asked[n:])
    lines = header(
        f"Memory per chunk and one ask's profile: {squad.name} (`bench/memory_profile_bench.py`)",
        [
            f"{len(squad.contexts)} articles; sentence reader, hybrid, 1 torch thread; profile: "
            f"cProfile of `QAEngine.ask` over the first {n} questions, cumulative ms per "
            f"question; `POST /ask` in-process, unprofiled: {WARM_UP} questions to warm up, "
            f"then {n} others"
        ],
    )
    lines += markdown_table(("memory", "value"), stored)
    lines += ["", *markdown_table(("step of one ask, profiled", "ms per question"), steps)]
    lines += ["", f"p50 of `POST /ask` through the Flask app in-process: {p50:.1f} ms"]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section(f"memory-profile-bench-{squad.name.removesuffix('.json').lower()}", body)


if __name__ == "__main__":
    main()
