"""Sentence boundaries as character spans, shared by the chunker and the sentence reader."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

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


# A line typed at a prompt (">>> len(s)", "$ make", "In [3]: x"), or one that reads as code:
# no sentence's end, and brackets or an assignment among few words.
_PROMPT = re.compile(r"^(?:>>>|\.\.\.|[$%#]|In \[\d*\]:|PS>|[A-Z]:\\>)\s")
_CODE_MARKS = re.compile(r"[(){}\[\]=;]|->|::")


def is_code(sentence: str) -> bool:
    """Whether a sentence is a line of code or a command at a prompt rather than prose."""
    if _PROMPT.match(sentence):
        return True
    if sentence.endswith((".", "!", "?", ":")) or len(sentence.split()) > 12:
        return False
    return len(_CODE_MARKS.findall(sentence)) >= 2


def context_of(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole sentence(s) of text that text[start:end] lies in: what an answer is shown in.

    One sentence, or two where one alone would cut the fact short: a sentence that ends with
    a colon is shown with what it introduces (a command, a list, a value); a line of code with
    the sentence that introduces it and the one after; an answer at a sentence's first or last
    words with the neighbouring sentence of its paragraph on that side."""
    spans = sentences_of(text)
    inside = [i for i, (s, e) in enumerate(spans) if s < end and e > start]
    if not inside:
        return start, end
    first, last = inside[0], inside[-1]
    (s, _), (_, e) = spans[first], spans[last]
    if is_code(text[s:e]):
        first, last = max(first - 1, 0), min(last + 1, len(spans) - 1)
    elif text[s:e].endswith(":"):
        last = min(last + 1, len(spans) - 1)
    elif start > s or end < e:  # a phrase of the sentence, not the whole of it
        if not _has_word(text[s:start]) and first > 0 and _joined(text, spans, first - 1):
            first -= 1
        if not _has_word(text[end:e]) and last + 1 < len(spans) and _joined(text, spans, last):
            last += 1
    return min(start, spans[first][0]), max(end, spans[last][1])


def _has_word(text: str) -> bool:
    return any(c.isalnum() for c in text)


def _joined(text: str, spans: Sequence[tuple[int, int]], i: int) -> bool:
    """Whether sentence i and the next one are of one paragraph (no blank line between)."""
    return "\n\n" not in text[spans[i][1] : spans[i + 1][0]]
