"""POST /feedback: a vote on an /ask answer becomes a label for the next `qa train-reader`."""

from __future__ import annotations

import pytest

from bot.commands.feedback import as_squad
from retrieval.feedback import FeedbackStore
from retrieval.settings import Settings
from retrieval.training.labels import usable
from tests.bot.http.conftest import KEY_QUESTION
from tests.bot.http.test_errors import assert_problem


def _ask(client) -> dict:  # type: ignore[no-untyped-def]
    body = client.post("/ask", json={"question": KEY_QUESTION}).get_json()
    assert body["answer"] and body["answer_id"]
    return body


def _store(settings: Settings, redis_client) -> FeedbackStore:  # type: ignore[no-untyped-def]
    return FeedbackStore(redis_client, settings.key_prefix)


def test_an_answer_carries_an_id_and_its_sentence_with_the_answer_inside(client) -> None:
    body = _ask(client)
    context = body["context"]
    assert context["text"][context["answer_start"] : context["answer_end"]] == body["answer"]
    assert context["text"] in body["sources"][0]["text"]


def test_a_thumbs_up_is_recorded_and_becomes_a_label(client, settings, redis_client) -> None:
    body = _ask(client)
    response = client.post("/feedback", json={"answer_id": body["answer_id"], "helpful": True})
    assert response.status_code == 201 and response.get_json()["status"] == "recorded"
    [label] = _store(settings, redis_client).labels()
    assert label.question == KEY_QUESTION and label.answer == body["answer"]
    assert label.answer in label.passage and label.origin == "http"


def test_a_thumbs_down_is_kept_but_is_no_label(client, settings, redis_client) -> None:
    body = _ask(client)
    client.post("/feedback", json={"answer_id": body["answer_id"], "helpful": False})
    store = _store(settings, redis_client)
    assert [e["vote"] for e in store.export()] == ["down"]
    assert store.labels() == []


def test_one_vote_per_person_per_answer_the_last_one_counts(
    client, make_app, settings, redis_client
) -> None:
    body = _ask(client)
    for helpful in (True, False, True, False):  # a person changing their mind
        vote = {"answer_id": body["answer_id"], "helpful": helpful}
        assert client.post("/feedback", json=vote).status_code == 201
    other = make_app(api_tokens=("other-token",)).test_client()
    vote = {"answer_id": body["answer_id"], "helpful": True}
    headers = {"Authorization": "Bearer other-token"}
    assert other.post("/feedback", json=vote, headers=headers).status_code == 201
    store = _store(settings, redis_client)
    assert sorted(e["vote"] for e in store.export()) == ["down", "up"]  # one per person
    assert len(list(store.export(every=True))) == 5
    assert len(store.labels()) == 1  # the other person's 👍; the first one's last word is 👎


def test_a_correction_found_in_a_source_is_the_label(client, settings, redis_client) -> None:
    body = _ask(client)
    right = body["sources"][-1]["text"].split(".")[0].strip()
    client.post("/feedback", json={"answer_id": body["answer_id"], "helpful": False,
                                   "answer": right})  # fmt: skip
    [label] = _store(settings, redis_client).labels()
    assert label.answer == right


@pytest.mark.parametrize(
    "hostile",
    ["<script>alert(1)</script>", "<!channel> @here", "'; DROP TABLE x; --", "𝕏\u202e\x00end"],
)
def test_hostile_text_in_a_correction_is_stored_as_plain_text(
    client, settings, redis_client, hostile: str
) -> None:
    body = _ask(client)
    response = client.post("/feedback", json={"answer_id": body["answer_id"], "helpful": False,
                                              "answer": hostile})  # fmt: skip
    assert response.status_code == 201
    [entry] = _store(settings, redis_client).export()
    assert entry["correction"] == hostile.strip()
    assert _store(settings, redis_client).labels() == []  # in no source: nothing to learn


def test_an_unknown_or_expired_answer_id_is_a_404_problem(client) -> None:
    response = client.post("/feedback", json={"answer_id": "no-such-answer", "helpful": True})
    problem = assert_problem(response, 404, "unknown_answer")
    assert "ask again" in problem["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"helpful": True}, "answer_id"),
        ({"answer_id": "x", "helpful": "yes"}, "helpful"),
        ({"answer_id": 5, "helpful": True}, "answer_id"),
        ({"answer_id": "x" * 65, "helpful": True}, "answer_id"),
        ({"answer_id": "x", "helpful": True, "answer": ""}, "answer"),
        ({"answer_id": "x", "helpful": True, "answer": "a" * 2001}, "answer"),
        ({"answer_id": "x", "helpful": True, "vote": "up"}, "vote"),
    ],
)
def test_a_malformed_body_is_a_400_naming_the_field(client, body: dict, field: str) -> None:
    problem = assert_problem(client.post("/feedback", json=body), 400, "invalid_request")
    assert problem["field"] == field


def test_feedback_needs_the_token_ask_needs(make_app, handbook) -> None:
    guarded = make_app(api_tokens=("alpha-token",)).test_client()
    response = guarded.post("/feedback", json={"answer_id": "x", "helpful": True})
    assert_problem(response, 401, "unauthorized")


def test_a_feedback_flood_is_rate_limited(make_app, handbook) -> None:
    client = make_app(rate_limit="3/minute").test_client()
    codes = [
        client.post("/feedback", json={"answer_id": "x", "helpful": True}).status_code
        for _ in range(5)
    ]
    assert codes[:3] == [404, 404, 404] and codes[3:] == [429, 429]


def test_labels_export_as_squad_that_points_at_the_answer(client, settings, redis_client) -> None:
    body = _ask(client)
    client.post("/feedback", json={"answer_id": body["answer_id"], "helpful": True})
    squad = as_squad(usable(_store(settings, redis_client).labels()))
    [paragraph] = squad["data"][0]["paragraphs"]
    [qa] = paragraph["qas"]
    start = qa["answers"][0]["answer_start"]
    assert paragraph["context"][start : start + len(body["answer"])] == body["answer"]
