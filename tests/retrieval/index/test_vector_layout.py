"""Vectors stored as the index expects them: FLOAT16 by default, older FLOAT32 indexes kept
working, and `qa reindex` moving one to FLOAT16 in place while questions are answered."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import redis
from click.testing import CliRunner

from bot.cli import cli
from ingest.chunker import Chunker
from ingest.document import Document
from ingest.pipeline import IngestPipeline
from retrieval.embedding.embedder import Embedder
from retrieval.engine import QAEngine
from retrieval.index.chunks import ChunkIndex
from retrieval.index.layout import RECORD
from retrieval.index.migrate import reindex
from retrieval.index.open import open_index
from retrieval.settings import Settings
from retrieval.training.lock import TrainingLock
from retrieval.types import DocMeta
from tests.corpus import KEY_TEXT, LEAVE_TEXT, SECTIONS

ROOT = Path(__file__).resolve().parents[3]

QUESTION = "How long does the old API key keep working after a rotation?"


def _documents() -> list[Document]:
    texts = {"keys": KEY_TEXT, "leave": LEAVE_TEXT, **SECTIONS}
    return [Document(DocMeta(doc_id=name, title=name), body) for name, body in texts.items()]


def _ingest(settings: Settings, embedder: Embedder, client: redis.Redis, docs=None) -> ChunkIndex:
    index = open_index(settings, embedder, client)
    chunker = Chunker(
        settings.chunk_tokens, settings.chunk_overlap_tokens, embedder.max_tokens,
        embedder.count_tokens,
    )  # fmt: skip
    IngestPipeline(index, embedder, chunker).ingest(docs or _documents())
    return index


def _vector_blobs(index: ChunkIndex) -> dict[str, set[int]]:
    """Vector field -> the blob sizes found in it, over every chunk."""
    sizes: dict[str, set[int]] = {}
    for key in index.every_chunk_key():
        for name, value in index.client.hgetall(key).items():
            if name.startswith(b"vector"):
                sizes.setdefault(name.decode(), set()).add(len(value))
    return sizes


def test_a_new_index_stores_float16_vectors_and_records_it(
    settings: Settings, embedder: Embedder, redis_client: redis.Redis
) -> None:
    index = _ingest(settings, embedder, redis_client)
    assert index.layout().vector_type == "FLOAT16"
    assert _vector_blobs(index) == {"vector": {embedder.dim * 2}}
    record = redis_client.hgetall(index.schema.meta_key)
    assert record[RECORD["vector_type"].encode()] == b"FLOAT16"


def test_a_query_against_a_float16_index_finds_the_same_chunk(
    settings: Settings, embedder: Embedder, redis_client: redis.Redis
) -> None:
    f32 = settings.with_(vector_type="FLOAT32")
    f16 = settings.with_(
        index_name=f"{settings.index_name}16", key_prefix=f"{settings.key_prefix}h"
    )
    _ingest(f32, embedder, redis_client)
    _ingest(f16, embedder, redis_client)
    for question in (QUESTION, "How many days of paid leave do employees get?"):
        hits = {
            s.vector_type: QAEngine(s, embedder, redis_client)
            .retrieve(question, mode="vector")
            .hits
            for s in (f32, f16)
        }
        assert hits["FLOAT16"][0].doc_id == hits["FLOAT32"][0].doc_id
        assert abs(hits["FLOAT16"][0].vector_score - hits["FLOAT32"][0].vector_score) < 1e-3


def test_an_index_built_float32_keeps_working_after_the_default_became_float16(
    settings: Settings, embedder: Embedder, redis_client: redis.Redis
) -> None:
    old = _ingest(settings.with_(vector_type="FLOAT32"), embedder, redis_client)
    redis_client.hdel(old.schema.meta_key, *RECORD.values())  # as the code before layouts left it
    new_doc = [Document(DocMeta(doc_id="lunch", title="Lunch"), "Lunch is served at noon.")]
    index = _ingest(settings, embedder, redis_client, new_doc)  # QA_VECTOR_TYPE: FLOAT16
    assert index.layout().vector_type == "FLOAT32"
    assert _vector_blobs(index) == {"vector": {embedder.dim * 4}}
    hits = QAEngine(settings, embedder, redis_client).retrieve("When is lunch?", mode="vector").hits
    assert hits[0].doc_id == "lunch"


def test_a_float32_index_migrates_in_place_and_keeps_answering(
    settings: Settings, embedder: Embedder, redis_client: redis.Redis
) -> None:
    f32 = settings.with_(vector_type="FLOAT32")
    index = _ingest(f32, embedder, redis_client)
    before = QAEngine(f32, embedder, redis_client)  # a server running through the migration
    expected = before.ask(QUESTION)
    answers, stop = [], threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            answers.append(before.ask(QUESTION))

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        done = reindex(index, "FLOAT16")
    finally:
        stop.set()
        asker.join()

    assert done is not None and done.before.vector_type == "FLOAT32"
    assert done.after.vector_type == "FLOAT16" and done.chunks == index.count_chunks()
    assert answers and all(a.answer == expected.answer for a in answers)
    assert _vector_blobs(index) == {done.after.vector_field: {embedder.dim * 2}}  # old field gone
    assert before.ask(QUESTION).answer == expected.answer  # the same engine, layout re-read
    assert before.retrieve(QUESTION, mode="vector").hits[0].doc_id == "keys"
    assert reindex(index, "FLOAT16") is None  # nothing left to do

    # Ingesting again writes the new layout; dropping removes everything.
    more = [Document(DocMeta(doc_id="lunch", title="Lunch"), "Lunch is served at noon.")]
    _ingest(settings, embedder, redis_client, more)
    assert _vector_blobs(index) == {done.after.vector_field: {embedder.dim * 2}}
    assert index.drop() == len(_documents()) + 1
    left = [n.decode() for n in redis_client.execute_command("FT._LIST")]
    assert not index.exists() and not [n for n in left if n.startswith(settings.index_name)]


def test_qa_reindex_says_what_it_did(
    settings: Settings, embedder: Embedder, redis_client: redis.Redis, cli_env: dict[str, str]
) -> None:
    _ingest(settings.with_(vector_type="FLOAT32"), embedder, redis_client)
    runner = CliRunner()
    first = runner.invoke(cli, ["reindex"], env=cli_env)
    assert first.exit_code == 0, first.output
    assert "FLOAT32 -> FLOAT16" in first.output
    again = runner.invoke(cli, ["reindex"], env=cli_env)
    assert again.exit_code == 0 and "already stores FLOAT16" in again.output


HOLD_LOCK = """
import sys
from retrieval.engine import QAEngine
from retrieval.settings import Settings
from retrieval.training.lock import TrainingLock
with TrainingLock.of(QAEngine(Settings.from_env()).index, "qa reindex"):
    print("holding", flush=True)
    sys.stdin.read()
