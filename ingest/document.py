"""A loaded document: its text, its structure as blocks, and its metadata."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field

from retrieval.types import DocMeta


@dataclass(frozen=True)
class Block:
    """A structural unit of the document's text: `text[start:end]`."""

    kind: str  # "heading" | "text" | "code"
    start: int
    end: int
    level: int = 0  # heading level, 1 for the top
    page: int | None = None


@dataclass
class Document:
    meta: DocMeta
    text: str
    blocks: list[Block] = field(default_factory=list)
    encoding: str = ""  # a text file's guessed encoding when it was not UTF-8 (reported)

    def __post_init__(self) -> None:
        if not self.blocks:
            self.blocks = paragraph_blocks(self.text)

    @property
    def doc_id(self) -> str:
        return self.meta.doc_id

    def content_hash(self) -> str:
        """Changes whenever anything that ends up in a chunk changes."""
        h = hashlib.sha256(self.text.encode("utf-8", "surrogatepass"))
        meta = asdict(self.meta)
        del meta["folder"]  # where it was ingested from: shown, never indexed (DocMeta)
        for later in ("channel", "author"):  # added later: empty, they keep older hashes valid
            if not meta[later]:
                del meta[later]
        h.update(json.dumps(meta, sort_keys=True, default=str).encode())
        h.update(json.dumps([asdict(b) for b in self.blocks]).encode())
        return h.hexdigest()


class LoadError(Exception):
    """A file that cannot be read; the batch goes on without it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class NotContent(LoadError):
    """A readable file with nothing to index: an HTML page of navigation only (a site map, a
    list of pages). Reported as skipped, not as a failure."""


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")


def paragraph_blocks(text: str, offset: int = 0, page: int | None = None) -> list[Block]:
    """Split plain text on blank lines into text blocks (offsets relative to the whole doc)."""
    blocks: list[Block] = []
    pos = 0
    for m in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = m.start() if m else len(text)
        seg = text[pos:end]
        stripped = seg.strip()
        if stripped:
            lead = len(seg) - len(seg.lstrip())
            s = offset + pos + lead
            blocks.append(Block("text", s, s + len(stripped), page=page))
        if m:
            pos = m.end()
    return blocks


def doc_id_for(locator: str) -> str:
    """Stable id from a path or URL: the same file always gets the same id."""
    return hashlib.sha256(locator.encode("utf-8", "surrogatepass")).hexdigest()[:16]
