"""A new user's first questions, on the sample right after `qa ingest`: no training, no
calibration. Questions the documents cover are answered with a sentence, never a heading;
questions they do not cover are refused, with the closest sources."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli import cli
from retrieval.confidence.coverage import Coverage, question_words
from tests.bot.test_cli import SAMPLE


@pytest.fixture()
def ask(cli_env: dict[str, str]):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["ingest", str(SAMPLE)], env=cli_env)
    assert result.exit_code == 0, result.output

    def asked(question: str) -> dict:
        out = CliRunner().invoke(cli, ["ask", "--json", question], env=cli_env)
        assert out.exit_code == 0, out.output
        return json.loads(out.output)

    return asked


@pytest.mark.parametrize(
    "question",
    ["What is the office wifi password?", "Who is the CEO of the company?"],
)
def test_a_question_the_sample_does_not_cover_is_refused_with_the_closest_sources(
    ask, question: str
) -> None:
    answer = ask(question)
    assert answer["answer"] is None and answer["reason"] == "low_confidence"
    assert answer["sources"], "a refusal still shows what comes closest"
    coverage = answer["explanation"]["confidence"]["coverage"]
    assert coverage["unknown"] and coverage["share"] < coverage["min_share"]
    assert answer["explanation"]["reason"].startswith("I couldn't find this stated")
    assert all(word in answer["explanation"]["reason"] for word in coverage["unknown"])


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How long is parental leave?", "20 weeks"),
        ("How do I rotate the API key?", "Rotate key"),
        ("How many vacation days do I get?", "28 days"),
    ],
)
def test_a_covered_question_is_answered_with_a_sentence_not_a_heading(
    ask, question: str, expected: str
) -> None:
    answer = ask(question)
    assert answer["answer"] and expected in answer["answer"]
    assert answer["explanation"]["confidence"]["coverage"]["share"] == 1.0
    source = answer["sources"][0]
    headings = {source.get("heading"), source.get("title")}
    assert answer["answer"].strip() not in headings


def test_the_word_after_how_is_the_kind_of_answer_not_a_word_to_find() -> None:
    assert question_words("How long is parental leave?") == ("parental", "leave")
    assert question_words("How many long weekends are there?") == ("long", "weekends")


def test_a_word_no_document_uses_counts_twice() -> None:
    once = Coverage(("ceo", "company", "board", "pay"), (), ("ceo",))
    twice = Coverage(("ceo", "company", "board", "pay"), ("ceo",), ("ceo",))
    assert once.share == 0.75 and twice.share == 0.5
    assert Coverage(("ceo", "company"), ("ceo",), ("ceo",)).covered is False


def test_query_syntax_in_a_question_is_only_words_to_look_for(ask) -> None:
    answer = ask('What is @text:{x} | -rotate* %key% "API" (ceo) ~wifi?')
    assert answer["reason"] in (None, "low_confidence")
    assert "ceo" in answer["explanation"]["confidence"]["coverage"]["missing"]
