"""Block Kit messages for answers: pure functions from an Answer to a Slack message payload.

Every message stays inside Block Kit's limits, whatever the answer's length or source count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.slack.text import bold, clip, clip_mrkdwn, deep_link, escape, link
from retrieval.types import Answer

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK_CHARS = 3000
MAX_SOURCES = 5
MAX_OTHER_ANSWERS = 8
QUOTE_WINDOW = 300  # characters of context kept on each side of the answer
MAX_ANSWER_CHARS = 1500
SNIPPET_CHARS = 200
MAX_HEADING_CHARS = 150

_WHITESPACE = re.compile(r"\s+")

MORE, LESS = "qa_more", "qa_less"
VOTE_UP, VOTE_DOWN = "qa_vote_up", "qa_vote_down"

TIPS = {
    "no_documents": "Nothing is indexed yet: run `qa ingest PATH` first.",
    "no_documents_match_filter": "Try other filters, or none: `source:` and `tag:` must match "
    "exactly.",
    "retrieval_too_weak": "Try other words, or name the topic more precisely.",
    "reader_abstained": "The closest passages are below; one of them may hold the answer.",
    "low_confidence": "These are the closest documents; one may still help, or ask a colleague.",
}


def answer_message(
    answer: Answer,
    *,
    answer_id: str | None = None,
    expanded: bool = False,
    asked_by: str | None = None,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """The reply: the answer quoted and bolded, its confidence, sources, buttons.

    `notes` (finished mrkdwn) go beside the question: what was searched, which earlier
    question of the thread was taken into account.
    """
    blocks = [_asked(answer.question, asked_by, notes)]
    if answer.answer is not None:
        best = answer.candidates[0] if answer.candidates else None
        blocks.append(_section(_quote(best) if best else "> " + bold(escape(answer.answer))))
        blocks.append(_context(_confidence(answer)))
        if sources := _source_lines(answer, snippets=False):
            blocks.append(_section("*Sources*\n" + "\n".join(sources)))
        others = answer.candidates[1:]
    else:
        why = answer.explanation.get("reason") or answer.reason or "no answer was found"
        tip = TIPS.get(answer.reason or "", "")
        blocks.append(_section(f":shrug: I couldn't find an answer: {escape(why)}.\n{tip}"))
        closest = "documents" if answer.reason == "low_confidence" else "sources"
        if sources := _source_lines(answer, snippets=True):
            blocks.append(_section(f"*Closest {closest}*\n" + "\n".join(sources)))
        others = answer.candidates
    if expanded and others:
        blocks += _other_answers(others, labelled=answer.answer is not None)
    if buttons := _buttons(answer_id, len(others), expanded):
        blocks.append({"type": "actions", "block_id": "qa_buttons", "elements": buttons})
    return {"text": fallback_text(answer), "blocks": fit(blocks)}


def problem_message(text: str) -> dict[str, Any]:
    """An apology or a hint, as plain mrkdwn (the caller escapes what came from users)."""
    return {"text": clip(text, MAX_FALLBACK_CHARS), "blocks": [_section(text)]}


def fallback_text(answer: Answer) -> str:
    """The notification text: the answer alone, or why there is none."""
    if answer.answer is not None:
        return clip(answer.answer, MAX_FALLBACK_CHARS)
    why = answer.explanation.get("reason") or answer.reason or "no answer was found"
    return clip(f"No answer: {why}.", MAX_FALLBACK_CHARS)


def confidence_label(score: float, threshold: float) -> str:
    """high / medium / low, by how far the score clears the reader's threshold."""
    margin = (score - threshold) / (1.0 - threshold) if threshold < 1.0 else 0.0
    return "high" if margin >= 0.5 else "medium" if margin >= 0.2 else "low"


def _asked(question: str, asked_by: str | None, notes: Sequence[str]) -> dict[str, Any]:
    who = f"<@{asked_by}> asked: " if asked_by else "Question: "
    return _context(f":question: {who}{escape(clip(question, 300))}", *notes)


def _quote(candidate: dict[str, Any]) -> str:
    """The answer's sentence as a quote, with the answer itself bolded."""
    context = candidate.get("context") or candidate["answer"]
    offset = candidate.get("context_start") or 0
    a = max(0, min(len(context), (candidate.get("start") or offset) - offset))
    b = max(a, min(len(context), (candidate.get("end") or offset) - offset))
    if context[a:b].strip() != candidate["answer"].strip():  # offsets disagree: quote the answer
        context, a, b = candidate["answer"], 0, len(candidate["answer"])
    before = _WHITESPACE.sub(" ", context[:a]).lstrip()
    middle = _WHITESPACE.sub(" ", clip(context[a:b], MAX_ANSWER_CHARS))
    after = _WHITESPACE.sub(" ", context[b:]).rstrip()
    if len(before) > QUOTE_WINDOW:
        before = "…" + before[-QUOTE_WINDOW:].split(" ", 1)[-1]
    if len(after) > QUOTE_WINDOW:
        after = clip(after, QUOTE_WINDOW)
    line = escape(before) + bold(escape(middle)) + escape(after)
    return clip_mrkdwn(
        _under(candidate.get("heading") or "") + "> " + line.strip(), MAX_SECTION_CHARS
    )


