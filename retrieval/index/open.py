"""Opening the chunk index for an embedder: the schema its model and dimension call for."""

from __future__ import annotations

import redis

from retrieval.embedding.embedder import Embedder
from retrieval.index.chunks import ChunkIndex
from retrieval.index.schema import IndexSchema
from retrieval.redis.connection import connect
from retrieval.settings import Settings


def open_index(
    settings: Settings, embedder: Embedder, client: redis.Redis | None = None
) -> ChunkIndex:
    """The chunk index for this embedder's model and dimension."""
    schema = IndexSchema.for_settings(settings, dim=embedder.dim, model=embedder.identity)
    return ChunkIndex(client if client is not None else connect(settings), schema)
