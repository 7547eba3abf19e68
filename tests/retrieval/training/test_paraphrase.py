"""Questions reworded with the packaged encoder's own word neighbours (no other model)."""

from __future__ import annotations

import random

import pytest

from retrieval.embedding.model_files import resolve_model_path
from retrieval.training import trainer
from retrieval.training.generate import Generated
from retrieval.training.paraphrase import Paraphraser


@pytest.fixture(scope="module")
def paraphraser() -> Paraphraser:
    tokenizer, model = trainer.load_base(resolve_model_path("packaged:all-MiniLM-L6-v2"))
    return Paraphraser.from_model(tokenizer, model)


def test_neighbours_are_other_words_of_like_meaning_not_forms_of_the_same(paraphraser) -> None:
    assert "established" in paraphraser.neighbours("founded")
    assert "started" in paraphraser.neighbours("began")
    assert not [w for w in paraphraser.neighbours("founded") if w.startswith("found")]


def test_rewording_swaps_content_words_and_keeps_names_and_function_words(paraphraser) -> None:
    question = "When was the university founded by Father Sorin?"
    changed = paraphraser.rewrite(question, random.Random(0), swap=1.0)
    assert changed.startswith("When was the ") and changed.endswith(" by Father Sorin?")
    assert "founded" not in changed and "university" not in changed
    assert paraphraser.rewrite(question, random.Random(0), swap=0.0) == question


def test_a_reworded_question_never_gives_its_answer_away(paraphraser) -> None:
    from retrieval.training.pipeline import _reworded

    sentence = "The college was established in 1842."
    made = Generated("When was the university founded?", "The college", sentence, "doc")
    for seed in range(20):
        (out,) = _reworded([made], paraphraser, random.Random(seed))
        assert "college" not in out.question.lower()
        assert (out.answer, out.sentence) == (made.answer, sentence)
