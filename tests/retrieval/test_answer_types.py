"""The kind of answer a question asks for steers the trained reader among its near-best spans."""

from __future__ import annotations

from retrieval.readers.answer_types import asked_kind, fits
from retrieval.readers.spans import Decoded
from retrieval.readers.trained import KIND_SLACK, _of_kind


def test_the_question_form_names_the_kind_of_answer() -> None:
    assert asked_kind("When was the tower completed?") == "date"
    assert asked_kind("In what year did the war end?") == "date"
    assert asked_kind("How many students does the university have?") == "number"
    assert asked_kind("What percentage of people speak Spanish?") == "percent"
    assert asked_kind("Who designed the tower?") == "name"
    assert asked_kind("What is the default maxBuffer?") is None
    assert asked_kind("What happens when the key is rotated?") is None  # "when" inside


def test_a_span_fits_a_kind_only_when_it_could_answer_it() -> None:
    assert fits("date", "31 March 1889") and fits("date", "the 10th century")
    assert not fits("date", "the engineering company")
    assert fits("number", "about twelve thousand") and not fits("number", "many students")
    assert fits("name", "Gustave Eiffel") and not fits("name", "an engineer")
    assert fits(None, "anything at all")


def test_a_near_best_span_of_the_asked_kind_wins_and_none_of_it_means_no_span() -> None:
    window = "The tower was completed in 1889 by a company."
    tower, year = Decoded(0, 9, 5.0), Decoded(27, 31, 4.0)
    assert _of_kind("date", window, [tower, year]) == year
    far = Decoded(27, 31, 5.0 - KIND_SLACK - 0.5)
    # "When ...?" answered by "The tower": no span to trust, the reader keeps the sentence
    assert _of_kind("date", window, [tower, far]) is None
    assert _of_kind(None, window, [tower, year]) == tower
