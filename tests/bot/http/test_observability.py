"""Request ids on every response and log line, JSON logs, Prometheus metrics per app."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.http.observability import JsonFormatter
from tests.bot.http.conftest import KEY_QUESTION


def samples(client) -> dict[tuple[str, tuple], float]:  # type: ignore[no-untyped-def]
    text = client.get("/metrics").get_data(as_text=True)
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.parametrize(
    ("method", "path"), [("get", "/health"), ("get", "/nowhere"), ("post", "/ask"),
                         ("get", "/"), ("get", "/metrics"), ("put", "/ready")],
)  # fmt: skip
def test_every_response_has_a_request_id(client, method: str, path: str) -> None:
    response = getattr(client, method)(path)
    assert len(response.headers["X-Request-ID"]) == 32


def test_a_sane_incoming_request_id_is_kept(client) -> None:
    response = client.get("/health", headers={"X-Request-ID": "lb-7f3a:42"})
    assert response.headers["X-Request-ID"] == "lb-7f3a:42"


@pytest.mark.parametrize("incoming", ["", "x" * 200, "<script>", "a b", "-leading-dash"])
def test_an_odd_incoming_request_id_is_replaced(client, incoming: str) -> None:
    response = client.get("/health", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] != incoming
    assert len(response.headers["X-Request-ID"]) == 32


def test_each_request_logs_one_json_line_with_its_id(client, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="qa.http"):
        response = client.post("/ask", json={"question": KEY_QUESTION},
                               headers={"X-Request-ID": "trace-1"})  # fmt: skip
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    access = [line for line in lines if line.get("path") == "/ask"]
    assert len(access) == 1
    assert access[0]["request_id"] == response.headers["X-Request-ID"] == "trace-1"
    assert access[0]["status"] == 200 and access[0]["method"] == "POST"
    assert access[0]["duration_ms"] > 0 and access[0]["level"] == "info"


def test_unexpected_errors_are_logged_with_their_traceback(client, engine, caplog, monkeypatch):
    monkeypatch.setattr(engine, "ask", lambda *a, **k: 1 / 0)
    with caplog.at_level(logging.INFO, logger="qa.http"):
        client.post("/ask", json={"question": "why?"})
    errors = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.exc_info]
    assert errors and "ZeroDivisionError" in errors[0]["exception"]


def test_metrics_count_requests_and_time_each_stage(client) -> None:
    client.post("/ask", json={"question": KEY_QUESTION})
    client.post("/ask", json={"question": ""})
    got = samples(client)
    assert got[("qa_http_requests_total", (("method", "POST"), ("route", "/ask"),
                                           ("status", "200")))] == 1  # fmt: skip
    assert got[("qa_http_requests_total", (("method", "POST"), ("route", "/ask"),
                                           ("status", "400")))] == 1  # fmt: skip
    for stage in ("embed", "retrieve", "read", "total"):
        assert got[("qa_stage_duration_seconds_count", (("stage", stage),))] == 1
    assert got[("qa_answers_total", (("outcome", "answered"),))] == 1
    latency = ("qa_http_request_duration_seconds_count", (("method", "POST"), ("route", "/ask")))
    assert got[latency] == 2


def test_every_app_has_its_own_metrics(make_app, handbook) -> None:
    first, second = make_app().test_client(), make_app().test_client()
    first.get("/health")
    first.get("/health")
    key = ("qa_http_requests_total", (("method", "GET"), ("route", "/health"), ("status", "200")))
    assert samples(first)[key] == 2
    assert key not in samples(second)


def test_unknown_paths_share_one_metrics_label(client) -> None:
    for path in ("/a", "/b", "/c"):
        client.get(path)
    got = samples(client)
    key = ("qa_http_requests_total", (("method", "GET"), ("route", "unmatched"), ("status", "404")))
    assert got[key] == 3
