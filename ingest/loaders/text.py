"""Plain text: the file as it is, split into paragraphs on blank lines; a `.txt` file written
in AsciiDoc (as older manuals are) is read as AsciiDoc."""

from __future__ import annotations

from pathlib import Path

from ingest.document import Document, paragraph_blocks
from ingest.loaders import asciidoc
from ingest.loaders._common import build_meta
from ingest.loaders._encoding import read_any_text


def load(path: Path) -> list[Document]:
    text, encoding = read_any_text(path)
    if asciidoc.looks_like_asciidoc(text):
        return asciidoc.document(path, text, encoding)
    meta = build_meta(path, {}, default_title=path.stem)
    return [Document(meta, text, paragraph_blocks(text), encoding=encoding)]
