"""The `/ask` modal: a question box and filter pickers whose choices come from the index."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.slack.text import clip

CALLBACK_ID = "qa_ask_modal"
QUESTION, SOURCES, TAGS = "qa_question", "qa_sources", "qa_tags"
MAX_OPTIONS = 100  # per select menu
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_METADATA = 3000


def ask_modal(
    sources: Sequence[str],
    tags: Sequence[str],
    *,
    channel: str,
    user: str,
    max_question_chars: int = 1000,
    note: str | None = None,
) -> dict[str, Any]:
    """The modal view; where to answer (channel, user) travels in private_metadata."""
    blocks: list[dict[str, Any]] = [_question_input(max_question_chars)]
    for block_id, label, values in ((SOURCES, "Sources", sources), (TAGS, "Tags", tags)):
        if options := _options(values):
            blocks.append(_picker(block_id, label, options))
    hint = note or (
        "Leave the filters empty to search everything. You can also type filters in the "
        'question: `source:handbook tag:hr created:2024`, `text:"exact words"`.'
    )
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": hint}]})
    metadata = json.dumps({"channel": channel, "user": user})
    if len(metadata) > MAX_METADATA:
        raise ValueError("private_metadata too long")
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": _plain("Ask the docs"),
        "submit": _plain("Ask"),
        "close": _plain("Cancel"),
        "private_metadata": metadata,
        "blocks": blocks,
    }


def read_submission(view: dict[str, Any]) -> tuple[str, dict[str, list[str]], dict[str, str]]:
    """(question, picked filters as {"source": [...], "tag": [...]}, private metadata)."""
    values = view.get("state", {}).get("values", {})
    question = (values.get(QUESTION, {}).get(QUESTION, {}).get("value") or "").strip()
    picked = {}
    for block_id, key in ((SOURCES, "source"), (TAGS, "tag")):
        chosen = values.get(block_id, {}).get(block_id, {}).get("selected_options") or []
        if chosen:
            picked[key] = [o["value"] for o in chosen]
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    return question, picked, metadata if isinstance(metadata, dict) else {}


def _question_input(max_chars: int) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": QUESTION,
        "label": _plain("Question"),
        "element": {
            "type": "plain_text_input",
            "action_id": QUESTION,
            "max_length": min(max_chars, 3000),
            "placeholder": _plain("How do I rotate the API key?"),
        },
    }


def _picker(block_id: str, label: str, options: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": _plain(label),
        "element": {
            "type": "multi_static_select",
            "action_id": block_id,
            "placeholder": _plain(f"Any {label.lower()}"),
            "options": options,
        },
    }


def _options(values: Sequence[str]) -> list[dict[str, Any]]:
    """Select options; values Slack cannot carry (over 150 chars) are left out."""
    usable = [v for v in dict.fromkeys(values) if v and len(v) <= MAX_OPTION_VALUE]
    return [{"text": _plain(clip(v, MAX_OPTION_TEXT)), "value": v} for v in usable[:MAX_OPTIONS]]


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}
