"""The question generator's invariants: verbatim answers, no answer in its question, real no's."""

from __future__ import annotations

import random

import pytest

from retrieval.training.candidates import candidates
from retrieval.training.examples import corpus_sentences, split_held_out, synthesize
from retrieval.training.questions import make_question
from tests.corpus import KEY_TEXT, LEAVE_TEXT

ARTICLES = [
    (
        "normans",
        "The Normans were the people who in the 10th and 11th centuries gave their name to "
        "Normandy, a region in France. They were descended from Norse raiders and pirates from "
        "Denmark, Iceland and Norway who, under their leader Rollo, agreed to swear fealty to "
        "King Charles III of West Francia. The Norman dynasty had a major political impact on "
        "medieval Europe. In 1066 the Normans under William the Conqueror invaded England.",
    ),
    (
        "amazon",
        "The Amazon River in South America is the largest river by discharge volume of water in "
        "the world. It flows for about 6,400 km and drains an area of 7,000,000 square "
        "kilometres. About 20% of the world's river discharge comes from the Amazon. The first "
        "European to travel the length of the Amazon was Francisco de Orellana in 1542.",
    ),
    (
        "tower",
        "Construction of the Eiffel Tower began in January 1887 and was completed on 31 March "
        "1889. The tower was designed by the engineering company of Gustave Eiffel. It is 330 "
        "metres tall and was the tallest structure in the world until 1930. About 7 million "
        "people visit the tower every year, and 75% of them come from abroad.",
    ),
    ("keys", KEY_TEXT),
    ("leave", LEAVE_TEXT),
    ("config", "The maxBuffer option sets the largest output allowed. Default: `1024 * 1024`."),
]


def _examples(seed: int = 0):
    return synthesize(corpus_sentences(ARTICLES * 2), seed, limit=10_000)


def test_every_answer_is_verbatim_in_its_context_at_the_stated_offset() -> None:
    answerable = [e for e in _examples() if e.answer_start >= 0]
    assert len(answerable) >= 20
    for e in answerable:
        assert e.context[e.answer_start : e.answer_start + len(e.answer)] == e.answer


def test_no_question_contains_its_answer() -> None:
    for e in _examples():
        if e.answer:
            assert e.answer.lower() not in e.question.lower(), e


def test_unanswerable_contexts_lack_the_answer_of_their_question() -> None:
    checked = 0
    for seed in range(4):
        examples = _examples(seed)
        answers = {e.question: e.answer for e in examples if e.answer}
        for e in examples:
            if e.answer_start < 0:
                assert e.answer == ""
                assert answers[e.question].lower() not in e.context.lower()
                checked += 1
    assert checked


def test_candidates_cover_numbers_dates_percentages_names_and_defaults() -> None:
    sentence = "In March 1889 about 45% of the 12,000 visitors met Gustave Eiffel; Default: `1024`."
    found = {c.kind: sentence[c.start : c.end] for c in candidates(sentence)}
    assert found["date"] == "March 1889"
    assert found["percent"] == "45%"
    assert found["count"] == "12,000"
    assert found["person"] == "Gustave Eiffel"
    assert found["default"] == "1024"


def test_candidates_include_common_noun_phrases_with_a_trustworthy_boundary() -> None:
    def phrases(sentence: str) -> list[str]:
        return [sentence[c.start : c.end] for c in candidates(sentence) if c.kind == "phrase"]

    assert "pancreas" in phrases("Insulin is produced by the pancreas after a meal.")
    assert phrases("All repairs were carried out by volunteers.") == ["volunteers"]
    assert "Limestone erosion" in phrases("Limestone erosion is the main cause of caves here.")
    assert "coastal sediment" in phrases("Amber was first found in coastal sediment.")
    # four content words in a row: where the phrase ends is a guess, so it is no candidate
    assert not phrases("It lives in large grey mountain forests.")


def test_questions_start_with_the_answer_types_question_word() -> None:
    sentence = "The tower was designed by the engineering company of Gustave Eiffel in 1887."
    by_kind = {c.kind: c for c in candidates(sentence)}
    rng = random.Random(0)
    who = make_question(sentence, by_kind["person"], rng)
    when = make_question(sentence, by_kind["date"], rng)
    assert who is not None and who.split()[0] in ("Who", "Which")
    assert when is not None and when.split()[0] in ("When", "What", "In")


def test_held_out_examples_come_from_documents_kept_out_of_training() -> None:
    docs = [
        (f"doc{n}", f"Bridge number {n} was built by Alan Smith{n} in {1800 + n}. It is {n} metres "
         f"long and {n + 7} percent of its cost came from Vienna{n}.")
        for n in range(200)
    ]  # fmt: skip
    sentences = corpus_sentences(docs)
    train, held = split_held_out(synthesize(sentences, 0, 100_000))
    assert held and train
    assert not {e.group for e in train} & {e.group for e in held}


def test_labelled_squad_answers_keep_their_offsets_inside_a_short_window(tmp_path) -> None:
    import json

    from retrieval.training.examples import WINDOW_CHARS, squad_examples

    context = " ".join(text for _, text in ARTICLES[:3])
    answer = "Gustave Eiffel"
    data = {"data": [{"paragraphs": [{"context": context, "qas": [
        {"question": "Who designed the tower?", "answers": [
            {"text": answer, "answer_start": context.index(answer)}]},
        {"question": "Who built the moon?", "answers": [], "is_impossible": True},
    ]}]}]}  # fmt: skip
    path = tmp_path / "team.json"
    path.write_text(json.dumps(data))
    labelled, unanswerable = squad_examples(path)
    assert len(labelled.context) <= WINDOW_CHARS < len(context)
    assert labelled.context[labelled.answer_start :].startswith(answer)
    assert unanswerable.answer_start == -1


def test_a_file_that_is_not_squad_is_a_clear_error_not_a_crash(tmp_path) -> None:
    from retrieval.errors import ConfigError
    from retrieval.training.examples import squad_examples

    path = tmp_path / "notes.json"
    path.write_text('{"rows": [1, 2]}', encoding="utf-8")
    with pytest.raises(ConfigError, match="SQuAD"):
        squad_examples(path)


def test_questions_take_a_questions_order_without_the_word_that_pointed_at_the_answer() -> None:
    sentence = "The tower was completed in 1889."
    date = next(c for c in candidates(sentence) if c.kind == "date")
    asked = {make_question(sentence, date, random.Random(seed)) for seed in range(60)}
    assert "When was the tower completed?" in asked
    assert not [q for q in asked if q and q.endswith(" in?")]
