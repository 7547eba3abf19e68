"""The embedded server, the index's guard against mixed models, and clear errors."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
import redis

from retrieval.errors import IndexMissing, SchemaMismatch, SearchModuleMissing
from retrieval.index.chunks import ChunkIndex
from retrieval.index.schema import IndexSchema
from retrieval.redis.connection import check_search_module
from retrieval.redis.server import EmbeddedRedis, server_binary
from retrieval.settings import Settings


def test_embedded_server_restart_keeps_the_data() -> None:
    server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="qa-restart-")))
    server.start()
    try:
        schema = IndexSchema(name="r:idx", prefix="r", dim=4, model="m")
        ChunkIndex(server.client(), schema).ensure()
        server.client().hset("r:chunk:{x}:g:00000", mapping={"doc_id": "x", "text": "persist me"})
        server.stop()
        assert not server.is_running()
        server.start()
        assert server.client().hget("r:chunk:{x}:g:00000", "text") == b"persist me"
        assert ChunkIndex(server.client(), schema).count_chunks() == 1
    finally:
        server.stop()


def test_ensure_reuses_a_server_already_running_on_the_folder(redis_server: EmbeddedRedis) -> None:
    again = EmbeddedRedis(redis_server.data_dir).ensure(stop_at_exit=False)
    assert again.is_running() and not again.owned


def test_index_built_with_another_dimension_is_refused_with_what_to_do(
    redis_client: redis.Redis, settings: Settings
) -> None:
    ChunkIndex(
        redis_client, IndexSchema(settings.index_name, settings.key_prefix, 8, "tiny")
    ).ensure()
    other = ChunkIndex(
        redis_client, IndexSchema(settings.index_name, settings.key_prefix, 384, "big")
    )
    with pytest.raises(SchemaMismatch, match="qa index drop"):
        other.ensure()


def test_index_built_with_another_model_of_same_dimension_is_refused(
    redis_client: redis.Redis, settings: Settings
) -> None:
    ChunkIndex(redis_client, IndexSchema(settings.index_name, settings.key_prefix, 8, "a")).ensure()
    with pytest.raises(SchemaMismatch, match="QA_EMBEDDING_MODEL"):
        ChunkIndex(
            redis_client, IndexSchema(settings.index_name, settings.key_prefix, 8, "b")
        ).ensure()


def test_missing_index_says_to_ingest_first(redis_client: redis.Redis, settings: Settings) -> None:
    index = ChunkIndex(redis_client, IndexSchema(settings.index_name, settings.key_prefix, 8, "m"))
    with pytest.raises(IndexMissing, match="qa ingest"):
        index.info()


def test_server_without_search_module_is_reported_with_the_fix(tmp_path: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="qa-plain-"))
    sock = folder / "s.sock"
    proc = subprocess.Popen(
        [
            str(server_binary()),
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--save",
            "",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(unix_socket_path=str(sock))
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                import time

                time.sleep(0.02)
        with pytest.raises(SearchModuleMissing, match="Redis 8"):
            check_search_module(client, "test server")
    finally:
        proc.terminate()
        proc.wait(10)
