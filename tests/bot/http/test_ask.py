"""POST /ask answers with the answer object of `qa ask --json`."""

from __future__ import annotations

import flask
import pytest

from bot.http import create_app
from retrieval.engine import QAEngine
from tests.bot.http.conftest import KEY_QUESTION


def ask(client: flask.testing.FlaskClient, **body: object):  # type: ignore[no-untyped-def]
    return client.post("/ask", json=body)


def test_ask_answers_with_the_same_object_as_qa_ask_json(client, engine: QAEngine) -> None:
    response = ask(client, question=KEY_QUESTION)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    got = response.get_json()
    expected = engine.ask(KEY_QUESTION).to_dict()
    assert set(got) == {*expected, "answer_id"}  # the id names it in POST /feedback
    for volatile in ("timings", "answer_id"):
        got.pop(volatile), expected.pop(volatile, None)
    assert got == expected


def test_answer_is_a_verbatim_span_of_its_highlighted_source(client) -> None:
    answer = ask(client, question=KEY_QUESTION).get_json()
    assert answer["answer"] and "24 hours" in answer["answer"]
    best = answer["candidates"][0]
    context = best["context"]
    start, end = best["start"] - best["context_start"], best["end"] - best["context_start"]
    assert context[start:end] == answer["answer"]
    assert answer["sources"][best["source_index"]]["doc_id"] == "keys"


def test_answer_reports_its_stage_timings(client) -> None:
    timings = ask(client, question=KEY_QUESTION).get_json()["timings"]
    assert {"embed", "retrieve", "read", "total"} <= set(timings)
    assert all(v >= 0 for v in timings.values())


def test_k_defaults_to_five_and_can_be_chosen(client) -> None:
    assert ask(client, question=KEY_QUESTION).get_json()["explanation"]["k"] == 5
    assert ask(client, question=KEY_QUESTION, k=1).get_json()["explanation"]["k"] == 1


def test_filters_keep_only_matching_documents(client) -> None:
    answer = ask(client, question="How many days of leave?", filters={"tag": "security"})
    sources = answer.get_json()["sources"]
    assert sources and {s["doc_id"] for s in sources} == {"keys"}


@pytest.mark.parametrize(
    "filters",
    [{"source": ["hr-portal"]}, {"created": ">=2024-03"}, {"created": [1717200000]},
     {"doc_id": "leave", "text": "leave"}],
)  # fmt: skip
def test_every_filter_field_is_accepted(client, filters: dict) -> None:
    response = ask(client, question="How many days of leave?", filters=filters)
    assert response.status_code == 200, response.get_json()
    assert {s["doc_id"] for s in response.get_json()["sources"]} == {"leave"}


def test_filter_matching_nothing_gives_no_answer_with_the_reason(client) -> None:
    answer = ask(client, question=KEY_QUESTION, filters={"tag": "finance"}).get_json()
    assert answer["answer"] is None
    assert answer["reason"] == "no_documents_match_filter"
    assert answer["explanation"]["reason"] == "no document matches the filters"


def test_the_sentence_reader_can_be_chosen(client) -> None:
    answer = ask(client, question=KEY_QUESTION, reader="sentence", mode="hybrid")
    assert answer.get_json()["reader"] == "sentence"


def test_asking_for_the_trained_reader_before_training_is_a_409_that_says_what_to_run(
    settings, embedder, handbook
) -> None:
    settings = settings.with_(shipped_reader=None)  # no shipped reader to answer meanwhile
    client = create_app(settings, QAEngine(settings, embedder=embedder)).test_client()
    response = ask(client, question=KEY_QUESTION, reader="trained")
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["code"] == "reader_not_trained" and "qa train-reader" in problem["detail"]
    assert ask(client, question=KEY_QUESTION, reader="auto").get_json()["reader"] == "sentence"


def test_null_optional_fields_mean_their_defaults(client) -> None:
    response = ask(client, question=KEY_QUESTION, k=None, filters=None, reader=None, mode=None)
    assert response.status_code == 200
    assert response.get_json()["explanation"]["k"] == 5


def test_the_span_reader_reads_with_the_configured_model(settings, embedder, span_model, handbook):
    settings = settings.with_(span_model=span_model)
    engine = QAEngine(settings, embedder=embedder)
    client = create_app(settings, engine).test_client()
    answer = client.post("/ask", json={"question": KEY_QUESTION, "reader": "span"}).get_json()
    assert answer["reader"] == "span"
    for candidate in answer["candidates"]:  # random weights: any span, but a verbatim one
        at = candidate["start"] - candidate["context_start"]
        assert candidate["context"][at : at + len(candidate["answer"])] == candidate["answer"]
        if candidate["source_index"] is None:  # from a document that bears not on the question
            continue
        source = answer["sources"][candidate["source_index"]]
        read = [p for p in [source, *source["passages"]] if p["key"] == candidate["key"]]
        assert read[0]["text"][candidate["start"] : candidate["end"]] == candidate["answer"]


def test_asking_for_an_unavailable_span_model_is_503(settings, embedder, handbook, tmp_path):
    settings = settings.with_(span_model=str(tmp_path / "no-such-model"), shipped_reader=None)
    engine = QAEngine(settings, embedder=embedder)
    client = create_app(settings, engine).test_client()
    response = client.post("/ask", json={"question": KEY_QUESTION, "reader": "span"})
    assert response.status_code == 503
    assert response.get_json()["code"] == "model_unavailable"
    auto = client.post("/ask", json={"question": KEY_QUESTION, "reader": "auto"}).get_json()
    assert auto["reader"] == "sentence"  # auto falls back to what is on disk
