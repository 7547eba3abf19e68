"""`qa reindex`: move an index to another vector type in place, answering all along.

The chunks stay where they are. A second index is built over the same keys with the vectors in
a new field (converted from the stored ones: nothing is embedded again); while it fills, the
old index answers and writers fill both fields. Then, in one transaction, the old index goes,
the schema's name becomes an alias of the new one and the meta record names the new layout;
last, the old field is deleted from every chunk (its memory comes back).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from retrieval.index.chunks import ChunkIndex, _batched
from retrieval.index.layout import NEXT, RECORD, VECTOR_TYPES, Layout
from retrieval.redis.replies import pairs, text

BATCH = 500


@dataclass(frozen=True)
class Migration:
    before: Layout
    after: Layout
    chunks: int  # vectors converted
    seconds: float


def reindex(
    index: ChunkIndex,
    vector_type: str,
    progress: Callable[[int], None] | None = None,
    wait_s: float = 300.0,
) -> Migration | None:
    """Move `index` to `vector_type`; None when it already is. Safe to run again if killed."""
    if vector_type not in VECTOR_TYPES:
        raise ValueError(f"vector type must be one of {', '.join(VECTOR_TYPES)}")
    started = time.perf_counter()
    index.ensure()  # records the layout of an index made before layouts were
    current, building = index.layouts(fresh=True)
    if current.vector_type == vector_type:
        return None
    target = _next_layout(index, current, vector_type)
    if building != target:  # a fresh start, or an interrupted run towards another type
        _abandon(index, building)
        index.client.hset(index.schema.meta_key, mapping=target.record(NEXT))
        index.layouts(fresh=True)
    if target.index not in _names(index):
        schema = index.schema
        args = schema.create_args(target.index, target.vector_field, target.vector_type)
        index.client.execute_command("FT.CREATE", *args)
    converted = _copy_vectors(index, current, target, progress)
    _wait_indexed(index, target, wait_s)
    _switch(index, current, target)
    converted += _copy_vectors(index, current, target, None)  # a writer that read the old layout
    _drop_field(index, current.vector_field)
    return Migration(current, target, converted, time.perf_counter() - started)


def _next_layout(index: ChunkIndex, current: Layout, vector_type: str) -> Layout:
    """Another index name and another field than the current ones (they live side by side)."""
    physical = f"{index.schema.name}.{vector_type.lower()}"
    field = "vector" if current.vector_field != "vector" else f"vector_{vector_type.lower()}"
    return Layout(physical, field, vector_type)


def _names(index: ChunkIndex) -> set[str]:
    return {text(n) for n in index.client.execute_command("FT._LIST")}


def _abandon(index: ChunkIndex, building: Layout | None) -> None:
    if building is not None and building.index in _names(index):
        index.client.execute_command("FT.DROPINDEX", building.index)
    index.client.hdel(index.schema.meta_key, *NEXT.values())


def _copy_vectors(
    index: ChunkIndex, old: Layout, new: Layout, progress: Callable[[int], None] | None
) -> int:
    """Write each chunk's vector into the new field, converted; chunks that have it are skipped."""
    done = 0
    for keys in _batched(index.every_chunk_key(), BATCH):
        pipe = index.client.pipeline(transaction=False)
        for key, (blob, there) in zip(keys, _replies(index, keys, old, new), strict=True):
            if blob and not there:
                pipe.hset(key, new.vector_field, new.pack(np.frombuffer(blob, dtype=old.dtype)))
                done += 1
        pipe.execute()
        if progress:
            progress(len(keys))
    return done


def _replies(index: ChunkIndex, keys: list[str], old: Layout, new: Layout) -> list[list]:
    pipe = index.client.pipeline(transaction=False)
    for key in keys:
        pipe.hmget(key, old.vector_field, new.vector_field)
    return pipe.execute()


def _wait_indexed(index: ChunkIndex, new: Layout, wait_s: float) -> None:
    """Until the new index has indexed every chunk the old one holds."""
    deadline = time.monotonic() + wait_s
    while True:
        info = _info(index, new.index)
        old_docs = index.count_chunks()
        if str(info.get("indexing", "0")) == "0" and int(info.get("num_docs", 0)) >= old_docs:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"index {new.index} still indexing after {wait_s:.0f} s; run `qa reindex` again"
            )
        time.sleep(0.2)


def _info(index: ChunkIndex, name: str) -> dict:
    return pairs(index.client.execute_command("FT.INFO", name))


def _switch(index: ChunkIndex, old: Layout, new: Layout) -> None:
    """Drop the old index, point the schema's name at the new one and record it, at once."""
    name = index.schema.name
    alias = "FT.ALIASADD" if old.index == name else "FT.ALIASUPDATE"
    pipe = index.client.pipeline(transaction=True)
    pipe.execute_command("FT.DROPINDEX", old.index)  # the chunks stay (no DD)
    pipe.execute_command(alias, name, new.index)
    pipe.hset(index.schema.meta_key, mapping=new.record(RECORD))
    pipe.hdel(index.schema.meta_key, *NEXT.values())
    pipe.execute()
    index.layouts(fresh=True)


def _drop_field(index: ChunkIndex, field: str) -> None:
    for keys in _batched(index.every_chunk_key(), BATCH):
        pipe = index.client.pipeline(transaction=False)
        for key in keys:
            pipe.hdel(key, field)
        pipe.execute()
