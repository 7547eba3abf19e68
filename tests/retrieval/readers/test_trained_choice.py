"""How the trained reader picks its answer among the model's near-best spans."""

from __future__ import annotations

import pytest

from retrieval.readers.headings import is_heading
from retrieval.readers.passages import Passage
from retrieval.readers.span_decoding import Decoded, GroupReading
from retrieval.readers.trained import _pairwise_f1, rank_answers
from retrieval.text import normalize_answer
from retrieval.training.metrics import f1
from retrieval.types import Hit


def _reading(
    text: str, *spans: tuple[int, int, float], prior: float = 1.0
) -> tuple[list[Passage], GroupReading]:
    hit = Hit(key="k", doc_id="d", text=text, score=1.0, title="Tower")
    chosen = [Passage(hit, 0, len(text), prior)]
    found = [Decoded(0, a, b, score) for a, b, score in spans]
    return chosen, GroupReading(found, null=0.0, log_z=10.0)


TEXT = "The tower was completed on 31 March 1889 by a company."


def test_a_confident_model_gets_its_best_span() -> None:
    chosen, read = _reading(TEXT, (27, 40, 9.0), (36, 40, 2.0), (0, 9, 1.0))
    assert rank_answers(chosen, read, 0.0)[0].text == "31 March 1889"


def test_a_hesitant_model_gets_the_span_its_guesses_share() -> None:
    # "March 1889" and "31 March" nearly tie: the span covering both is expected to score best
    chosen, read = _reading(TEXT, (30, 40, 5.0), (27, 35, 5.0), (27, 40, 4.5), (0, 9, 1.0))
    assert rank_answers(chosen, read, 0.0)[0].text == "31 March 1889"


def test_the_passages_retrieval_prior_weighs_in_by_the_fitted_weight() -> None:
    other = Hit(key="o", doc_id="o", text="The bridge was completed in 1932.", score=1.0)
    chosen, read = _reading(TEXT, (36, 40, 5.0), prior=0.1)
    chosen.append(Passage(other, 0, len(other.text), 0.9))
    read = GroupReading([*read.spans, Decoded(1, 28, 32, 4.0)], 0.0, 10.0)
    assert rank_answers(chosen, read, 0.0)[0].text == "1889"
    assert rank_answers(chosen, read, 10.0)[0].text == "1932"


def test_a_heading_or_title_line_is_never_the_answer() -> None:
    text = "Tower\nThe tower was completed in 1889."
    year = text.index("1889")
    chosen, read = _reading(text, (0, 5, 6.0), (year, year + 4, 2.0))
    assert [s.text for s in rank_answers(chosen, read, 0.0)] == ["1889"]


def test_list_items_and_sentences_are_not_headings_but_titles_and_signatures_are() -> None:
    text = "Parental leave\n- 16 weeks paid\nrotate_key(name)\nLeave lasts 16 weeks."
    hit = Hit(key="k", doc_id="d", text=text, score=1.0, title="Leave policy")

    def line(words: str) -> bool:
        a = text.index(words)
        return is_heading(hit, a, a + len(words))

    assert line("Parental leave") and line("rotate_key(name)")
    assert not line("- 16 weeks paid") and not line("Leave lasts 16 weeks.")
    assert not line("16 weeks")  # part of a line is not the whole line


def test_the_expected_f1_weighs_answers_by_squads_own_f1() -> None:
    answers = ["31 March 1889", "March 1889", "the tower", "tower tower was", ""]
    matrix = _pairwise_f1([normalize_answer(a).split() for a in answers])
    for i, a in enumerate(answers):
        for j, b in enumerate(answers):
            expected = f1(a, b) if a and b else 0.0
            assert matrix[i, j] == pytest.approx(expected)
