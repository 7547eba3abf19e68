"""Headings, titles and bare signatures: context for an answer, never the answer itself.

"Parental leave" answering "How long is parental leave?" names the section, not the fact.
Every reader leaves such lines out of its answers; the answer object still shows the
heading it comes from.
"""

from __future__ import annotations

import re

from retrieval.readers.pointers import in_pointer
from retrieval.types import Hit

MAX_HEADING_WORDS = 6
_SIGNATURE = re.compile(r"^[\w.$#:<>-]+\s*\([^)]*\)\s*(?:->\s*\S+)?$")
ENDS_SENTENCE = (".", "!", "?", ":", ";")
_LIST_ITEM = re.compile(r"^(?:[-*•|]|\d+[.)])\s")  # a list item or table row says something
# "room: Borealis; floor: 3" (a spreadsheet row) and "-L, --location" (a manual's option) are
# short and unpunctuated like a heading, but they state something: they may be answers
_RECORD = re.compile(r"\w\s*[:=]\s*\S.*[;,]\s*\S|\w:\s+\S")
OPTION = re.compile(r"^--?[\w?]")


def is_heading(hit: Hit, start: int, end: int) -> bool:
    """Whether hit.text[start:end] is (nearly) a whole line that is a heading, the document's
    title, or a bare signature like `rotate_key(name)`; or holds no word at all (a prompt)."""
    text = hit.text
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : len(text) if line_end < 0 else line_end].strip()
    span = text[start:end].strip()
    if not any(c.isalnum() for c in span):  # a bare prompt (">>>", "$") or punctuation
        return True
    if not line or len(span) < 0.8 * len(line):
        return False
    headings = {h.strip() for h in hit.heading.split(" > ")} | {hit.title.strip()}
    if line in headings or _SIGNATURE.match(line):
        return True
    return (
        not line.endswith(ENDS_SENTENCE)
        and not _LIST_ITEM.match(line)
        and not _RECORD.search(line)
        and not OPTION.match(line)
        and len(line.split()) <= MAX_HEADING_WORDS
    )


def not_an_answer(hit: Hit, start: int, end: int) -> bool:
    """What no reader answers with: a heading, a title, a bare signature or prompt, or a
    sentence that only points elsewhere (`pointers.py`)."""
    return is_heading(hit, start, end) or in_pointer(hit, start, end)
