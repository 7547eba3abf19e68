"""GET /openapi.json describes what the service really does; schemathesis holds it to that."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from bot.http import create_app
from bot.http.openapi import openapi_document
from retrieval.engine import QAEngine

EXAMPLES = {GenerationMode.POSITIVE: 100, GenerationMode.NEGATIVE: 150}


def schema_of(settings, embedder, span_model, **changes):  # type: ignore[no-untyped-def]
    """The live app's own document, loaded by schemathesis; every reader available (span
    requests use a real, small model)."""
    settings = settings.with_(span_model=span_model, rate_limit="100000/minute", **changes)
    engine = QAEngine(settings, embedder=embedder)
    return schemathesis.openapi.from_wsgi("/openapi.json", create_app(settings, engine))


def check_promises(schema, mode: GenerationMode, examples: int) -> None:  # type: ignore[no-untyped-def]
    """No 5xx for anything the schema allows or forbids; statuses, media types, bodies and
    headers as documented; anything the schema forbids is refused.

    Positive-data acceptance is left out on purpose: a well-formed filter can still mean
    nothing (a date that is not a date, a range that ends before it starts), which JSON
    Schema cannot express; those 400s are documented under the request's `Filters`.
    """

    @given(case=schema.as_strategy(generation_mode=mode))
    @hypothesis.settings(max_examples=examples, deadline=None, derandomize=True,
                         suppress_health_check=list(HealthCheck), database=None)  # fmt: skip
    def keeps_its_promises(case) -> None:  # type: ignore[no-untyped-def]
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    keeps_its_promises()


@pytest.fixture()
def api_schema(settings, embedder, span_model, handbook):  # type: ignore[no-untyped-def]
    return schema_of(settings, embedder, span_model)


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_the_service_keeps_the_promises_of_its_openapi_document(api_schema, mode) -> None:
    # Operations without inputs have nothing to negate: the negative run covers POST /ask.
    schema = api_schema if mode is GenerationMode.POSITIVE else api_schema.include(method="POST")
    check_promises(schema, mode, EXAMPLES[mode])


def test_the_token_guarded_service_keeps_its_promises_too(settings, embedder, span_model):
    schema = schema_of(settings, embedder, span_model, api_tokens=("alpha-token",))
    assert schema.raw_schema["paths"]["/ask"]["post"]["security"] == [{"bearer": []}]
    check_promises(schema.include(method="POST"), GenerationMode.POSITIVE, 30)


def test_the_document_is_valid_openapi_3_1(api_schema) -> None:
    api_schema.validate()
    assert api_schema.raw_schema["openapi"] == "3.1.0"
    assert set(api_schema.raw_schema["paths"]) == {
        "/ask", "/feedback", "/health", "/ready", "/metrics", "/openapi.json", "/"
    }  # fmt: skip


def test_the_document_follows_the_settings(settings) -> None:
    doc = openapi_document(settings.with_(max_k=20, max_question_chars=300))
    request = doc["components"]["schemas"]["AskRequest"]["properties"]
    assert request["question"]["maxLength"] == 300
    assert request["k"]["anyOf"][0]["maximum"] == 20
    assert "security" not in doc["paths"]["/ask"]["post"]


def test_the_document_states_the_token_only_when_tokens_are_set(settings) -> None:
    ask = openapi_document(settings.with_(api_tokens=("alpha-token",)))
    assert ask["paths"]["/ask"]["post"]["security"] == [{"bearer": []}]
    assert "401" in ask["paths"]["/ask"]["post"]["responses"]
    assert ask["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
