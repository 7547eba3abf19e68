"""JSON Lines: one document per line, `{"text": ..., "title": ..., "tags": [...], ...}`.

Fields: `text` (required, a non-empty string) and optional `id`, `title`, `source`, `tags`
(list or comma-separated string), `url`, `date`/`created`, `modified`. Blank lines are
skipped. The file is all or nothing: one bad line (invalid JSON, not an object, missing
or empty `text`, a bad field, a repeated id) fails the whole file with a LoadError that
names the line, so a half-ingested export never goes unnoticed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingest.document import Document, LoadError, doc_id_for, paragraph_blocks
from ingest.loaders._common import build_meta, read_text


def load(path: Path) -> list[Document]:
    docs: list[Document] = []
    first_line: dict[str, int] = {}
    for line_no, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        record = _record(path, line, line_no)
        doc_id = _doc_id(path, record, line_no)
        if doc_id in first_line:
            first = first_line[doc_id]
            raise LoadError(
                str(path), f"line {line_no}: duplicate id {doc_id!r} (first on line {first})"
            )
        first_line[doc_id] = line_no
        where = f"line {line_no}: "
        meta = build_meta(path, record, default_title="", doc_id=doc_id, where=where)
        text = record["text"]
        docs.append(Document(meta, text, paragraph_blocks(text)))
    if not docs:
        raise LoadError(str(path), "empty file")
    return docs


def _record(path: Path, line: str, line_no: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise LoadError(
            str(path), f"line {line_no}: not valid JSON ({e.msg} at column {e.colno})"
        ) from None
    except RecursionError:
        raise LoadError(str(path), f"line {line_no}: JSON nested too deeply") from None
    if not isinstance(record, dict):
        raise LoadError(str(path), f"line {line_no}: expected a JSON object, not {_kind(record)}")
    record = {str(k).lower(): v for k, v in record.items()}
    text = record.get("text")
    if text is None:
        raise LoadError(str(path), f"line {line_no}: missing 'text'")
    if not isinstance(text, str) or not text.strip():
        raise LoadError(str(path), f"line {line_no}: 'text' must be a non-empty string")
    record["text"] = text.replace("\r\n", "\n").replace("\r", "\n")
    return record


def _doc_id(path: Path, record: dict[str, Any], line_no: int) -> str:
    """The record's own id when it has one, so re-exports keep ids stable; else file#line."""
    value = record.get("id")
    if value is None or value == "":
        return doc_id_for(f"{path.resolve()}#{line_no}")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise LoadError(str(path), f"line {line_no}: 'id' must be a string or an integer")
    return str(value).strip() or doc_id_for(f"{path.resolve()}#{line_no}")


def _kind(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
