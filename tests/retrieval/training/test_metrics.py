from __future__ import annotations

import pytest

from retrieval.text import normalize_answer
from retrieval.training.metrics import best_over, contains, exact_match, f1, percentile


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Cat", "cat"),
        ("a dog, an apple and the end.", "dog apple and end"),
        ("  lots   of\twhite\nspace ", "lots of white space"),
        ("Theatre and another anthem", "theatre and another anthem"),  # articles as words only
        ("U.S.A.", "usa"),
        ("(MTCT) is-the cause!", "mtct isthe cause"),  # punctuation goes before articles
        ("", ""),
        ("A", ""),
        ("Naïve Café", "naïve café"),
    ],
)
def test_normalize_follows_squad(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


@pytest.mark.parametrize(
    ("prediction", "gold", "expected"),
    [
        ("The Eiffel Tower", "eiffel tower", 1.0),
        ("Eiffel Tower.", "the Eiffel tower", 1.0),
        ("Eiffel", "Eiffel Tower", 0.0),
        ("", "", 1.0),
    ],
)
def test_exact_match_compares_normalised_text(prediction: str, gold: str, expected: float) -> None:
    assert exact_match(prediction, gold) == expected


@pytest.mark.parametrize(
    ("prediction", "gold", "expected"),
    [
        ("the cat sat", "cat sat", 1.0),
        ("cat", "cat sat", 2 * 1.0 * 0.5 / 1.5),
        ("cat sat on the mat", "cat sat", 2 * 0.5 * 1.0 / 1.5),
        ("dog", "cat", 0.0),
        ("", "cat", 0.0),
        ("the", "", 1.0),  # both empty after normalisation
        ("cat cat", "cat", 2 * 0.5 * 1.0 / 1.5),  # repeated tokens count once per match
    ],
)
def test_f1_is_token_overlap(prediction: str, gold: str, expected: float) -> None:
    assert f1(prediction, gold) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("prediction", "gold", "expected"),
    [
        ("It opened in 1889, in Paris.", "1889", 1.0),
        ("Mother-to-child transmission (MTCT) is the main cause.", "mother-to-child", 1.0),
        ("It costs 15 dollars.", "5", 0.0),  # whole words only
        ("Paris", "in Paris, France", 0.0),
        ("anything", "the", 0.0),  # an empty gold answer is never contained
        ("", "Paris", 0.0),
    ],
)
def test_contains_finds_gold_answer_as_whole_words(
    prediction: str, gold: str, expected: float
) -> None:
    assert contains(prediction, gold) == expected


def test_best_over_takes_the_closest_gold_answer() -> None:
    assert best_over(exact_match, "Paris", ["London", "paris."]) == 1.0
    assert best_over(f1, "cat", ["dog", "cat sat"]) == pytest.approx(2 / 3)
    assert best_over(f1, "cat", []) == 0.0


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 50, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([4.0, 1.0, 3.0, 2.0], 0, 1.0),
        ([4.0, 1.0, 3.0, 2.0], 100, 4.0),
        (list(range(1, 101)), 95, 95.05),
        ([10.0, 20.0], 95, 19.5),
    ],
)
def test_percentile_interpolates_like_numpy(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


@pytest.mark.parametrize(("values", "q"), [([], 50), ([1.0], -1), ([1.0], 101)])
def test_percentile_rejects_no_values_and_bad_ranks(values: list[float], q: float) -> None:
    with pytest.raises(ValueError):
        percentile(values, q)
