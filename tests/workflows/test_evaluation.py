from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from bot.cli import cli
from ingest.document import Document
from ingest.pipeline import IngestPipeline
from retrieval.embedding.embedder import Embedder
from retrieval.engine import QAEngine
from retrieval.settings import Settings
from retrieval.training.squad import load_squad, locate
from retrieval.types import DocMeta
from workflows.evaluation import EVAL_PREFIX, evaluate

CONTEXTS = [
    (
        "Office",
        "The espresso machine is on the third floor next to the library. "
        "The facilities team descales the espresso machine every Friday morning.",
    ),
    (
        "Releases",
        "Deployments to production happen on Tuesdays and Thursdays. "
        "The release manager approves every production deployment after the staging tests pass.",
    ),
    (
        "Onboarding",
        "New employees receive their laptop on the first day. "
        "The IT helpdesk answers the phone at extension 4357.",
    ),
]
QUESTIONS = [  # (context, question, answer)
    (0, "Where is the espresso machine?", "on the third floor next to the library"),
    (0, "When does the facilities team descale the espresso machine?", "every Friday morning"),
    (1, "Who approves every production deployment?", "The release manager"),
    (1, "On which days do deployments to production happen?", "Tuesdays and Thursdays"),
    (2, "What extension does the IT helpdesk answer at?", "4357"),
]


@pytest.fixture()
def squad_file(tmp_path: Path) -> Path:
    data = []
    for c, (title, context) in enumerate(CONTEXTS):
        qas = [
            {
                "id": f"q{n}",
                "question": question,
                "answers": [{"text": answer, "answer_start": context.index(answer)}],
                "is_impossible": False,
            }
            for n, (qc, question, answer) in enumerate(QUESTIONS)
            if qc == c
        ]
        data.append({"title": title, "paragraphs": [{"context": context, "qas": qas}]})
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps({"version": "v2.0", "data": data}), encoding="utf-8")
    return path


@pytest.fixture()
def engine(settings: Settings, embedder: Embedder) -> QAEngine:
    qa = QAEngine(settings, embedder=embedder)
    return qa


def _eval_indexes(client: redis.Redis) -> set[str]:
    names = {n.decode() if isinstance(n, bytes) else n for n in client.execute_command("FT._LIST")}
    return {n for n in names if n.startswith(EVAL_PREFIX)}


def _eval_keys(client: redis.Redis) -> list[bytes]:
    return list(client.scan_iter(match=f"{EVAL_PREFIX}*"))


def test_easy_questions_are_retrieved_first_and_answered(
    squad_file: Path, settings: Settings, engine: QAEngine
) -> None:
    report = evaluate(squad_file, settings, k=3, reader="sentence", engine=engine)

    assert (report.documents, report.questions, report.answerable) == (3, 5, 5)
    assert report.chunks == 3
    assert report.hit_at == {1: 1.0, 5: 1.0, 10: 1.0}
    assert report.containment == 1.0
    assert report.reader == "sentence"
    assert report.mode == "hybrid"
    assert 0.0 <= report.exact_match <= report.f1 <= 1.0
    assert report.abstention == 0.0
    assert report.mean_answer_words is not None and report.mean_answer_words <= 15
    assert set(report.latency_ms) == {"ask", "embed", "retrieve", "read", "retrieval_only"}
    assert all(p["p50"] is not None and p["p50"] <= p["p95"] for p in report.latency_ms.values())


def test_temporary_index_is_dropped_afterwards(
    squad_file: Path, settings: Settings, engine: QAEngine, redis_client: redis.Redis
) -> None:
    report = evaluate(squad_file, settings, reader="sentence", limit=2, engine=engine)

    assert report.index.startswith(EVAL_PREFIX)
    assert report.questions == 2
    assert _eval_indexes(redis_client) == set()
    assert _eval_keys(redis_client) == []


def test_engines_own_index_is_left_alone(
    squad_file: Path, settings: Settings, engine: QAEngine, pipeline: IngestPipeline
) -> None:
    doc = Document(DocMeta(doc_id="own", title="Own"), "Our own document stays where it is.")
    pipeline.ingest([doc])
    before = engine.index.count_chunks()

    evaluate(squad_file, settings, reader="sentence", limit=1, engine=engine)

    assert engine.index.exists() and engine.index.count_chunks() == before == 1
    assert engine.index.stored("own") is not None


def test_temporary_index_is_dropped_when_interrupted(
    squad_file: Path, settings: Settings, engine: QAEngine, redis_client: redis.Redis
) -> None:
    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate(squad_file, settings, reader="sentence", engine=engine, progress=interrupt)

    assert _eval_indexes(redis_client) == set()
    assert _eval_keys(redis_client) == []


def test_kept_index_stays_for_inspection(
    squad_file: Path, settings: Settings, engine: QAEngine, redis_client: redis.Redis
) -> None:
    report = evaluate(squad_file, settings, reader="sentence", limit=1, engine=engine,
                      keep_index=True)  # fmt: skip
    try:
        assert _eval_indexes(redis_client) == {report.index}
    finally:
        QAEngine(settings.with_(index_name=report.index, key_prefix=report.index)).index.drop()


def test_progress_is_reported_per_question(
    squad_file: Path, settings: Settings, engine: QAEngine
) -> None:
    seen: list[tuple[int, int]] = []
    evaluate(squad_file, settings, reader="sentence", engine=engine,
             progress=lambda done, total: seen.append((done, total)))  # fmt: skip

    assert seen == [(n, 5) for n in range(1, 6)]


def test_misanchored_gold_answer_is_found_near_its_offset() -> None:
    context = "Alpha beta. Gamma delta epsilon. Gamma again."
    at = context.index("Gamma delta")

    assert locate(context, " Gamma delta", at) == locate(context, "Gamma delta", at)
    gold = locate(context, "Gamma delta", at + 2)
    assert (gold.text, gold.start, gold.end) == ("Gamma delta", at, at + len("Gamma delta"))
    assert context[gold.start : gold.end] == gold.text


def test_unanswerable_questions_are_marked(tmp_path: Path) -> None:
    path = tmp_path / "v2.json"
    qas = [
        {"question": "Who?", "answers": [], "is_impossible": True},
        {"question": "What?", "answers": [{"text": "x", "answer_start": 0}]},
    ]
    path.write_text(json.dumps({"data": [{"paragraphs": [{"context": "x y", "qas": qas}]}]}))

    squad = load_squad(path)

    assert [q.impossible for q in squad.questions] == [True, False]
    assert squad.contexts[0].title == ""


def test_cli_prints_the_report_as_json(
    squad_file: Path, settings: Settings, redis_client: redis.Redis
) -> None:
    result = CliRunner().invoke(
        cli,
        ["eval", str(squad_file), "--json", "--reader", "sentence", "--k", "3", "--limit", "3"],
        env={"REDIS_URL": settings.redis_url, "HF_HUB_OFFLINE": "1"},
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["questions"] == 3
    assert report["hit_at"] == {"hit@1": 1.0, "hit@5": 1.0, "hit@10": 1.0}
    assert report["reader"] == "sentence"
    assert _eval_indexes(redis_client) == set()


def test_cli_rejects_a_file_that_is_not_squad(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "not-squad.json"
    path.write_text('{"rows": []}')

    result = CliRunner().invoke(cli, ["eval", str(path)], env={"REDIS_URL": settings.redis_url})

    assert result.exit_code == 1
    assert "not a readable SQuAD-format JSON file" in result.output
