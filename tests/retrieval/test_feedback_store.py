"""Votes in a Redis stream; `qa feedback` counts them and `qa feedback export` writes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from bot.cli import cli
from retrieval import feedback
from retrieval.errors import InvalidQuestion
from retrieval.feedback import FeedbackStore
from retrieval.settings import Settings

SOURCES = [
    {
        "title": "API keys",
        "url": "https://wiki.example.com/keys",
        "page": None,
        "text": "not exported",
        "doc_id": "keys",
        "source": "handbook",
    }
]


@pytest.fixture()
def store(redis_client: redis.Redis, settings: Settings) -> FeedbackStore:
    return FeedbackStore(redis_client, settings.key_prefix)


def test_votes_are_exported_oldest_first_with_question_answer_and_sources(store: FeedbackStore):
    store.record(
        question="how do I rotate?",
        answer="click Rotate",
        sources=SOURCES,
        vote="up",
        user="U1",
        at=1700000000.5,
        extra={"channel": "C1"},
    )
    store.record(question="capital of peru?", answer=None, sources=[], vote="down", user="U2")

    first, second = store.export()

    assert first["vote"] == "up" and first["user"] == "U1" and first["time"] == 1700000000.5
    assert first["question"] == "how do I rotate?" and first["answer"] == "click Rotate"
    assert first["sources"] == [
        {
            "title": "API keys",
            "url": "https://wiki.example.com/keys",
            "doc_id": "keys",
            "source": "handbook",
        }
    ]
    assert first["extra"] == {"channel": "C1"}
    assert second["vote"] == "down" and second["answer"] is None and "extra" not in second
    assert store.key == f"{store.key.split(':')[0]}:feedback"


def test_export_pages_through_more_votes_than_one_read(store: FeedbackStore):
    for i in range(1203):
        store.record(question=f"q{i}", answer="a", sources=[], vote="up", user="U")

    questions = [entry["question"] for entry in store.export()]

    assert questions == [f"q{i}" for i in range(1203)]


def test_the_stream_is_capped(store: FeedbackStore, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(feedback, "MAX_ENTRIES", 10)
    for i in range(1000):
        store.record(question=f"q{i}", answer="a", sources=[], vote="up", user="U")

    assert store.count() < 300  # MAXLEN ~ trims whole nodes, so roughly, not exactly, 10


def test_a_vote_must_be_up_or_down(store: FeedbackStore):
    with pytest.raises(InvalidQuestion):
        store.record(question="q", answer="a", sources=[], vote="meh", user="U")


def test_qa_feedback_export_jsonl_prints_every_entry(store: FeedbackStore, cli_env: dict[str, str]):
    store.record(
        question="how do I rotate?", answer="click Rotate", sources=SOURCES, vote="up", user="U1"
    )
    store.record(question="où est la clé ?", answer=None, sources=[], vote="down", user="U2")

    result = CliRunner().invoke(
        cli, ["feedback", "export", "--jsonl"], env=cli_env, catch_exceptions=False
    )

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["question"], e["vote"]) for e in lines] == [
        ("how do I rotate?", "up"),
        ("où est la clé ?", "down"),
    ]
    assert "exported 2 feedback entries" in result.stderr


def test_qa_feedback_export_writes_the_output_file(
    store: FeedbackStore, cli_env: dict[str, str], tmp_path: Path
):
    store.record(question="q", answer="a", sources=SOURCES, vote="up", user="U1")
    out = tmp_path / "votes.jsonl"

    args = ["feedback", "export", "--jsonl", "--output", str(out)]
    result = CliRunner().invoke(cli, args, env=cli_env)

    assert result.exit_code == 0, result.output
    [entry] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert entry["sources"][0]["title"] == "API keys"


def test_qa_feedback_with_no_votes_exports_nothing(cli_env: dict[str, str]):
    result = CliRunner().invoke(cli, ["feedback", "export", "--jsonl"], env=cli_env)

    assert result.exit_code == 0 and result.stdout == ""
    assert "exported 0 feedback entries" in result.stderr


def test_qa_feedback_counts_votes_and_the_labels_they_make(
    store: FeedbackStore, cli_env: dict[str, str]
):
    passage = {**SOURCES[0], "text": "Click Rotate on the keys page."}
    store.record(question="how?", answer="Click Rotate", sources=[passage], vote="up", user="U1")
    store.record(question="why?", answer="no", sources=[passage], vote="down", user="U2")

    result = CliRunner().invoke(cli, ["feedback"], env=cli_env)

    assert result.exit_code == 0, result.output
    assert "2 feedback entries: 1 👍, 1 👎" in result.output
    assert "1 labelled examples" in result.output


def test_qa_feedback_without_redis_fails_with_a_message():
    env = {"REDIS_URL": "redis://127.0.0.1:9/0", "QA_REDIS_TIMEOUT_S": "0.5"}

    result = CliRunner().invoke(cli, ["feedback"], env=env)

    assert result.exit_code == 1
    assert "cannot reach Redis" in result.output and "Traceback" not in result.output