def _under(heading: str) -> str:
    """The section an answer comes from ("fs.existsSync(path)" above "Returns true if ..."):
    headings and signatures are context, shown with the answer, never the answer itself."""
    last = heading.split(" > ")[-1].strip()
    return f"_From_ {bold(escape(clip(last, MAX_HEADING_CHARS)))}\n" if last else ""


def _confidence(answer: Answer) -> str:
    calibrated = answer.explanation.get("confidence", {})  # a calibrated index's threshold
    reader = answer.explanation.get("reader", {})
    threshold = float(
        (calibrated if calibrated.get("calibrated") else reader).get("threshold") or 0
    )
    label = confidence_label(answer.score, threshold)
    icon = {"high": ":large_green_circle:", "medium": ":large_yellow_circle:"}.get(
        label, ":white_circle:"
    )
    return f"{icon} Confidence: *{label}* ({answer.score:.2f}) · {escape(answer.reader)} reader"


def _where(item: dict[str, Any], quote_text: str | None) -> str:
    """`<deep link|Title>` plus source and page(s), for a source or a candidate; a file
    without a URL shows its path (relative to the folder ingested, never the server's)."""
    title = clip(item.get("title") or item.get("path") or item.get("doc_id") or "untitled", 150)
    url = deep_link(
        item.get("url"), page=item.get("page"), quote_text=quote_text, path=item.get("path")
    )
    extras = [escape(clip(str(item["source"]), 60))] if item.get("source") else []
    pages = list(
        dict.fromkeys(p["page"] for p in [item, *(item.get("passages") or [])] if p.get("page"))
    )
    if pages:  # a source's passages may come from several pages of one document
        extras.append(("page " if len(pages) == 1 else "pages ") + ", ".join(map(str, pages)))
    if not url and item.get("path"):
        extras.append(f"`{escape(clip(str(item['path']), 200))}`")
    return " · ".join([link(url, title), *extras])


def _source_lines(answer: Answer, snippets: bool) -> list[str]:
    lines: list[str] = []
    for i, src in enumerate(answer.sources[:MAX_SOURCES], start=1):
        quoted = _source_quote(src)
        line = f"{i}. {_where(src, quoted)}" + _also_in(src, quoted)
        if snippets and src.get("text"):
            line += "\n> " + escape(clip(" ".join(str(src["text"]).split()), SNIPPET_CHARS))
        lines.append(line)
    while lines and len("\n".join(lines)) > MAX_SECTION_CHARS - 40:
        lines.pop()
    return lines


def _also_in(src: dict[str, Any], quoted: str | None) -> str:
    """The other documents holding the same passage, linked to it where they are web pages."""
    places = src.get("also_in") or []
    if not places:
        return ""
    shown = [
        link(
            deep_link(p.get("url"), quote_text=quoted, path=p.get("path")),
            clip(p.get("title") or p.get("path") or p.get("doc_id") or "untitled", 80),
        )
        for p in places[:3]
    ]
    more = f" and {len(places) - 3} more" if len(places) > 3 else ""
    return " · also in " + ", ".join(shown) + more


def _source_quote(src: dict[str, Any]) -> str | None:
    text, start, end = src.get("text") or "", src.get("start"), src.get("end")
    if start is not None and end is not None and 0 <= start < end <= len(text):
        return text[start:end]
    return None


def _other_answers(candidates: list[dict[str, Any]], labelled: bool) -> list[dict[str, Any]]:
    title = "*Other answers*" if labelled else "*Possible answers (low confidence)*"
    blocks: list[dict[str, Any]] = [{"type": "divider"}, _section(title)]
    for cand in candidates[:MAX_OTHER_ANSWERS]:
        blocks.append(_section(_quote(cand)))
        blocks.append(_context(f"{cand.get('score', 0):.2f} · {_where(cand, cand['answer'])}"))
    return blocks


def _buttons(answer_id: str | None, others: int, expanded: bool) -> list[dict[str, Any]]:
    if not answer_id:
        return []
    buttons = []
    if others:
        label = "Hide other answers" if expanded else f"Show more answers ({others})"
        buttons.append(_button(LESS if expanded else MORE, label, answer_id))
    buttons.append(_button(VOTE_UP, ":thumbsup: Helpful", answer_id))
    buttons.append(_button(VOTE_DOWN, ":thumbsdown: Not helpful", answer_id))
    return buttons


def _button(action_id: str, label: str, value: str) -> dict[str, Any]:
    if len(value) > MAX_BUTTON_VALUE:
        raise ValueError(f"button value is {len(value)} chars; Slack allows {MAX_BUTTON_VALUE}")
    text = {"type": "plain_text", "text": clip(label, MAX_BUTTON_TEXT), "emoji": True}
    return {"type": "button", "action_id": action_id, "text": text, "value": value}


def _section(text: str) -> dict[str, Any]:
    text = clip_mrkdwn(text, MAX_SECTION_CHARS) if text.strip() else " "
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(*texts: str) -> dict[str, Any]:
    elements = [{"type": "mrkdwn", "text": clip_mrkdwn(t, MAX_SECTION_CHARS)} for t in texts]
    return {"type": "context", "elements": elements[:MAX_CONTEXT_ELEMENTS]}


def fit(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most MAX_BLOCKS blocks: the buttons are kept, the tail of the body is dropped."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    tail = [b for b in blocks[-1:] if b["type"] == "actions"]
    body = blocks[: len(blocks) - len(tail)]
    note = _context("_(more was left out to fit in one message)_")
    return [*body[: MAX_BLOCKS - len(tail) - 1], note, *tail]
