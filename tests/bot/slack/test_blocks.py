"""Block Kit formatting, Slack text handling and the modal: pure functions, no servers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.slack import blocks
from bot.slack.blocks import MORE, VOTE_UP, answer_message, confidence_label
from bot.slack.modal import QUESTION, SOURCES, TAGS, ask_modal, read_submission
from bot.slack.text import clip_mrkdwn, deep_link, plain_question, text_fragment
from retrieval.types import Answer

CHUNK = "Keys expire yearly. To rotate it, open Settings and click Rotate. Old keys stop."


def _candidate(answer: str = "open Settings and click Rotate", **over: Any) -> dict[str, Any]:
    start = CHUNK.index(answer)
    return {
        "answer": answer,
        "score": 0.8,
        "doc_id": "d",
        "title": "API keys",
        "source": "wiki",
        "url": "https://wiki.example.com/keys",
        "page": None,
        "start": start,
        "end": start + len(answer),
        "context": CHUNK[20:65],
        "context_start": 20,
        "context_end": 65,
        **over,
    }


def _answer(**over: Any) -> Answer:
    cand = _candidate()
    source = {
        "doc_id": "d",
        "title": "API keys",
        "source": "wiki",
        "url": cand["url"],
        "path": "",
        "page": None,
        "text": CHUNK,
        "start": cand["start"],
        "end": cand["end"],
    }
    values: dict[str, Any] = dict(
        question="how do I rotate the key?",
        answer=cand["answer"],
        score=0.8,
        reader="span",
        sources=[source],
        candidates=[
            cand,
            _candidate(
                "Old keys stop.", context="Old keys stop.", context_start=66, context_end=80
            ),
        ],
        explanation={"reader": {"threshold": 0.1}},
    )
    return Answer(**{**values, **over})


def _texts(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def test_answer_is_bolded_inside_its_quoted_sentence() -> None:
    message = answer_message(_answer(), answer_id="a1")

    quote = message["blocks"][1]["text"]["text"]
    assert quote == "> To rotate it, *open Settings and click Rotate*."
    assert message["text"] == "open Settings and click Rotate"


def test_web_source_links_to_the_exact_words_with_a_text_fragment() -> None:
    message = answer_message(_answer(), answer_id="a1")

    assert (
        "<https://wiki.example.com/keys#:~:text=open%20Settings%20and%20click%20Rotate|API keys>"
        in _texts(message)
    )


def test_a_passage_found_in_several_documents_is_listed_once_with_its_other_homes() -> None:
    answer = _answer()
    answer.sources[0]["also_in"] = [
        {"doc_id": "e", "title": "Keys (HTML)", "url": "https://wiki.example.com/keys.html"},
        {"doc_id": "f", "title": "all.md", "url": "", "path": "/docs/all.md"},
    ]
    text = _texts(answer_message(answer, answer_id="a1"))

    assert text.count("1. <https://wiki.example.com/keys#") == 1
    assert (
        "also in <https://wiki.example.com/keys.html#:~:text=open%20Settings%20and%20click%20"
        "Rotate|Keys (HTML)>, all.md" in text
    )


def test_pdf_source_links_to_its_page() -> None:
    url = "https://files.example.com/policy.pdf"

    assert deep_link(url, page=7, quote_text="anything") == url + "#page=7"
    assert deep_link(url + "#page=2", page=7) == url + "#page=7"
    assert deep_link("https://x.example.com/get?id=3", page=2, path="/d/p.PDF").endswith("#page=2")


def test_text_fragment_escapes_its_syntax_and_shortens_long_quotes() -> None:
    assert text_fragment("pre-shared keys, rotated & kept") == (
        "#:~:text=pre%2Dshared%20keys%2C%20rotated%20%26%20kept"
    )
    long = (
        "Rotate keys every quarter, and after anyone who knew the old key leaves the team for good"
    )
    assert (
        text_fragment(long) == "#:~:text=Rotate%20keys%20every%20quarter%2C,the%20team%20for%20good"
    )
    assert deep_link("https://w.example.com/p#intro", quote_text="hi") == (
        "https://w.example.com/p#intro:~:text=hi"
    )


def test_source_without_a_web_address_shows_its_path_unlinked() -> None:
    source = {"title": "Runbook", "path": "/srv/docs/runbook.md", "url": "", "text": "x"}

    message = answer_message(_answer(sources=[source]), answer_id="a1")

    assert "1. Runbook · `/srv/docs/runbook.md`" in _texts(message)
    assert deep_link("file:///srv/docs/runbook.pdf", page=3) is None


def test_document_text_cannot_ping_channels_or_forge_links() -> None:
    evil = "<!channel> see <https://evil.example.com|the docs> & more"
    cand = {
        **_candidate(),
        "answer": evil,
        "context": evil,
        "start": 0,
        "end": len(evil),
        "context_start": 0,
    }

    message = answer_message(_answer(answer=evil, candidates=[cand]), answer_id="a1")

    quote = message["blocks"][1]["text"]["text"]
    assert "<!channel>" not in quote and "<https://evil" not in quote
    assert "&lt;!channel&gt;" in quote and "&amp; more" in quote


def test_buttons_carry_the_answer_id_and_count_other_answers() -> None:
    message = answer_message(_answer(), answer_id="abc123")

    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    labels = {e["action_id"]: (e["text"]["text"], e["value"]) for e in actions["elements"]}
    assert labels[MORE] == ("Show more answers (1)", "abc123")
    assert labels[VOTE_UP][1] == "abc123"
    assert not [b for b in answer_message(_answer())["blocks"] if b["type"] == "actions"]


def test_no_answer_says_why_with_a_tip_and_the_closest_sources() -> None:
    answer = _answer(
        answer=None,
        score=0.05,
        reason="reader_abstained",
        explanation={"reason": "the closest passages do not clearly answer the question"},
    )

    message = answer_message(answer, answer_id="a1")

    assert message["text"] == "No answer: the closest passages do not clearly answer the question."
    text = _texts(message)
    assert "I couldn't find an answer" in text and "Closest sources" in text
    assert "Keys expire yearly." in text  # the passage itself, to read
    assert "Show more answers (2)" in text  # the low-confidence candidates, on request


@pytest.mark.parametrize(
    ("score", "threshold", "label"),
    [(0.9, 0.1, "high"), (0.4, 0.1, "medium"), (0.15, 0.1, "low"), (0.6, 0.35, "medium")],
)
def test_confidence_is_judged_against_the_readers_threshold(score, threshold, label) -> None:
    assert confidence_label(score, threshold) == label


def test_huge_answers_and_many_sources_stay_within_block_kit_limits() -> None:
    huge = "word & <tag> " * 2000
    cands = [
        {
            **_candidate(),
            "answer": huge,
            "context": huge * 2,
            "start": 0,
            "end": len(huge),
            "context_start": 0,
            "title": "T" * 500,
        }
        for _ in range(60)
    ]
    sources = [
        {
            "title": "S" * 400,
            "url": "https://e.example.com/" + "p" * 900,
            "text": huge,
            "source": "x" * 300,
            "page": 4,
        }
        for _ in range(80)
    ]
    answer = _answer(answer=huge, candidates=cands, sources=sources, question=huge)

    for message in (
        answer_message(answer, answer_id="x" * 16, expanded=True),
        answer_message(
            _answer(answer=None, candidates=cands, sources=sources), answer_id="y", expanded=True
        ),
    ):
        _assert_within_limits(message)


def _assert_within_limits(message: dict[str, Any]) -> None:
    assert len(message["blocks"]) <= blocks.MAX_BLOCKS
    assert len(message["text"]) <= blocks.MAX_FALLBACK_CHARS
    for block in message["blocks"]:
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
            assert all(len(e["text"]) <= 3000 for e in block["elements"])
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            for button in block["elements"]:
                assert len(button["value"]) <= 2000 and len(button["text"]["text"]) <= 75
    assert message["blocks"][-1]["type"] == "actions"  # the buttons survive the trimming


def test_too_many_blocks_are_cut_keeping_the_buttons_last() -> None:
    body = [{"type": "section", "text": {"type": "mrkdwn", "text": str(i)}} for i in range(70)]
    buttons = {"type": "actions", "elements": []}

    kept = blocks.fit([*body, buttons])

    assert len(kept) == blocks.MAX_BLOCKS
    assert kept[-1] is buttons and kept[0] is body[0]
    assert "left out" in kept[-2]["elements"][0]["text"]


def test_clipping_mrkdwn_never_leaves_half_an_entity_or_link() -> None:
    assert clip_mrkdwn("ab &amp; cd", 6) == "ab …"
    assert clip_mrkdwn("see <https://x.example.com|docs> now", 20) == "see …"
    assert clip_mrkdwn("short", 10) == "short"


def test_plain_question_drops_the_bot_mention_and_unwraps_slack_markup() -> None:
    text = (
        "<@UBOT1> how do I reach <@U22|ana> in <#C1|ops> about <https://x.example.com|x> &amp; y?"
    )

    assert plain_question(text, "UBOT1") == "how do I reach @U22 in #ops about x & y?"


def test_modal_offers_the_index_choices_and_leaves_out_what_slack_cannot_carry() -> None:
    sources = ["handbook", "x" * 151, *[f"s{i}" for i in range(150)]]

    view = ask_modal(sources, ["hr"], channel="C1", user="U1")

    pickers = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    options = pickers[SOURCES]["element"]["options"]
    assert len(options) == 100 and options[0]["value"] == "handbook"
    assert all(len(o["value"]) <= 150 and len(o["text"]["text"]) <= 75 for o in options)
    assert pickers[TAGS]["optional"] is True
    assert len(view["title"]["text"]) <= 24
    no_choices = ask_modal([], [], channel="C1", user="U1")
    assert [b["block_id"] for b in no_choices["blocks"] if b["type"] == "input"] == [QUESTION]


def test_modal_submission_reads_back_question_filters_and_where_to_answer() -> None:
    view = ask_modal(["handbook"], ["hr"], channel="C9", user="U9")
    view["state"] = {
        "values": {
            QUESTION: {QUESTION: {"value": " how? "}},
            SOURCES: {SOURCES: {"selected_options": [{"value": "handbook"}]}},
            TAGS: {TAGS: {"selected_options": []}},
        }
    }

    assert read_submission(view) == (
        "how?",
        {"source": ["handbook"]},
        {"channel": "C9", "user": "U9"},
    )


def test_an_answer_from_under_a_heading_is_quoted_below_that_heading() -> None:
    cand = _candidate(heading="fs > Synchronous API > fs.existsSync(path)")
    message = answer_message(_answer(candidates=[cand]), answer_id="a1")

    quote = message["blocks"][1]["text"]["text"]
    assert quote == (
        "_From_ *fs.existsSync(path)*\n> To rotate it, *open Settings and click Rotate*."
    )


def test_a_hostile_heading_cannot_ping_or_break_the_quote() -> None:
    cand = _candidate(heading="Docs > <!channel> & <https://evil.example|click>")
    quote = answer_message(_answer(candidates=[cand]), answer_id="a1")["blocks"][1]["text"]["text"]

    assert "<!channel>" not in quote and "<https://evil" not in quote
    assert quote.startswith(
        "_From_ *&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;*\n> "
    )
