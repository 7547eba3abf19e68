"""An answer's sources: one entry per document with its passages, only documents that bear on
the question, copies of a page listed once, and places a person can open."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline
from retrieval.embedding.embedder import Embedder
from retrieval.engine import QAEngine
from retrieval.settings import Settings
from tests.corpus import SECTIONS, api_reference

SECURITY = """# Security handbook

## API keys

To rotate the API key, open the admin console, choose Settings and API keys, and click
Rotate key. The old key keeps working for 24 hours, then every request with it is refused.

## Passwords

Passwords must be at least 14 characters long. A password is never reused and never shared,
not even with the IT desk; the password manager generates and keeps them.

## Lost laptops

Report a lost or stolen laptop to the security team within one hour, by phone or in the
security channel. The team locks the laptop remotely and rotates its certificates.
"""
LEAVE = """# Leave policy

## Vacation

Full-time employees get 28 days of paid vacation per year, plus public holidays. Unused
vacation carries over until the end of March of the following year.

## Parental leave

Parents get 20 weeks of fully paid parental leave, taken in up to three blocks during the
child's first two years.
"""
CAFETERIA = """# Cafeteria

The cafeteria serves soup, salads and a warm dish from noon until two. On Fridays the
kitchen closes early and only sandwiches are sold at the counter by the entrance.
"""


def _handbook(folder: Path) -> Path:
    (folder / "hr").mkdir(parents=True)
    (folder / "security.md").write_text(SECURITY, encoding="utf-8")
    (folder / "hr" / "leave.md").write_text(LEAVE, encoding="utf-8")
    (folder / "cafeteria.md").write_text(CAFETERIA, encoding="utf-8")
    return folder


@pytest.fixture()
def handbook(tmp_path: Path, pipeline: IngestPipeline) -> Path:
    docs = _handbook(tmp_path / "docs")
    report = pipeline.run([docs])
    assert report.new == 3 and not report.failed, report.summary()
    return docs


def test_each_document_is_listed_once_with_its_other_passages_under_it(
    handbook: Path, engine: QAEngine
):
    answer = engine.ask("How do I rotate the API key, and how long must passwords be?", k=8)

    doc_ids = [s["doc_id"] for s in answer.sources]
    assert len(doc_ids) == len(set(doc_ids)), doc_ids
    security = next(s for s in answer.sources if s["title"] == "Security handbook")
    assert security["passages"], security  # the other sections read are under the entry
    keys = [security["key"], *(p["key"] for p in security["passages"])]
    assert len(keys) == len(set(keys))
    texts = " ".join([security["text"], *(p["text"] for p in security["passages"])])
    assert "Rotate key" in texts and "14 characters" in texts
    ranks = [p["rank"] for p in security["passages"]]
    assert ranks == sorted(ranks)  # best first
    best = answer.candidates[0]
    assert answer.sources[best["source_index"]]["doc_id"] == best["doc_id"]
    shown = answer.sources[best["source_index"]]
    assert shown["text"][shown["start"] : shown["end"]] == answer.answer
    for cand in answer.candidates:  # each answer's passage is found under its document
        entry = answer.sources[cand["source_index"]]
        read = next(p for p in [entry, *entry["passages"]] if p["key"] == cand["key"])
        assert read["text"][cand["start"] : cand["end"]] == cand["answer"]


def test_a_document_that_bears_not_on_the_question_is_not_listed(handbook: Path, engine: QAEngine):
    answer = engine.ask("How many vacation days do I get?", k=10)  # every chunk is read

    assert answer.sources[0]["title"] == "Leave policy"
    listed = {s["title"] for s in answer.sources}
    assert "Cafeteria" not in listed, listed


def test_a_refused_question_still_shows_the_closest_source(handbook: Path, engine: QAEngine):
    answer = engine.ask("What is the capital of France?", k=10)

    assert answer.answer is None
    assert len(answer.sources) >= 1


@pytest.mark.parametrize(
    "question",
    [
        "How many requests per minute may a workspace send?",
        "How long is a pagination cursor valid?",
        "How are webhook deliveries retried?",
    ],
)
def test_an_md_and_html_copy_with_slightly_different_text_are_listed_once_with_also_in(
    tmp_path: Path, pipeline: IngestPipeline, engine: QAEngine, question: str
):
    report = pipeline.run([api_reference(tmp_path / "docs")])
    assert report.near_copies == 1, report.summary()  # the second of the two

    answer = engine.ask(question, k=8)  # both copies' sections are read
    paths = [s["path"] for s in answer.sources]
    assert len({"api.md", "api.html"} & set(paths)) == 1, paths
    first = answer.sources[0]
    homes = {first["path"], *(a["path"] for a in first["also_in"])}
    assert {"api.md", "api.html"} <= homes, first


PARTS = {
    "keys": ("Rotating keys", SECTIONS["Authentication"]),
    "limits": ("Rate limits", SECTIONS["Rate limits"]),
    "hooks": ("Webhooks", SECTIONS["Webhooks"]),
}


def test_an_all_in_one_page_and_its_parts_are_listed_once(
    tmp_path: Path, pipeline: IngestPipeline, engine: QAEngine
):
    folder = tmp_path / "docs"
    folder.mkdir()
    every = ""
    for name, (title, body) in PARTS.items():
        (folder / f"{name}.md").write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
        every += f"<h2>{title}</h2><p>{body.replace('answered', 'replied to')}</p>"
    (folder / "all.html").write_text(
        f"<html><head><title>Everything</title></head><body><h1>All</h1>{every}</body></html>",
        encoding="utf-8",
    )
    report = pipeline.run([folder])
    assert report.near_copies == 3, report.summary()  # each part, inside the one page

    answer = engine.ask("What status answers a request with a revoked key?", k=8)
    paths = [s["path"] for s in answer.sources]
    assert len({"keys.md", "all.html"} & set(paths)) == 1, paths
    first = answer.sources[0]
    assert {first["path"], *(a["path"] for a in first["also_in"])} >= {"keys.md", "all.html"}


def test_qa_source_urls_link_a_file_where_people_read_it(
    tmp_path: Path, pipeline: IngestPipeline, settings: Settings, embedder: Embedder
):
    docs = _handbook(tmp_path / "docs").resolve()
    pipeline.run([docs])
    mapped = settings.with_(
        source_urls=(f"{docs}/=https://wiki.example.com/docs/", f"{docs}/hr=https://hr.example.com")
    )
    engine = QAEngine(mapped, embedder=embedder)

    keys = engine.ask("How do I rotate the API key?")
    assert keys.sources[0]["url"] == "https://wiki.example.com/docs/security.md"
    assert keys.sources[0]["path"] == "security.md"
    leave = engine.ask("How many vacation days do I get?")
    assert leave.sources[0]["url"] == "https://hr.example.com/leave.md"  # the longest wins
    assert leave.candidates[0]["url"] == "https://hr.example.com/leave.md"


def test_no_absolute_path_is_shown_without_a_mapping(
    tmp_path: Path, pipeline: IngestPipeline, engine: QAEngine
):
    docs = _handbook(tmp_path / "docs")
    lone = tmp_path / "elsewhere" / "deploys.md"
    lone.parent.mkdir()
    lone.write_text("# Deploys\n\nDeploys go out every Tuesday at 14:00.\n", encoding="utf-8")
    pipeline.run([docs, lone])
    answers = [
        engine.ask("How many vacation days do I get?", k=10),
        engine.ask("When do deploys go out?", k=10),
        engine.ask("What is the capital of France?", k=10),
    ]

    for answer in answers:
        shown = json.dumps(answer.to_dict())
        assert str(tmp_path.resolve()) not in shown and str(tmp_path) not in shown
    leave = next(s for s in answers[0].sources if s["title"] == "Leave policy")
    assert (leave["path"], leave["url"]) == ("hr/leave.md", "")
    assert answers[1].sources[0]["path"] == "deploys.md"  # a file named alone: its name
