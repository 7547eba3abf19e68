"""Word (.docx): paragraphs and tables in reading order; heading styles become headings.

"Title" and "Heading 1".."Heading 9" styles give the structure the chunker follows, as
Markdown headings do; a table becomes one text block per row, each cell with its header.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingest.document import Document, LoadError
from ingest.loaders._common import assemble, build_meta
from ingest.loaders._office import core_fields, open_office
from ingest.loaders.sheets import row_text

_HEADING_STYLE = re.compile(r"heading\s*(\d)", re.I)


def load(path: Path) -> list[Document]:
    from docx import Document as open_docx  # imported on use: keeps `import ingest` cheap

    doc = open_office(path, "Word", open_docx)
    parts = list(_parts(doc))
    text, blocks = assemble(parts)
    if not blocks:
        raise LoadError(str(path), "no text in this Word file")
    first_heading = next((c for k, c, _ in parts if k == "heading"), "")
    fields = core_fields(doc.core_properties)
    meta = build_meta(path, fields, default_title=first_heading or path.stem)
    return [Document(meta, text, blocks)]


def _parts(doc: Any) -> Iterator[tuple[str, str, int]]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for item in doc.iter_inner_content():
        if isinstance(item, Paragraph):
            level = _heading_level(item)
            yield ("heading" if level else "text", item.text, level)
        elif isinstance(item, Table):
            yield from (("text", row, 0) for row in _table_rows(item))


def _heading_level(paragraph: Any) -> int:
    name = paragraph.style.name if paragraph.style is not None else ""
    if name.lower() == "title":
        return 1
    m = _HEADING_STYLE.match(name)
    return int(m.group(1)) if m else 0


def _table_rows(table: Any) -> list[str]:
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    if len(rows) < 2:
        return [" | ".join(r) for r in rows]
    return [row_text(rows[0], r) for r in rows[1:]]
