"""Plain text: the file as it is, split into paragraphs on blank lines."""

from __future__ import annotations

from pathlib import Path

from ingest.document import Document, paragraph_blocks
from ingest.loaders._common import build_meta, read_text


def load(path: Path) -> list[Document]:
    text = read_text(path)
    meta = build_meta(path, {}, default_title=path.stem)
    return [Document(meta, text, paragraph_blocks(text))]
