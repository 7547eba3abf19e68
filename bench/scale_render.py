"""The scale benchmark's section of BENCHMARKS.md."""

from __future__ import annotations

from bench._report import header, markdown_table

RECALL_TARGET = 0.95  # recall@10 the default EF_RUNTIME should reach at the largest size


def render(r: dict, load_start: float) -> str:
    derived = (
        "; every other chunk's vector derived from them as its text is from the article's "
        "sentences: a random convex mix of 3 real vectors of the same article + Gaussian noise "
        f"of norm 0.3, renormalised (mean cosine to the nearest real vector "
        f"{r['derived_nearest_cos']:.3f}); see `bench/scale_data.py`"
        if r["derived_nearest_cos"] is not None
        else ""
    )
    d = r["defaults"]
    extra = [
        "Data: chunks of ~200 tokens (~900 characters) made of real COVID-QA sentences "
        "(random runs of one article's sentences, neighbours swapped), 32 chunks per document, "
        "fields and keys as `qa ingest` writes them",
        f"Vectors: the first {r['base']} chunks embedded with {r['model']} (`{r['backend']}`)"
        + derived,
        f"Queries: {r['queries']} COVID-QA questions embedded with the same backend; recall@10 "
        "against exact cosine search (numpy) over the same vectors; near-recall: the share of "
        "the 10 returned within 0.01 cosine of the exact 10th nearest",
        f"Server: embedded Valkey {r['server']} + RediSearch 2.10.5, AOF off; pipelined HSET "
        f"batches of {r['batch']} from {r['writers']} writer threads; loads stop after "
        f"{r['max_load_s']:.0f} s",
        f"Index settings of these runs: M {d['m']}, EF_CONSTRUCTION {d['ef_construction']}, "
        f"EF_RUNTIME {d['ef_runtime']}, {d['vector_type']}",
        f"Load average at the start: {load_start:.1f} (2 shared cores: Redis, the writers and "
        "other users' jobs compete; read rates as lower bounds)",
    ]
    if not r["runs"]:  # --sizes 0: the sweep alone, its own section
        lines = header(
            "Index at scale: HNSW settings swept (`bench/scale_bench.py`)", [*extra[:4], extra[5]]
        )  # no default settings: each row has its own
        return "\n".join([*lines, *_sweep(r["sweep"])])
    lines = header("Index at scale (`bench/scale_bench.py`)", extra)
    lines += _runs(r["runs"])
    lines += ["", "### recall@10, near-recall and KNN latency (k=10, fields returned) by "
              "EF_RUNTIME", ""]  # fmt: skip
    lines += _curve(r["runs"])
    lines += ["", "Crowding (why recall falls with size on this corpus): chunks within 0.01 cosine "
              "of a question's exact 10th nearest, median / p90: " + ", ".join(
                  f"{run['loaded']:,}: {run['crowding_median']:.0f} / {run['crowding_p90']:.0f}"
                  for run in r["runs"]) + ". 98 articles cut into 1M chunks put thousands of "
              "near-equivalent chunks on each topic; a corpus of more documents is less "
              "crowded at the same size."]  # fmt: skip
    if r["sweep"]:
        lines += ["", f"### Vector index only, {r['sweep'][0]['loaded']} vectors: "
                  "FLOAT32 vs FLOAT16, M and EF_CONSTRUCTION", ""]  # fmt: skip
        lines += _sweep(r["sweep"])
    lines += ["", *_decision(r)]
    return "\n".join(lines)


def _runs(runs: list[dict]) -> list[str]:
    rows, notes = [], []
    shares = list(runs[0]["keyword"]) if runs else []
    scopes = list(runs[0]["scopes"]) if runs else []
    for run in runs:
        info = run["info"]
        mb = " / ".join(
            f"{float(info[k] or 0):.0f}"
            for k in ("vector_index_sz_mb", "inverted_sz_mb", "doc_table_size_mb")
        )
        rows.append((
            f"{run['loaded']:,}" + ("" if run["loaded"] >= run["n"] else f" of {run['n']:,}"),
            f"{run['load_s']:.0f}", f"{run['rate']:,.0f} ({_last_rate(run):,.0f})",
            f"{run['bytes_per_chunk']:,.0f}", f"{run['memory'] / 2**30:.2f}", mb,
            f"{int(info.get('num_terms') or 0):,}",
            _pq(run["knn"]),
            *(f"{_pq(run['scopes'][scope])} ({run['scopes'][scope]['bm25_p50']:.1f})"
              for scope in scopes),
            *(_pq(run["keyword"][share]) for share in shares),
        ))  # fmt: skip
        if run["stopped_early"]:
            minutes = run["n"] / _last_rate(run) / 60
            notes.append(
                f"- The {run['n']:,} load stopped at {run['loaded']:,} chunks after "
                f"{run['load_s']:.0f} s; at its last measured rate the whole load would take "
                f"about {minutes:.0f} min (HNSW insertion slows as the graph grows, so a bit more)."
            )
    table = markdown_table(
        ("chunks", "load s", "insert chunks/s (last 10%)", "bytes/chunk (used_memory)",
         "GiB", "RediSearch MB: vector / inverted / doc table", "terms", "KNN ms p50 / p99",
         *(f"hybrid ms p50 / p99 (its BM25 p50), {_scope(scope)}" for scope in scopes),
         *(f"BM25 alone ms p50 / p99, {_words(share)}" for share in shares)),
        rows,
    )  # fmt: skip
    share = runs[0]["keyword_max_share"] if runs else 1.0
    hybrid = (
        "Hybrid = the service's retriever (`Retriever.candidates`, before reranking): BM25STD "
        f"over text/title/heading (top 40) with {_words(share)}, and KNN 40, fused by "
        "reciprocal rank; timed from a fresh retriever, so its first questions also count their "
        "words (`retrieval/query/terms.py`). KNN = top 10 at the default EF_RUNTIME. BM25 "
        "alone: the keyword query by QA_KEYWORD_MAX_SHARE (the rarest word is always kept, and "
        f"any word held by at most {runs[0]['keyword_floor'] if runs else 0:,} chunks). BM25 over "
        "KNN's N (`QA_KEYWORD_SCOPE=candidates`, `QA_KEYWORD_CANDIDATES=N`): KNN asked for N "
        "(at least 40), BM25 over those chunks alone (`INKEYS`, every word), its top 40 fused "
        "with KNN's top 40; each question is asked of every scope in turn."
    )
    return [*table, "", hybrid, *notes, *_memory_model(runs)]


