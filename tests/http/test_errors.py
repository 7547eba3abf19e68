"""Every refusal is application/problem+json (RFC 9457) that says what to send instead."""

from __future__ import annotations

import pytest

from bot.http.errors import PROBLEM_JSON

LONG = "why " * 300  # 1200 characters; the limit is 1000


def assert_problem(response, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    if code:
        assert body["code"] == code
        assert body["type"].endswith(":" + code)
    return body


@pytest.mark.parametrize(
    ("body", "code", "field", "words"),
    [
        ({}, "bad_question", None, "missing"),
        ({"question": ""}, "bad_question", None, "empty"),
        ({"question": " \n\t "}, "bad_question", None, "empty"),
        ({"question": 42}, "bad_question", None, "must be a string"),
        ({"question": LONG}, "bad_question", None, "limit is 1000"),
        ({"question": "vpn?", "k": 0}, "invalid_request", "k", "between 1 and 50"),
        ({"question": "vpn?", "k": 51}, "invalid_request", "k", "between 1 and 50"),
        ({"question": "vpn?", "k": "5"}, "invalid_request", "k", "integer"),
        ({"question": "vpn?", "k": True}, "invalid_request", "k", "integer"),
        ({"question": "vpn?", "k": 2.5}, "invalid_request", "k", "integer"),
        ({"question": "vpn?", "reader": "gpt"}, "invalid_request", "reader", "auto, trained, span"),
        ({"question": "vpn?", "mode": "fuzzy"}, "invalid_request", "mode", "hybrid"),
        ({"question": "vpn?", "filter": {}}, "invalid_request", "filter", "unknown field"),
        ({"question": "vpn?", "filters": {"team": "it"}}, "bad_filter", None, "unknown filter"),
        ({"question": "vpn?", "filters": {"tags": "it"}}, "bad_filter", None, "unknown filter"),
        ({"question": "vpn?", "filters": "tag=it"}, "bad_filter", None, "must be an object"),
        ({"question": "vpn?", "filters": {"tag": 7}}, "bad_filter", None, "must be text"),
        ({"question": "vpn?", "filters": {"tag": []}}, "bad_filter", None, "1 to 100"),
        ({"question": "vpn?", "filters": {"tag": ""}}, "bad_filter", None, "empty"),
        ({"question": "vpn?", "filters": {"created": "2025..2024"}}, "bad_filter", None,
         "end is before its start"),
        ({"question": "vpn?", "filters": {"created": "last week"}}, "bad_filter", None,
         "cannot read"),
        ({"question": "vpn?", "filters": {"modified": 1e20}}, "bad_filter", None, "unix seconds"),
    ],
)  # fmt: skip
def test_invalid_questions_are_refused_with_what_to_fix(client, body, code, field, words) -> None:
    problem = assert_problem(client.post("/ask", json=body), 400, code)
    assert words in problem["detail"]
    assert problem.get("field") == field


@pytest.mark.parametrize(
    "raw", [b"{not json", b'{"question": NaN}', b"\xff\xfe\x00", b"[" * 50_000, b""]
)
def test_bad_json_is_refused(client, raw: bytes) -> None:
    response = client.post("/ask", data=raw, content_type="application/json")
    assert "not valid JSON" in assert_problem(response, 400, "bad_json")["detail"]


@pytest.mark.parametrize("raw", [b"[]", b'"why?"', b"null"])
def test_a_body_that_is_not_an_object_is_refused(client, raw: bytes) -> None:
    response = client.post("/ask", data=raw, content_type="application/json")
    assert "JSON object" in assert_problem(response, 400, "invalid_request")["detail"]


def test_a_body_that_is_not_json_is_415(client) -> None:
    response = client.post("/ask", data="question=vpn", content_type="text/plain")
    assert "Content-Type: application/json" in assert_problem(response, 415)["detail"]


def test_a_body_over_the_size_limit_is_413(make_app, handbook) -> None:
    client = make_app(max_body_bytes=1024).test_client()
    response = client.post("/ask", json={"question": "why? " * 400})
    assert "1024 bytes" in assert_problem(response, 413)["detail"]


def test_unknown_routes_are_problem_json_not_html(client) -> None:
    assert_problem(client.get("/nowhere"), 404)
    assert_problem(client.get("/static/missing.js"), 404)


def test_wrong_methods_are_problem_json_with_allow(client) -> None:
    response = client.get("/ask")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]
    assert_problem(client.delete("/health"), 405)


def test_an_unexpected_failure_is_a_500_problem_without_internals(client, engine, monkeypatch):
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    monkeypatch.setattr(engine, "ask", broken)
    problem = assert_problem(client.post("/ask", json={"question": "vpn?"}), 500)
    assert "secret" not in problem["detail"]
    assert "request id" in problem["detail"]
