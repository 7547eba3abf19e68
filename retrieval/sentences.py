"""Sentence boundaries as character spans, shared by the chunker and the sentence reader."""

from __future__ import annotations

import functools
import re

# A sentence ends at . ! ? (or their CJK forms), optionally followed by closing quotes or
# brackets, then whitespace; CJK enders need no whitespace. Blank lines and list items end
# one too, but a single line break does not (PDF text wraps lines mid-sentence).
_BOUNDARY = re.compile(
    r"(?<=[.!?])[\"'”’)\]]*\s+|(?<=[。！？])\s*|\n[ \t]*\n\s*|\n(?=[ \t]*(?:[-*•]|\d+[.)])\s)"
)
_ABBREVIATIONS = {
    "e.g", "i.e", "al", "fig", "figs", "dr", "mr", "mrs", "ms", "vs", "no", "approx", "etc",
    "ref", "refs", "eq", "st", "ca", "cf", "inc", "ltd", "jr", "sr", "vol", "pp", "resp",
}  # a word list, read as one  # fmt: skip
_LAST_WORD = re.compile(r"([\w.]+)[.!?]?[\"'”’)\]]*$")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences in text[start:end], trimmed of surrounding whitespace."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _BOUNDARY.finditer(text, start, end):
        blank_line = m.group().count("\n") >= 2  # a block ends: whatever the last word was
        if m.start() > pos and not blank_line and _is_abbreviation(text, pos, m.start()):
            continue
        _append_trimmed(spans, text, pos, m.start())
        pos = m.end()
    _append_trimmed(spans, text, pos, end)
    return spans


@functools.lru_cache(maxsize=4096)
def sentences_of(text: str) -> tuple[tuple[int, int], ...]:
    """The sentence spans of a whole chunk text, split once however many steps read them.

    Reranking, the reader and the answer's context all read the same retrieved chunks.
    """
    return tuple(sentence_spans(text))


def _is_abbreviation(text: str, start: int, stop: int) -> bool:
    if text[stop - 1] != ".":
        return False
    m = _LAST_WORD.search(text, max(start, stop - 12), stop)
    if not m:
        return False
    word = m.group(1).rstrip(".").lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _append_trimmed(spans: list[tuple[int, int]], text: str, start: int, stop: int) -> None:
    while start < stop and text[start].isspace():
        start += 1
    while stop > start and text[stop - 1].isspace():
        stop -= 1
    if stop > start:
        spans.append((start, stop))


def context_of(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole sentence(s) of text that text[start:end] lies in: what an answer is shown in.

    A sentence that ends with a colon introduces what follows it (a command, a list, a
    value): the next sentence is shown with it, so the fact is never cut off at the colon."""
    spans = sentences_of(text)
    inside = [i for i, (s, e) in enumerate(spans) if s < end and e > start]
    if not inside:
        return start, end
    last = inside[-1]
    if text[spans[last][0] : spans[last][1]].endswith(":") and last + 1 < len(spans):
        last += 1
    return min(start, spans[inside[0]][0]), max(end, spans[last][1])