def _memory_model(runs: list[dict]) -> list[str]:
    """Bytes per chunk and a fixed part (the vocabulary, allocator) from the two largest runs."""
    if len(runs) < 2 or runs[-1]["loaded"] == runs[-2]["loaded"]:
        return []
    (n1, m1), (n2, m2) = ((r["loaded"], r["memory"]) for r in runs[-2:])
    per_chunk = (m2 - m1) / (n2 - n1)
    fixed = m1 - per_chunk * n1
    return [
        "",
        f"Memory model (the two runs fitted): used_memory ≈ chunks × **{per_chunk:,.0f} bytes** "
        f"+ {fixed / 2**20:,.0f} MB (fixed costs and the vocabulary, which grows far slower than "
        f"the chunks: {int(runs[-2]['info'].get('num_terms') or 0):,} terms at "
        f"{n1:,} chunks, {int(runs[-1]['info'].get('num_terms') or 0):,} at {n2:,}).",
    ]


def _curve(runs: list[dict]) -> list[str]:
    efs = [c["ef"] for c in runs[0]["curve"]] if runs else []
    head = ["EF_RUNTIME", *(f"{run['loaded']:,}: recall@10 / near / p50 ms" for run in runs)]
    rows = []
    for ef in efs:
        cells = []
        for run in runs:
            c = next(c for c in run["curve"] if c["ef"] == ef)
            cells.append(f"{c['recall']:.3f} / {c['near']:.3f} / {c['p50']:.2f}")
        rows.append((ef, *cells))
    return markdown_table(head, rows)


def _sweep(sweep: list[dict]) -> list[str]:
    efs = [c["ef"] for c in sweep[0]["curve"]]
    rows = [
        (f"{s['vector_type']}, M {s['m']}, EF_C {s['ef_construction']}", f"{s['rate']:,.0f}",
         f"{s['index_bytes_per_vector']:,.0f}", f"{s['bytes_per_vector']:,.0f}",
         *(f"{c['recall']:.3f} / {c['near']:.3f} / {c['p50']:.2f}" for c in s["curve"]))
        for s in sweep
    ]  # fmt: skip
    head = ("index", "build vectors/s", "HNSW index bytes/vector (FT.INFO)",
            "used_memory bytes/vector",
            *(f"EF {e}: recall / near / ms" for e in efs))  # fmt: skip
    return markdown_table(head, rows)


def _decision(r: dict) -> list[str]:
    lines = []
    for run in r["runs"]:
        good = [c for c in run["curve"] if c["recall"] >= RECALL_TARGET]
        pick = min(good, key=lambda c: c["ef"]) if good else None
        found = (
            f"**{pick['ef']}** (recall {pick['recall']:.3f}, near-recall {pick['near']:.3f}, "
            f"KNN p50 {pick['p50']:.2f} ms)"
            if pick
            else "none of those measured"
        )
        lines.append(
            f"- {run['loaded']:,} chunks: smallest EF_RUNTIME with recall@10 >= "
            f"{RECALL_TARGET}: {found}"
        )
    return [
        *lines,
        "- The service asks KNN for its candidate pool (40) and RediSearch searches with "
        "max(EF_RUNTIME, k), so hybrid queries never run below EF 40.",
    ]


def _scope(scope: str) -> str:
    return "BM25 over the index" if scope == "index" else f"BM25 over KNN's {scope.split()[-1]}"


def _words(share: float) -> str:
    return "every word" if share >= 1 else f"words in <= {share:g} of chunks"


def _last_rate(run: dict) -> float:
    points = [(0, 0.0), *run["checkpoints"]]
    (n0, t0), (n1, t1) = points[-2], points[-1]
    return (n1 - n0) / (t1 - t0) if t1 > t0 else run["rate"]


def _pq(d: dict) -> str:
    return f"{d['p50']:.1f} / {d['p99']:.1f}"
