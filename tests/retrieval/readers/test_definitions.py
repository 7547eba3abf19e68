"""A definition list's term and its description are one unit: a question about what the
description says is answered by the term, shown with its description."""

from __future__ import annotations

from retrieval.readers.definitions import presented, term_before
from retrieval.types import Hit, Span

MANUAL = (
    "Options\n\n-L, --location\n\nIf the server reports that the requested page has moved, this "
    "option will make curl redo the request on the new place. Up to 50 redirects are "
    "followed.\n\n--max-redirs <num>\n\nSet the maximum number of redirections to follow."
)
SYNOPSIS = (
    "mapfile\n\nmapfile [-d delim] [-n count] [-O origin]\n    [-t] [-u fd] [array]\n\n"
    "Read lines from the standard input into the indexed array variable array."
)


def _hit(text: str, heading: str = "") -> Hit:
    return Hit(key="k", doc_id="d", text=text, score=1.0, heading=heading)


def _read(hit: Hit, words: str, question: str) -> Span:
    at = hit.text.index(words)
    span = Span(text=words, score=0.9, hit=hit, start=at, end=at + len(words))
    return presented(span, question)


def _shown(span: Span) -> str:
    return span.hit.text[span.context_start : span.context_end]


def test_a_description_s_first_sentence_is_shown_with_its_term() -> None:
    hit = _hit(MANUAL, heading="Options")
    for term, description in (("-L, --location", "If the server"), ("--max-redirs", "Set the")):
        at = term_before(hit, MANUAL.index(description))
        assert at is not None and MANUAL[at:].startswith(term)
    assert term_before(hit, MANUAL.index("-L")) is None  # a heading of the path is no term
    assert term_before(hit, MANUAL.index("this option will")) is None  # inside the block


def test_a_question_in_other_words_is_answered_by_the_term_with_its_description() -> None:
    hit = _hit(MANUAL, heading="Options")
    sentence = "Up to 50 redirects are followed."
    span = _read(hit, sentence, "How do I make curl follow a page that moved?")
    assert span.text == "-L, --location" == MANUAL[span.start : span.end]
    assert _shown(span).startswith("-L, --location\n\nIf the server reports")
    assert _shown(span).endswith(sentence)  # the whole description, not only one sentence


def test_a_question_naming_the_term_is_answered_by_its_description() -> None:
    hit = _hit(MANUAL, heading="Options")
    sentence = "Set the maximum number of redirections to follow."
    span = _read(hit, sentence, "What does --max-redirs do?")
    assert span.text == sentence
    assert _shown(span) == f"--max-redirs <num>\n\n{sentence}"


def test_a_value_picked_out_of_a_description_stays_the_answer_shown_with_the_entry() -> None:
    hit = _hit(MANUAL, heading="Options")
    span = _read(hit, "50", "How many redirects does curl follow?")
    assert span.text == "50"
    assert _shown(span).startswith("-L, --location")
    # asked for a means, the same phrase gives way to the term
    assert _read(hit, "50", "How can I follow redirects?").text == "-L, --location"


def test_a_synopsis_wrapped_onto_indented_lines_is_one_term() -> None:
    hit = _hit(SYNOPSIS)
    span = _read(hit, "Read lines", "How do I read a file's lines into an array?")
    assert span.text == "mapfile [-d delim] [-n count] [-O origin]\n    [-t] [-u fd] [array]"
    opened_inside = _hit(SYNOPSIS[SYNOPSIS.index("    [-t]") :])
    assert _read(opened_inside, "Read lines", "How do I read lines?").text == "Read lines"


def test_a_prose_label_before_a_paragraph_is_never_the_answer() -> None:
    text = "Benefits\n\nParental leave\n\nNew parents get 16 weeks of paid leave."
    span = _read(_hit(text, heading="Benefits"), "16 weeks", "How long can new parents stay home?")
    assert span.text == "16 weeks"
    assert _shown(span) == "Parental leave\n\nNew parents get 16 weeks of paid leave."
