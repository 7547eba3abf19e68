"""End to end: the Procfile's gunicorn on loopback, over a real Redis that goes away and back."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ingest.chunker import Chunker
from ingest.pipeline import IngestPipeline
from retrieval.embedding.embedder import Embedder
from retrieval.index.open import open_index
from retrieval.redis.server import EmbeddedRedis
from retrieval.settings import Settings
from tests.bot.http.conftest import DOCUMENTS, KEY_QUESTION

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile_web_command() -> list[str]:
    """The Procfile's `web:` line, run with this interpreter's gunicorn."""
    line = next(ln for ln in (ROOT / "Procfile").read_text().splitlines() if ln.startswith("web:"))
    args = shlex.split(line.removeprefix("web:"))
    assert args[0] == "gunicorn"
    return [sys.executable, "-m", "gunicorn", *args[1:]]


class Gunicorn:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        command = [*procfile_web_command(), "--bind", f"127.0.0.1:{self.port}"]
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out
            )

    def wait_until_up(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            # Refused before the master listens; held while the workers load their models.
            with contextlib.suppress(requests.ConnectionError, requests.Timeout):
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise AssertionError("gunicorn did not come up:\n" + self.log.read_text()[-3000:])

    def ask(self, question: str = KEY_QUESTION) -> requests.Response:
        return requests.post(self.url + "/ask", json={"question": question}, timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture()
def redis_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="qa-e2e-"))  # short: unix socket paths are limited
    yield folder
    with contextlib.suppress(Exception):
        EmbeddedRedis(folder).stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def ingested_redis(redis_folder: Path, embedder: Embedder) -> EmbeddedRedis:
    """A running server in `redis_folder` that holds the e2e corpus; tests may stop it."""
    server = EmbeddedRedis(redis_folder)
    server.start()
    settings = Settings(redis_url=server.url, index_name="e2e:idx", key_prefix="e2e",
                        data_dir=redis_folder / "unused")  # fmt: skip
    index = open_index(settings, embedder, server.client())
    chunker = Chunker(settings.chunk_tokens, settings.chunk_overlap_tokens, embedder.max_tokens,
                      embedder.count_tokens)  # fmt: skip
    IngestPipeline(index, embedder, chunker).ingest(DOCUMENTS)
    return server


def service_env(**more: str) -> dict[str, str]:
    return {"QA_INDEX_NAME": "e2e:idx", "QA_KEY_PREFIX": "e2e", "QA_READER": "sentence",
            "QA_RATE_LIMIT": "10000/minute", "WEB_CONCURRENCY": "2", "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false", **more}  # fmt: skip


def test_gunicorn_answers_survives_a_redis_outage_and_recovers_alone(
    ingested_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    server = ingested_redis
    web = Gunicorn(service_env(REDIS_URL=server.url), tmp_path / "gunicorn.log")
    try:
        web.wait_until_up()
        answered = web.ask()
        assert answered.status_code == 200, answered.text
        assert "24 hours" in answered.json()["answer"]
        assert answered.headers["X-Request-ID"]
        assert requests.get(web.url + "/ready", timeout=5).json()["chunks"] == 2

        server.stop()
        started = time.monotonic()
        down = web.ask()
        assert time.monotonic() - started < 3
        assert down.status_code == 503
        assert down.headers["Content-Type"] == "application/problem+json"
        assert down.json()["code"] == "redis_unavailable"
        assert requests.get(web.url + "/ready", timeout=5).status_code == 503

        server.start()
        assert [web.ask().status_code for _ in range(4)] == [200] * 4  # both workers recover

        metrics = requests.get(web.url + "/metrics", timeout=5).text
        assert 'qa_http_requests_total{method="POST",route="/ask",status="503"} 1.0' in metrics
        assert 'qa_stage_duration_seconds_count{stage="read"} 5.0' in metrics
    finally:
        web.stop()
    lines = [json.loads(ln) for ln in web.log.read_text().splitlines() if ln.startswith("{")]
    assert any(ln.get("path") == "/ask" and ln.get("status") == 503 for ln in lines)
    assert all("request_id" in ln for ln in lines if ln.get("path"))


def test_without_redis_url_the_master_starts_the_embedded_redis(
    embedder: Embedder, tmp_path: Path
) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="qa-e2e-"))
    web = Gunicorn(service_env(QA_DATA_DIR=str(data_dir)), tmp_path / "gunicorn.log")
    try:
        web.wait_until_up()
        assert EmbeddedRedis(data_dir / "redis").is_running()
        not_ingested = requests.get(web.url + "/ready", timeout=5)
        assert not_ingested.status_code == 503
        assert not_ingested.json()["code"] == "index_missing"
    finally:
        web.stop()
        assert not EmbeddedRedis(data_dir / "redis").is_running(), (
            "the master stops what it started"
        )
        shutil.rmtree(data_dir, ignore_errors=True)


def test_an_overrunning_question_gets_504_and_a_fresh_worker(
    ingested_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    env = service_env(
        REDIS_URL=ingested_redis.url, QA_REQUEST_TIMEOUT_S="0.001", WEB_CONCURRENCY="1"
    )
    web = Gunicorn(env, tmp_path / "gunicorn.log")
    try:
        web.wait_until_up()
        overrun = web.ask()
        assert overrun.status_code == 504, overrun.text
        assert overrun.json()["code"] == "timeout"
        booted = []
        deadline = time.monotonic() + 30
        while len(booted) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            booted = [ln for ln in web.log.read_text().splitlines() if "Booting worker" in ln]
        assert len(booted) == 2, "the worker that overran should have been replaced"
        web.wait_until_up(60)  # the new worker loads its models first (seconds), then serves
    finally:
        web.stop()
