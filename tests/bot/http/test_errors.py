"""Every refusal is application/problem+json (RFC 9457) that says what to send instead."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.http.errors import PROBLEM_JSON
from retrieval.errors import QAError
from retrieval.query.filters import (
    compile_filters,
    parse_filter_args,
    parse_filters,
    split_inline_filters,
)

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


@pytest.mark.parametrize(
    ("path", "raw", "field"),
    [
        ("/ask", b'{"question": "\\ud800"}', "question"),
        ("/ask", b'{"question": "why \\udfff?", "k": 3}', "question"),
        ("/ask", b'{"question": "vpn?", "filters": {"tag": ["hr", "\\ud800"]}}', "filters"),
        ("/ask", b'{"\\ud800": 1, "question": "vpn?"}', "\\ud800"),
        ("/feedback", b'{"answer_id": "\\ud800", "helpful": true}', "answer_id"),
        ("/feedback", b'{"answer_id": "abc", "helpful": false, "answer": "\\udc00"}', "answer"),
    ],
)
def test_a_lone_surrogate_anywhere_in_the_body_is_a_400_not_a_500(client, path, raw, field):
    response = client.post(path, data=raw, content_type="application/json")
    problem = assert_problem(response, 400, "invalid_request")
    assert "lone surrogate" in problem["detail"] and problem["field"] == field


# -- no input is a 500: property-based, bounded to stay quick in `make test` ---------------

_CHARS = st.characters() | st.sampled_from('\ud800\udfff\x00\u2028\ufeff"\\{}|@*.é\U0001f600\x1b')
_WORDS = st.sampled_from(["@tags:{x}", "..", "2024..", "tag:hr", 'source:"a b"', "\x1b[31m"])
# Joined lists, not st.text: text() leaves out lone surrogates, which JSON can still carry.
_TEXT = st.lists(_CHARS | _WORDS, max_size=16).map("".join)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_FILTER_KEYS = st.sampled_from(["tag", "source", "doc_id", "not_doc_id", "created", "modified",
    "text", "tags", ""]) | _TEXT  # fmt: skip
_ASK = st.fixed_dictionaries(
    {"question": _TEXT | _JSON},
    optional={
        "k": _JSON, "reader": st.sampled_from(["auto", "sentence", "gpt"]) | _JSON,
        "mode": st.sampled_from(["hybrid", "vector", "keyword"]) | _JSON,
        "min_confidence": st.floats(allow_nan=False) | _JSON,
        "filters": st.dictionaries(_FILTER_KEYS, _TEXT | st.lists(_TEXT, max_size=3) | _JSON,
                                   max_size=3),
    },
)  # fmt: skip
_FEEDBACK = st.fixed_dictionaries(
    {"answer_id": _TEXT | _JSON, "helpful": st.booleans() | _JSON},
    optional={"answer": _TEXT | _JSON},
)
_BOUNDED = settings(max_examples=60, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip


@pytest.fixture()
def roomy_client(make_app, handbook):  # type: ignore[no-untyped-def]
    return make_app(rate_limit="100000/minute").test_client()


@_BOUNDED
@given(body=st.fixed_dictionaries({"question": _TEXT}) | _ASK | _JSON)
def test_no_ask_body_is_a_server_error(roomy_client, body) -> None:
    raw = json.dumps(body).encode()  # ASCII: a lone surrogate travels as its \u escape
    response = roomy_client.post("/ask", data=raw, content_type="application/json")
    assert response.status_code < 500, response.get_data(as_text=True)


@_BOUNDED
@given(body=st.fixed_dictionaries({"answer_id": _TEXT, "helpful": st.booleans()}) | _FEEDBACK)
def test_no_feedback_body_is_a_server_error(roomy_client, body) -> None:
    raw = json.dumps(body).encode()
    response = roomy_client.post("/feedback", data=raw, content_type="application/json")
    assert response.status_code < 500, response.get_data(as_text=True)


@settings(max_examples=100, deadline=None, database=None)
@given(
    args=st.lists(_TEXT, max_size=4), message=_TEXT, mapping=st.dictionaries(_FILTER_KEYS, _JSON)
)
def test_the_filter_language_refuses_bad_input_with_a_filter_error_only(args, message, mapping):
    for parse in (lambda: parse_filter_args(args), lambda: split_inline_filters(message),
                  lambda: parse_filters(mapping)):  # fmt: skip
        try:
            parsed = parse()
        except QAError:
            continue
        filters = parsed[1] if isinstance(parsed, tuple) else parsed
        compile_filters(filters)
