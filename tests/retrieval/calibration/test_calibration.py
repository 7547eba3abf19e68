"""Calibrated refusals on the real engine over a small corpus: fitting, storing, using."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import random

import numpy as np
import pytest

from ingest.document import Document
from ingest.pipeline import IngestPipeline
from retrieval.calibration.run import CalibrationFailed, Point, calibrate, fit_reader
from retrieval.calibration.verdicts import PER_USER, verdicts
from retrieval.confidence.calibration_record import (
    LABELS,
    SAMPLE,
    SYNTHETIC,
    CalibrationRecord,
    CorruptCalibration,
    Curve,
    load,
    record_key,
)
from retrieval.confidence.model import auroc, fit
from retrieval.embedding.embedder import Embedder
from retrieval.engine import QAEngine
from retrieval.errors import InvalidQuestion
from retrieval.feedback import FeedbackStore
from retrieval.settings import Settings
from retrieval.training.paraphrase import DEFAULT_BASE, Paraphraser
from retrieval.training.questions import question_about, reworded
from retrieval.types import DocMeta
from tests.corpus import KEY_TEXT, LEAVE_TEXT

TEXTS = {
    "keys": KEY_TEXT,
    "leave": LEAVE_TEXT,
    "dock": "The docking station model QZ-88410 supports two external monitors at 60 Hz. Its "
    "firmware is updated from the IT portal every quarter by the hardware team in Berlin.",
    "coffee": "The coffee machine on the third floor is descaled every Monday morning by the "
    "facilities team. Report a broken coffee machine to facilities through the Helpdesk form.",
    "oncall": "The on-call engineer answers pages within 15 minutes during the weekly rotation. "
    "Escalate an outage to the incident commander after 30 minutes without a fix.",
    "travel": "Book business travel through the Navan portal at least 14 days ahead. Hotels in "
    "Paris and London are reimbursed up to 250 euros per night with receipts.",
    "laptops": "New employees receive a ThinkPad X1 Carbon laptop on their first day. Laptops "
    "are replaced every 36 months, or sooner when the IT desk declares them broken.",
}
OFF_TOPIC = "Which volcano erupted on the island of Krakatoa in 1883 and how loud was it?"
QUESTIONS = 16  # each asked twice: a few seconds


@pytest.fixture()
def corpus(pipeline: IngestPipeline) -> None:
    docs = [Document(DocMeta(doc_id=k, title=k.title(), url=f"https://wiki.example.com/{k}"), t)
            for k, t in TEXTS.items()]  # fmt: skip
    pipeline.ingest(docs)


@pytest.fixture()
def calibrated(engine: QAEngine, corpus: None) -> CalibrationRecord:
    return calibrate(engine, questions=QUESTIONS, seed=1)


def engine_with(settings: Settings, embedder: Embedder, **changes: object) -> QAEngine:
    return QAEngine(settings.with_(**changes), embedder=embedder)


def test_calibration_stores_a_model_whose_confidence_is_in_0_1(
    engine: QAEngine, calibrated: CalibrationRecord
) -> None:
    stored = load(engine.index)
    assert stored is not None and set(stored.readers) == {"sentence"}
    assert stored.questions == QUESTIONS and stored.fingerprint["chunks"] > 0
    answer = engine.ask("How long does the old API key keep working after a rotation?")
    confidence = answer.explanation["confidence"]
    assert (
        confidence["calibrated"] is True
        and "calibrated for the sentence reader" in (confidence["status"])
    )
    assert 0.0 <= answer.score <= 1.0 and answer.score == confidence["value"]
    assert answer.answer is not None and "24 hours" in answer.answer


def test_the_calibrated_threshold_moves_when_the_target_moves(
    settings: Settings, embedder: Embedder, calibrated: CalibrationRecord
) -> None:
    # Known confidences: the index's own questions are easy (0.5..1), people's harder (0.2..1).
    cal = dataclasses.replace(calibrated.readers["sentence"], curves={
        SYNTHETIC: Curve(tuple(np.linspace(0.5, 1.0, 50)), tuple(np.linspace(0.0, 0.6, 50))),
        SAMPLE: Curve(tuple(np.linspace(0.2, 1.0, 50)), tuple(np.linspace(0.0, 0.4, 50))),
    })  # fmt: skip
    chosen = [cal.threshold_for(t) for t in (0.0, 0.1, 0.3, 0.9)]
    assert chosen == sorted(set(chosen)), "a looser target, a higher threshold"
    for target, threshold in zip((0.0, 0.1, 0.3, 0.9), chosen, strict=True):
        for kind in (SYNTHETIC, SAMPLE):  # the promise holds on both kinds of questions...
            assert cal.refused(threshold, kind)[0] <= target
        assert cal.refused(threshold, SAMPLE)[0] > target - 0.03  # ...spent on the harder one
    # The engine reads the threshold for its settings' target off the stored record.
    thresholds = []
    for target in (0.05, 0.5):
        answer = engine_with(settings, embedder, refusal_target=target).ask("Who descales it?")
        thresholds.append(answer.explanation["confidence"]["threshold"])
        assert answer.explanation["confidence"]["refusal_target"] == target
    stored = calibrated.readers["sentence"]
    assert thresholds == [round(stored.threshold_for(t), 4) for t in (0.05, 0.5)]
    assert thresholds[0] <= thresholds[1]


def test_an_uncalibrated_index_keeps_todays_rule_and_says_so(
    engine: QAEngine, corpus: None
) -> None:
    answer = engine.ask("How many days of paid leave do employees get?")
    assert answer.answer is not None and "25 days" in answer.answer
    assert answer.score == answer.explanation["reader"]["best_score"]
    confidence = answer.explanation["confidence"]
    assert confidence["calibrated"] is False and "run `qa calibrate`" in confidence["status"]
    refused = engine.ask(OFF_TOPIC)
    assert refused.answer is None and refused.reason in ("retrieval_too_weak", "reader_abstained")


def test_a_corrupt_calibration_record_is_reported_and_ignored(
    engine: QAEngine, calibrated: CalibrationRecord, caplog: pytest.LogCaptureFixture
) -> None:
    engine.index.client.set(record_key(engine.index), '{"version": 1, "readers": {"sentence"')
    engine.calibration.refresh()
    with caplog.at_level(logging.ERROR, logger="qa.calibration"):
        answer = engine.ask("How many days of paid leave do employees get?")
    assert answer.answer is not None and answer.score == answer.explanation["reader"]["best_score"]
    assert "unreadable" in answer.explanation["confidence"]["status"]
    assert answer.explanation["confidence"]["calibrated"] is False
    assert any("unreadable" in r.getMessage() for r in caplog.records)
    with pytest.raises(CorruptCalibration, match="run `qa calibrate` again"):
        load(engine.index)


def test_a_record_from_an_older_release_is_ignored_with_a_log_line(
    engine: QAEngine, calibrated: CalibrationRecord, caplog: pytest.LogCaptureFixture
) -> None:
    old = json.loads(calibrated.to_json()) | {"version": 1}
    engine.index.client.set(record_key(engine.index), json.dumps(old))
    engine.calibration.refresh()
    with caplog.at_level(logging.ERROR, logger="qa.calibration"):
        answer = engine.ask("How many days of paid leave do employees get?")
    assert answer.explanation["confidence"]["calibrated"] is False
    assert "another release" in answer.explanation["confidence"]["status"]
    assert any("another release" in r.getMessage() for r in caplog.records)


def test_a_calibration_fitted_on_another_model_is_stale_and_ignored_with_a_log_line(
    engine: QAEngine, calibrated: CalibrationRecord, caplog: pytest.LogCaptureFixture
) -> None:
    cal = dataclasses.replace(calibrated.readers["sentence"], reader_version="retrained-abc")
    stale = dataclasses.replace(calibrated, readers={"sentence": cal})
    engine.index.client.set(record_key(engine.index), stale.to_json())
    engine.calibration.refresh()
    with caplog.at_level(logging.WARNING, logger="qa.calibration"):
        answer = engine.ask("How many days of paid leave do employees get?")
        engine.ask("How many days of paid leave do employees get?")
    confidence = answer.explanation["confidence"]
    assert confidence["calibrated"] is False and "retrained-abc" in confidence["status"]
    assert "coverage" in confidence  # the uncalibrated rule answers instead
    logged = [r for r in caplog.records if "retrained-abc" in r.getMessage()]
    assert len(logged) == 1, "said once, not on every question"


def test_an_index_of_three_documents_is_too_small_to_promise_anything(
    engine: QAEngine, pipeline: IngestPipeline
) -> None:
    pipeline.ingest([Document(DocMeta(doc_id=k, title=k.title()), TEXTS[k])
                     for k in ("keys", "leave", "dock")])  # fmt: skip
    with pytest.raises(CalibrationFailed, match="holds 3 documents: too few to promise"):
        calibrate(engine, questions=QUESTIONS, seed=1)
    assert load(engine.index) is None
    answer = engine.ask("Which volcano erupted on Krakatoa?")
    assert answer.answer is None and "coverage" in answer.explanation["confidence"]


def _vote(store: FeedbackStore, question: str, vote: str, user: str, answer: str | None) -> None:
    store.record(question=question, answer=answer, sources=[], vote=vote, user=user)


def test_a_flood_of_thumbs_down_from_one_user_cannot_move_the_threshold(
    engine: QAEngine, calibrated: CalibrationRecord
) -> None:
    store = FeedbackStore(engine.index.client, engine.settings.key_prefix)
    for i in range(100):
        _vote(store, f"Who descales the coffee machine, really {i}?", "down", "mallory", "x")
    found = verdicts(store.export())
    assert len(found) == PER_USER and not any(v.answerable for v in found)
    again = calibrate(engine, questions=QUESTIONS, seed=1, labels=found)
    assert LABELS not in again.readers["sentence"].curves
    assert again.readers["sentence"].threshold_for(0.1) == (
        calibrated.readers["sentence"].threshold_for(0.1)
    )


def test_enough_users_verdicts_join_the_calibration_and_their_curve_sets_the_threshold(
    engine: QAEngine, corpus: None
) -> None:
    store = FeedbackStore(engine.index.client, engine.settings.key_prefix)
    asked = ["How long does the old API key keep working?", "How many monitors does it drive?",
             "Who descales the coffee machine?", "When are laptops replaced?"]  # fmt: skip
    for n in range(40):  # 8 people, 5 verdicts each: 4 answers they liked, 1 they did not
        _vote(store, asked[n % 4], "down" if n % 5 == 4 else "up", f"user{n % 8}", "an answer")
    found = verdicts(store.export())
    assert len(found) == 40 and sum(v.answerable for v in found) == 32
    record = calibrate(engine, questions=QUESTIONS, seed=1, labels=found)
    cal = record.readers["sentence"]
    assert len(cal.curves[LABELS].answerable) == 32 and LABELS in cal.trusted()
    assert cal.threshold_for(0.1) <= cal.curves[LABELS].quota(0.1)


def test_a_verdict_whose_question_can_no_longer_be_asked_is_left_out_not_fatal(
    engine: QAEngine, corpus: None
) -> None:
    store = FeedbackStore(engine.index.client, engine.settings.key_prefix)
    for n in range(40):
        _vote(store, "When are laptops replaced?", "up", f"user{n % 8}", "every 36 months")
    too_long = "Why? " * (engine.settings.max_question_chars // 5 + 1)  # a capture's whole thread
    _vote(store, too_long, "capture", "user9", None)
    found = verdicts(store.export())
    assert len(found) == 41 and any(len(v.question) > engine.settings.max_question_chars
                                    for v in found)  # fmt: skip
    record = calibrate(engine, questions=QUESTIONS, seed=1, labels=found)
    assert len(record.readers["sentence"].curves[LABELS].answerable) == 40


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(version=99),
        lambda d: d["readers"]["sentence"]["model"].update(intercept=math.nan),
        lambda d: d["readers"]["sentence"]["model"]["coef"].pop(),
        lambda d: d["readers"]["sentence"]["curves"]["synthetic"].update(answerable=[2.0]),
        lambda d: d["readers"]["sentence"]["curves"].pop("synthetic"),
        lambda d: d.update(readers={}),
        lambda d: d.update(target="lots"),
        lambda d: d.pop("fingerprint"),
    ],
)
def test_a_record_that_does_not_make_sense_is_corrupt_not_guessed(mutate) -> None:
    points = [Point({"a": float(i), "b": float(i % 3)}, i >= 10) for i in range(20)]
    record = CalibrationRecord({"sentence": fit_reader({SYNTHETIC: points}, 0)}, 0.1, 10, 1.0, {})
    data = json.loads(record.to_json())
    assert CalibrationRecord.from_json(record.to_json()).readers["sentence"].auroc > 0.9
    mutate(data)
    with pytest.raises(CorruptCalibration):
        CalibrationRecord.from_json(json.dumps(data))


def test_a_refusal_returns_the_closest_sources_and_says_the_documents_do_not_cover_it(
    engine: QAEngine, calibrated: CalibrationRecord
) -> None:
    answer = engine.ask("When was the coffee machine bought?", min_confidence=0.999)
    assert answer.answer is None and answer.reason == "low_confidence"
    assert answer.explanation["reason"] == "the documents don't seem to cover this question"
    assert answer.sources and answer.sources[0]["doc_id"] == "coffee"
    assert answer.explanation["confidence"]["threshold"] == 0.999
    assert answer.explanation["confidence"]["value"] < 0.999


def test_min_confidence_per_request_overrides_the_calibrated_threshold(
    engine: QAEngine, calibrated: CalibrationRecord
) -> None:
    question = "How many external monitors does the docking station support?"
    assert engine.ask(question, min_confidence=0.0).answer is not None
    assert engine.ask(question, min_confidence=1.0).reason == "low_confidence"
    with pytest.raises(InvalidQuestion, match="between 0 and 1"):
        engine.ask(question, min_confidence=1.5)


def test_min_confidence_on_an_uncalibrated_index_applies_to_the_readers_score(
    engine: QAEngine, corpus: None
) -> None:
    question = "How many external monitors does the docking station support?"
    plain = engine.ask(question)
    assert plain.answer is not None
    refused = engine.ask(question, min_confidence=min(1.0, plain.score + 0.01))
    assert refused.answer is None and refused.reason == "low_confidence"


def test_a_running_engine_picks_up_a_new_calibration_without_a_restart(
    settings: Settings, embedder: Embedder, engine: QAEngine, corpus: None
) -> None:
    running = engine_with(settings, embedder)
    running.calibration.record.refresh_s = 0.0  # the default re-reads every 10 s
    assert running.ask("Who descales it?").explanation["confidence"]["calibrated"] is False
    calibrate(engine, questions=QUESTIONS, seed=2)
    assert running.ask("Who descales it?").explanation["confidence"]["calibrated"] is True
    engine.index.client.set(engine.index.schema.rerank_key, "{}")  # as `qa train` leaves it
    engine.index.drop()  # dropping the index drops what was fitted on it too
    assert engine.index.client.get(record_key(engine.index)) is None
    assert engine.index.client.get(engine.index.schema.rerank_key) is None


def test_excluding_a_document_makes_its_question_unanswerable_from_it(
    engine: QAEngine, corpus: None
) -> None:
    question = "Which laptop do new employees receive?"
    assert engine.ask(question).sources[0]["doc_id"] == "laptops"
    without = engine.ask(question, filters={"not_doc_id": "laptops"})
    assert all(s["doc_id"] != "laptops" for s in without.sources)


def test_synthetic_questions_ask_for_a_verbatim_answer_they_do_not_contain() -> None:
    rng = random.Random(0)
    made = [question_about("dock", TEXTS["dock"], rng) for _ in range(20)]
    assert all(q is not None and q.doc_id == "dock" for q in made)
    made = reworded([q for q in made if q is not None], Paraphraser.from_base(DEFAULT_BASE), rng)
    for q in made:
        assert q.text.endswith("?") and q.answer and q.answer in TEXTS["dock"]
        assert q.answer.lower() not in q.text.lower(), q
    assert len({q.answer for q in made}) >= 3, "the answers vary over the text's facts"
    assert question_about("x", "Too short. Also short.", rng) is None


def test_logistic_fit_separates_what_is_separable_and_auroc_counts_ties_half() -> None:
    rows = [{"signal": float(i), "noise": float(i % 2)} for i in range(40)]
    labels = [int(i >= 20) for i in range(40)]
    model = fit(rows, labels)
    assert model.predict({"signal": 35.0, "noise": 0.0}) > 0.9
    assert model.predict({"signal": 5.0, "noise": 1.0}) < 0.1
    assert model.predict({}) == pytest.approx(1 / (1 + math.exp(-model.intercept)))
    assert auroc([1.0, 2.0], [0.0, 0.5]) == 1.0 and auroc([1.0], [1.0]) == 0.5
