"""What a Slack answer lists as its sources: each document once, where people can open it."""

from __future__ import annotations

import json
from pathlib import Path

from bot.slack.blocks import answer_message
from ingest.pipeline import IngestPipeline
from retrieval.embedding.embedder import Embedder
from retrieval.engine import QAEngine
from retrieval.settings import Settings

HANDBOOK = """# Security handbook

## API keys

To rotate the API key, open the admin console and click Rotate key. The old key keeps
working for 24 hours after a rotation.

## Key storage

Never paste an API key into a chat or a ticket. Keys live in the team's secret store, and
a key that was pasted anywhere is rotated at once.

## Key owners

Every API key has an owner, who rotates it when they leave the team or change roles.
"""


def _message_text(message: dict) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def test_a_handbook_read_in_three_places_is_listed_once(
    tmp_path: Path, pipeline: IngestPipeline, engine: QAEngine
):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "security.md").write_text(HANDBOOK, encoding="utf-8")
    pipeline.run([docs])

    answer = engine.ask("Who rotates an API key, and when?", k=5)
    assert len(answer.sources) == 1 and answer.sources[0]["passages"]  # three sections read
    text = _message_text(answer_message(answer, answer_id="a1"))

    assert text.count("Security handbook") == 1, text
    assert "`security.md`" in text  # the file, as people know it
    assert str(tmp_path) not in text and str(tmp_path.resolve()) not in text


def test_qa_source_urls_turns_a_file_into_a_link(
    tmp_path: Path, pipeline: IngestPipeline, settings: Settings, embedder: Embedder
):
    docs = (tmp_path / "docs").resolve()
    docs.mkdir()
    (docs / "security.md").write_text(HANDBOOK, encoding="utf-8")
    pipeline.run([docs])
    engine = QAEngine(
        settings.with_(source_urls=(f"{docs}=https://wiki.example.com/docs",)), embedder=embedder
    )

    answer = engine.ask("How do I rotate the API key?")
    text = _message_text(answer_message(answer, answer_id="a1"))

    assert "<https://wiki.example.com/docs/security.md#:~:text=" in text, text
    assert "`security.md`" not in text
