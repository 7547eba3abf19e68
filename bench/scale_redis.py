"""What the scale benchmark does to Redis: bulk loads, KNN and hybrid queries, recall.

Chunks are written as ingestion writes them (`retrieval.index.fields.chunk_hash`, keys from the
schema with one hash tag per document, one document record per 32 chunks), in pipelined
HSET batches from two writer threads, so Redis indexes one batch while the next is packed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import redis

from bench.scale_data import Corpus
from retrieval.index.fields import HIT_FIELDS, chunk_hash
from retrieval.index.records import StoredDoc
from retrieval.index.schema import IndexSchema
from retrieval.redis.replies import pairs, text
from retrieval.types import Chunk, DocMeta

DOC_CHUNKS = 32  # chunks per synthetic document
NEAR = 0.01  # cosine: a returned chunk this close to the exact 10th nearest counts as near
POOL = 40  # candidates per retriever in hybrid mode, as the service's candidate_pool


@dataclass
class LoadResult:
    loaded: int
    seconds: float
    checkpoints: list[tuple[int, float]] = field(default_factory=list)  # (chunks, seconds)
    stopped_early: bool = False


def used_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def drop_everything(client: redis.Redis) -> None:
    for name in client.execute_command("FT._LIST"):
        client.execute_command("FT.DROPINDEX", text(name), "DD")
    client.flushall()


def load_chunks(
    client: redis.Redis,
    schema: IndexSchema,
    corpus: Corpus,
    vectors: np.ndarray,
    *,
    batch: int = 500,
    writers: int = 2,
    max_seconds: float = 900.0,
) -> LoadResult:
    """Write len(vectors) chunks; stop early (and say so) once max_seconds have passed."""
    n = len(vectors)
    dtype = np.float16 if schema.vector_type == "FLOAT16" else np.float32
    blobs = vectors.astype(dtype, copy=False)
    result = LoadResult(0, 0.0)
    every = max(batch, n // 10)
    mark = every
    t0 = time.perf_counter()
    for done in _write_batches(client, _commands(schema, corpus, blobs, batch), writers):
        result.loaded = done
        result.seconds = time.perf_counter() - t0
        if done >= mark or done == n:
            result.checkpoints.append((done, result.seconds))
            mark += every
        if result.seconds > max_seconds and done < n:
            result.stopped_early = True
            break
    return result


def _commands(schema: IndexSchema, corpus: Corpus, blobs: np.ndarray, batch: int):
    """Batches of (key, fields) in key order: chunks, and each document's record."""
    out: list[tuple[str, dict[str, Any]]] = []
    for i, c in enumerate(corpus.chunks(0, len(blobs))):
        doc_id, position = f"scale-{i // DOC_CHUNKS:07d}", i % DOC_CHUNKS
        meta = DocMeta(doc_id=doc_id, title=c.title, source="covid-qa-synthetic",
                       path=f"synthetic/{i // DOC_CHUNKS}.txt", tags=("synthetic",))  # fmt: skip
        chunk = Chunk(doc_id, position, c.text, position * 1000, position * 1000 + len(c.text))
        key = schema.chunk_key(doc_id, "g0", position)
        out.append((key, {**chunk_hash(meta, chunk), "vector": blobs[i].tobytes()}))
        if position == DOC_CHUNKS - 1 or i == len(blobs) - 1:
            stored = StoredDoc(doc_id, "0" * 64, "g0", position + 1, meta.title, meta.source,
                               meta.path, updated=time.time(), folder="synthetic",
                               tags=meta.tags)  # fmt: skip
            out.append((schema.doc_key(doc_id), stored.record()))
        if len(out) >= batch:
            yield out
            out = []
    if out:
        yield out


def _write_batches(client: redis.Redis, batches, writers: int) -> Iterator[int]:
    """Send batches from `writers` threads; yield chunks acknowledged so far, in order."""
    pending: list[tuple[Future, int]] = []
    done = 0
    with ThreadPoolExecutor(max_workers=writers) as pool:
        for commands in batches:
            chunks = sum(1 for key, _ in commands if ":chunk:" in key)
            pending.append((pool.submit(_send, client, commands), chunks))
            if len(pending) > writers:
                future, count = pending.pop(0)
                future.result()
                done += count
                yield done
        for future, count in pending:
            future.result()
            done += count
            yield done


def _send(client: redis.Redis, commands: list[tuple[str, dict[str, Any]]]) -> None:
    pipe = client.pipeline(transaction=False)
    for key, mapping in commands:
        pipe.hset(key, mapping=mapping)
    pipe.execute()


def index_info(client: redis.Redis, name: str) -> dict[str, Any]:
    info = pairs(client.execute_command("FT.INFO", name))
    keys = ("num_docs", "num_terms", "vector_index_sz_mb", "inverted_sz_mb", "doc_table_size_mb",
            "key_table_size_mb", "offset_vectors_sz_mb", "indexing",
            "hash_indexing_failures")  # fmt: skip
    return {k: text(info.get(k, "")) for k in keys}


