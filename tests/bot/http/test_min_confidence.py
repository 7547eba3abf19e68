"""POST /ask: `min_confidence` per request, and a refusal that still gives the closest sources."""

from __future__ import annotations

import pytest

from tests.bot.http.conftest import KEY_QUESTION


def test_min_confidence_refuses_with_the_reason_and_the_closest_sources(client) -> None:
    assert client.post("/ask", json={"question": KEY_QUESTION}).get_json()["answer"]
    body = {"question": KEY_QUESTION, "min_confidence": 1.0}
    answer = client.post("/ask", json=body).get_json()
    assert answer["answer"] is None and answer["reason"] == "low_confidence"
    assert answer["explanation"]["reason"] == "the documents don't seem to cover this question"
    assert answer["explanation"]["confidence"]["threshold"] == 1.0
    assert answer["sources"][0]["doc_id"] == "keys"
    assert answer["sources"][0]["url"] == "https://wiki.example.com/handbook/api-keys"


def test_min_confidence_zero_or_null_answers(client) -> None:
    for value in (0, None):
        body = {"question": KEY_QUESTION, "min_confidence": value}
        assert client.post("/ask", json=body).get_json()["answer"]


@pytest.mark.parametrize("value", [1.5, -0.1, "high", True, [0.5]])
def test_a_bad_min_confidence_is_a_400_that_names_the_field(client, value) -> None:
    response = client.post("/ask", json={"question": KEY_QUESTION, "min_confidence": value})
    assert response.status_code == 400
    assert "min_confidence" in response.get_json()["detail"]


def test_the_openapi_document_states_min_confidence_and_not_doc_id(client) -> None:
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    assert schemas["AskRequest"]["properties"]["min_confidence"]["anyOf"][0]["maximum"] == 1
    assert "not_doc_id" in schemas["Filters"]["properties"]
