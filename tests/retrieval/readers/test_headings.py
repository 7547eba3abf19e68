"""What may be an answer and what the user reads around it: headings never, rows and options
yes; a colon's sentence with what it introduces."""

from __future__ import annotations

import pytest

from retrieval.readers.headings import is_heading
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
