"""What may be an answer and what the user reads around it: headings never, rows and options
yes, pointers never; a colon's sentence, a code line or an answer at a sentence's edge with
what completes it."""

from __future__ import annotations

import pytest

from retrieval.readers.headings import is_heading, not_an_answer
from retrieval.readers.pointers import only_points_elsewhere
from retrieval.sentences import context_of, sentence_spans
from retrieval.types import Hit


def _hit(text: str, heading: str = "", title: str = "") -> Hit:
    return Hit(key="k", doc_id="d", text=text, score=1.0, heading=heading, title=title)


@pytest.mark.parametrize(
    ("line", "heading"),
    [
        ("Parental leave", True),
        ("Installing the CLI", True),
        ("rotate_key(name)", True),
        (">>>", True),
        ("$", True),
        ("room: Borealis; floor: 3; seats: 40", False),
        ("-L, --location", False),
        ("--max-redirs <num>", False),
        ("Employees get 25 vacation days.", False),
    ],
)
def test_a_line_is_a_heading_only_when_it_states_nothing(line: str, heading: bool) -> None:
    assert is_heading(_hit(line), 0, len(line)) is heading


def test_a_sentence_ending_with_a_colon_is_shown_with_what_it_introduces() -> None:
    text = "Install it with this command:\n\n$ pip install redis-docqa\n\nThen ingest."
    start, end = context_of(text, 0, 7)
    assert text[start:end] == "Install it with this command:\n\n$ pip install redis-docqa"


def test_a_block_that_ends_with_a_one_letter_word_ends_its_sentence() -> None:
    text = "Wait for the job numbered n.\n\nNext: Lists of Commands."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Wait for the job numbered n.",
        "Next: Lists of Commands.",
    ]


@pytest.mark.parametrize(
    ("sentence", "points"),
    [
        ("The reference for the standard library contains an explanation of this.", True),
        ("For more information, see Configuring TLS.", True),
        ("See Configuring TLS.", True),
        ("This is explained in detail in the next chapter.", True),
        ("For example, the default is 10.", False),
        ("The default timeout is 30 seconds; see Timeouts.", False),
        ("The cache, which holds 40 entries, is described in section 3.", False),
    ],
)
def test_a_sentence_points_elsewhere_only_when_it_says_nothing_itself(
    sentence: str, points: bool
) -> None:
    assert only_points_elsewhere(sentence) is points


def test_a_sentence_that_only_points_elsewhere_is_never_an_answer() -> None:
    text = (
        "The reference for the tuple type contains an explanation of tuples.\n\n"
        "Tuples are immutable sequences, usually holding items of different types."
    )
    pointer = text.index("The reference")
    assert not_an_answer(_hit(text), pointer, pointer + 30)
    fact = text.index("Tuples are")
    assert not not_an_answer(_hit(text), fact, fact + 20)


def test_a_line_of_code_is_shown_with_the_sentences_around_it() -> None:
    text = "To count the items, call len.\n\n>>> len(items)\n3\n\nIt works on any sequence."
    start = text.index(">>>")
    a, b = context_of(text, start, start + 14)
    assert text[a:b] == text


def test_an_answer_at_a_sentences_edge_is_shown_with_its_neighbour_in_the_paragraph() -> None:
    text = "Intro here.\n\nThe mean incubation period was 5.2 days. It ranged from 2 to 14 days."
    start = text.index("5.2 days")
    a, b = context_of(text, start, start + len("5.2 days"))
    assert text[a:b] == "The mean incubation period was 5.2 days. It ranged from 2 to 14 days."
    inner = text.index("incubation")
    a, b = context_of(text, inner, inner + len("incubation"))
    assert text[a:b] == "The mean incubation period was 5.2 days."