"""


def test_a_second_qa_reindex_is_refused_and_names_the_one_running(
    settings: Settings, embedder: Embedder, redis_client: redis.Redis, cli_env: dict[str, str]
) -> None:
    index = _ingest(settings.with_(vector_type="FLOAT32"), embedder, redis_client)
    env = {**os.environ, **cli_env}
    running = subprocess.Popen([sys.executable, "-c", HOLD_LOCK], cwd=ROOT, env=env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert running.stdout.readline().strip() == "holding"
        second = CliRunner().invoke(cli, ["reindex"], env=cli_env)
        assert second.exit_code == 1
        assert f"index {settings.index_name} is already being reindexed: `qa reindex` by pid " \
               f"{running.pid}" in second.output  # fmt: skip
        assert "Wait for it to finish" in second.output
        assert index.layout(fresh=True).vector_type == "FLOAT32"  # nothing was touched
    finally:
        running.communicate("")  # it releases the lock on its way out
    with TrainingLock.of(index, "qa train"):  # a training holds it too
        trained = CliRunner().invoke(cli, ["reindex"], env=cli_env)
        assert trained.exit_code == 1 and "already being trained: `qa train`" in trained.output
    done = CliRunner().invoke(cli, ["reindex"], env=cli_env)
    assert done.exit_code == 0 and "FLOAT32 -> FLOAT16" in done.output
