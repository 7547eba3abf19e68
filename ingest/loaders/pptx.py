"""PowerPoint (.pptx): each slide's title, text, tables and speaker notes.

The slide number is kept like a PDF page, so a source says "slide 4"; the slide title is a
heading, so chunks never mix two slides and carry the title into their embedding.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingest.document import Block, Document, LoadError
from ingest.loaders._common import build_meta
from ingest.loaders._office import core_fields, open_office
from ingest.loaders.sheets import row_text


def load(path: Path) -> list[Document]:
    from pptx import Presentation

    deck = open_office(path, "PowerPoint", Presentation)
    pieces: list[str] = []
    blocks: list[Block] = []
    pos = 0
    for number, slide in enumerate(deck.slides, start=1):
        for kind, content in _slide_parts(slide):
            content = content.strip()
            if not content:
                continue
            if pieces:
                pos += 2
            level = 1 if kind == "heading" else 0
            blocks.append(Block(kind, pos, pos + len(content), level, number))
            pieces.append(content)
            pos += len(content)
    if not blocks:
        raise LoadError(str(path), "no text in this PowerPoint file")
    first = next((pieces[i] for i, b in enumerate(blocks) if b.kind == "heading"), path.stem)
    meta = build_meta(path, core_fields(deck.core_properties), default_title=first)
    return [Document(meta, "\n\n".join(pieces), blocks)]


def _slide_parts(slide: Any) -> Iterator[tuple[str, str]]:
    title_shape = slide.shapes.title
    title = title_shape.text_frame.text if title_shape is not None else ""
    yield "heading", title
    for shape in slide.shapes:
        if title_shape is not None and shape.shape_id == title_shape.shape_id:
            continue
        yield from _shape_parts(shape)
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        notes = slide.notes_slide.notes_text_frame.text
        if notes.strip():
            yield "text", f"Notes: {notes}"


def _shape_parts(shape: Any) -> Iterator[tuple[str, str]]:
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        for paragraph in shape.text_frame.paragraphs:
            yield "text", "".join(run.text for run in paragraph.runs)
    elif getattr(shape, "has_table", False) and shape.has_table:
        rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
        for row in rows[1:] if len(rows) > 1 else rows:
            yield "text", row_text(rows[0], row) if len(rows) > 1 else " | ".join(row)
    elif shape.shape_type is not None and hasattr(shape, "shapes"):  # a group
        for inner in shape.shapes:
            yield from _shape_parts(inner)