def knn(
    client: redis.Redis, schema: IndexSchema, vector: np.ndarray, k: int, ef: int,
    fields: tuple[str, ...] = HIT_FIELDS,
) -> list[tuple[str, float]]:  # fmt: skip
    """(key, cosine distance) of the k nearest chunks, asked as the service asks."""
    dtype = np.float16 if schema.vector_type == "FLOAT16" else np.float32
    returned = (*fields, "distance")
    reply = client.execute_command(
        "FT.SEARCH", schema.name, f"*=>[KNN {k} @vector $vec EF_RUNTIME {ef} AS distance]",
        "PARAMS", 2, "vec", vector.astype(dtype).tobytes(), "SORTBY", "distance", "ASC",
        "RETURN", len(returned), *returned, "LIMIT", 0, k, "DIALECT", 2,
    )  # fmt: skip
    out = []
    for i in range(1, len(reply), 2):
        values = dict(zip(map(text, reply[i + 1][::2]), map(text, reply[i + 1][1::2]), strict=True))
        out.append((text(reply[i]), float(values["distance"])))
    return out


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t) * 1000


def knn_curve(
    client: redis.Redis, schema: IndexSchema, queries: np.ndarray,
    exact: tuple[np.ndarray, np.ndarray], key_of: Callable[[int], str], efs: list[int],
    fields: tuple[str, ...] = HIT_FIELDS,
) -> list[dict[str, float]]:  # fmt: skip
    """Per EF_RUNTIME: recall@10 against the exact top 10, near-recall, latency.

    near-recall: the share of the 10 returned that are within NEAR cosine of the exact 10th
    nearest, i.e. as good as the true neighbours up to a hair.
    """
    ids, sims = exact
    truth = [{key_of(int(i)) for i in row} for row in ids]
    curve = []
    for ef in efs:
        recall, near, ms = [], [], []
        for vector, true, kth in zip(queries, truth, sims[:, -1], strict=True):
            t = time.perf_counter()
            found = knn(client, schema, vector, 10, ef, fields)
            ms.append((time.perf_counter() - t) * 1000)
            recall.append(len({key for key, _ in found} & true) / len(true))
            near.append(sum(1 - d >= kth - NEAR for _, d in found) / len(true))
        curve.append({"ef": ef, "recall": float(np.mean(recall)), "near": float(np.mean(near)),
                      "p50": float(np.percentile(ms, 50)),
                      "p99": float(np.percentile(ms, 99))})  # fmt: skip
    return curve


def settle(client: redis.Redis, timeout_s: float = 120.0) -> int:
    """used_memory once a dropped index has been freed (RediSearch frees it in the background)."""
    last = used_memory(client)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = used_memory(client)
        if abs(now - last) < 1 << 20:
            return now
        last = now
    return last


# -- vector-only sweep: FLOAT32 against FLOAT16, and M / EF_CONSTRUCTION choices -------------

# (vector type, M, EF_CONSTRUCTION); `--sweep` on the command line replaces them.
SWEEP = (
    ("FLOAT32", 32, 200), ("FLOAT16", 32, 200), ("FLOAT16", 16, 200), ("FLOAT16", 48, 200),
    ("FLOAT16", 32, 400), ("FLOAT16", 48, 400),
)  # fmt: skip


def parse_sweep(spec: str) -> tuple[tuple[str, int, int], ...]:
    """Parse `FLOAT16:32:200,FLOAT32:16:100` into ((type, M, EF_CONSTRUCTION), ...)."""
    out = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        vector_type, m, ef_construction = item.split(":")
        out.append((vector_type.upper(), int(m), int(ef_construction)))
    return tuple(out)


def sweep(
    client: redis.Redis, vectors: np.ndarray, queries: np.ndarray, exact: tuple,
    efs: list[int], max_seconds: float, configs: tuple[tuple[str, int, int], ...] = SWEEP,
) -> list[dict[str, Any]]:  # fmt: skip
    """Build each configuration over the same vectors; memory, build rate and recall curve."""
    out = []
    for j, (vector_type, m, ef_construction) in enumerate(configs):
        drop_everything(client)
        schema = IndexSchema(f"sweep{j}", f"sweep{j}", vectors.shape[1], "", vector_type, m,
                             ef_construction, 10)  # fmt: skip
        args = ["TYPE", vector_type, "DIM", schema.dim, "DISTANCE_METRIC", "COSINE",
                "M", m, "EF_CONSTRUCTION", ef_construction]  # fmt: skip
        before = settle(client)
        client.execute_command("FT.CREATE", schema.name, "ON", "HASH", "PREFIX", 1,
                               schema.chunk_prefix, "SCHEMA", "vector", "VECTOR", "HNSW",
                               len(args), *args)  # fmt: skip
        blobs = vectors.astype(np.float16 if vector_type == "FLOAT16" else np.float32)
        batches = (
            [(f"{schema.chunk_prefix}{i}", {"vector": blobs[i].tobytes()})
             for i in range(s, min(s + 1000, len(blobs)))]
            for s in range(0, len(blobs), 1000)
        )  # fmt: skip
        t0 = time.perf_counter()
        for _ in _write_batches(client, batches, 2):
            if time.perf_counter() - t0 > max_seconds:
                break
        seconds = time.perf_counter() - t0
        loaded = int(index_info(client, schema.name)["num_docs"])
        row: dict[str, Any] = {
            "vector_type": vector_type, "m": m, "ef_construction": ef_construction,
            "loaded": loaded, "rate": loaded / seconds,
            "bytes_per_vector": (used_memory(client) - before) / loaded,
            # RediSearch's own count of the HNSW index (vectors + graph): unlike used_memory,
            # not blurred by memory the previous configuration is still freeing.
            "index_bytes_per_vector": float(index_info(client, schema.name)["vector_index_sz_mb"])
            * 2**20 / loaded,
            "curve": [],
        }  # fmt: skip
        key_of = f"{schema.chunk_prefix}{{}}".format
        row["curve"] = knn_curve(client, schema, queries, exact, key_of, efs, ())
        out.append(row)
    drop_everything(client)
    return out
