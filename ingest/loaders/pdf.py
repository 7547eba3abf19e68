"""PDF via pypdf: page texts joined by blank lines, every block tagged with its 1-based page.

pypdf raises many exception types on damaged files, so anything it raises while reading
becomes LoadError("corrupt PDF: ..."); a whole file is refused rather than half-read.
"""

from __future__ import annotations

import io
import re
import warnings
from contextlib import suppress
from pathlib import Path
from typing import Any

from ingest.document import Block, Document, LoadError, paragraph_blocks
from ingest.loaders._common import build_meta, read_bytes

_JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PLACEHOLDER_TITLES = frozenset(("untitled", "untitled document", "anonymous", "(anonymous)"))


def load(path: Path) -> list[Document]:
    doc_text, blocks, fields = parse_pdf(str(path), read_bytes(path))
    meta = build_meta(path, fields, default_title="", where="PDF metadata: ")
    return [Document(meta, doc_text, blocks)]


def parse_pdf(name: str, data: bytes) -> tuple[str, list[Block], dict[str, Any]]:
    """Text, page-tagged blocks and metadata fields of a PDF (a file or a fetched URL)."""
    if b"%PDF-" not in data[:1024]:
        raise LoadError(name, "corrupt PDF: no %PDF header (not a PDF file?)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pypdf warns about every small defect it repairs
        pages, fields = _read(name, data)
    texts: list[str] = []
    blocks: list[Block] = []
    pos = 0
    for number, page_text in enumerate(pages, start=1):
        if not page_text:
            continue
        if texts:
            pos += 2
        blocks += paragraph_blocks(page_text, offset=pos, page=number)
        texts.append(page_text)
        pos += len(page_text)
    if not blocks:
        raise LoadError(name, "no extractable text (scanned PDF?)")
    return "\n\n".join(texts), blocks, fields


def _read(name: str, data: bytes) -> tuple[list[str], dict[str, Any]]:
    from pypdf import PdfReader  # imported on use: keeps `import ingest.loaders` cheap
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # many PDFs only restrict editing, not reading
            except DependencyError as e:
                raise LoadError(name, f"encrypted PDF that cannot be opened ({e})") from None
            if not opened:
                raise LoadError(name, "encrypted PDF (a password is needed to read it)")
        pages = [_clean(page.extract_text() or "") for page in reader.pages]
        fields = _info(reader)
    except LoadError:
        raise
    except Exception as e:  # noqa: BLE001 - pypdf has no single error type for damaged files
        raise LoadError(name, f"corrupt PDF: {e or type(e).__name__}") from None
    return pages, fields


def _info(reader: Any) -> dict[str, Any]:
    """Title, keywords and creation date from the document information dictionary."""
    info = reader.metadata
    if not info:
        return {}
    title = info.title if isinstance(info.title, str) else ""
    if title.strip().lower() in _PLACEHOLDER_TITLES:  # what PDF producers write by default
        title = ""
    keywords = info.get("/Keywords")
    keywords = keywords.get_object() if keywords is not None else None
    fields: dict[str, Any] = {
        "title": title.removeprefix("Microsoft Word - "),
        "tags": keywords if isinstance(keywords, str) else None,
    }
    with suppress(Exception):  # a malformed date string is the producer's problem, not ours
        fields["created"] = info.creation_date
    return fields


def _clean(text: str) -> str:
    """Normalise newlines, drop control characters and trailing spaces pypdf leaves behind."""
    text = _JUNK.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()
