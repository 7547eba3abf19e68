"""Redis down, an index missing or a slow reader give a quick problem, never a hang or a 500."""

from __future__ import annotations

import threading
import time

import pytest

from bot.http import create_app
from retrieval.engine import QAEngine
from retrieval.readers.sentence import SentenceReader
from tests.bot.http.conftest import KEY_QUESTION
from tests.bot.http.test_errors import assert_problem


@pytest.fixture()
def unreachable(settings, embedder, tmp_path):  # type: ignore[no-untyped-def]
    """An app whose Redis is a socket nobody listens on."""
    down = settings.with_(redis_url=f"unix://{tmp_path}/nobody.sock")
    engine = QAEngine(down, embedder=embedder)
    return create_app(down, engine).test_client()


def test_ask_is_a_quick_503_when_redis_is_unreachable(unreachable) -> None:
    started = time.monotonic()
    response = unreachable.post("/ask", json={"question": KEY_QUESTION})
    assert time.monotonic() - started < 3
    problem = assert_problem(response, 503, "redis_unavailable")
    assert "REDIS_URL" in problem["detail"]
    assert response.headers["Retry-After"] == "5"


def test_ready_is_503_with_the_reason_when_redis_is_unreachable(unreachable) -> None:
    problem = assert_problem(unreachable.get("/ready"), 503, "redis_unavailable")
    assert "cannot reach Redis" in problem["detail"]


def test_health_stays_200_when_redis_is_unreachable(unreachable) -> None:
    assert unreachable.get("/health").get_json() == {"status": "ok"}


def test_ready_is_503_until_something_is_ingested(make_app, pipeline) -> None:
    client = make_app().test_client()
    problem = assert_problem(client.get("/ready"), 503, "index_missing")
    assert "qa ingest" in problem["detail"]


def test_ready_reports_redis_index_and_models(client, settings) -> None:
    ready = client.get("/ready").get_json()
    assert ready == {
        "status": "ready", "redis": "ok", "index": settings.index_name, "chunks": 2,
        "embedder": settings.embedding_model, "reader": "sentence",
    }  # fmt: skip


class SlowReader(SentenceReader):
    """The real sentence reader, made to take longer than the request may."""

    release = threading.Event()

    def read(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.release.wait(5)
        return super().read(*args, **kwargs)


@pytest.fixture()
def slow_engine(engine, monkeypatch):  # type: ignore[no-untyped-def]
    SlowReader.release.clear()
    slow = SlowReader(engine.embedder, engine.settings.sentence_threshold)
    monkeypatch.setattr(engine, "reader_for", lambda name: slow)
    yield engine
    SlowReader.release.set()


def test_a_slow_reader_gets_a_504_at_the_request_timeout(make_app, handbook, slow_engine):
    client = make_app(request_timeout_s=0.5).test_client()
    started = time.monotonic()
    problem = assert_problem(client.post("/ask", json={"question": KEY_QUESTION}), 504, "timeout")
    assert 0.5 <= time.monotonic() - started < 3
    assert "0.5s" in problem["detail"]


@pytest.fixture()
def recycled(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records the worker's requests to be replaced instead of signalling the test process."""
    calls: list[bool] = []
    monkeypatch.setattr("bot.http.services.recycle_worker", lambda: calls.append(True))
    return calls


def test_an_overrun_under_gunicorn_asks_for_a_fresh_worker(
    make_app, handbook, slow_engine, recycled
):  # type: ignore[no-untyped-def]
    client = make_app(request_timeout_s=0.2).test_client()
    gunicorn = {"SERVER_SOFTWARE": "gunicorn/23.0.0"}
    response = client.post("/ask", json={"question": KEY_QUESTION}, environ_base=gunicorn)
    assert response.status_code == 504
    response.close()
    assert recycled == [True]


def test_the_development_server_keeps_its_process_after_an_overrun(
    make_app, handbook, slow_engine, recycled
):  # type: ignore[no-untyped-def]
    client = make_app(request_timeout_s=0.2).test_client()
    response = client.post("/ask", json={"question": KEY_QUESTION})
    response.close()
    assert response.status_code == 504 and recycled == []
