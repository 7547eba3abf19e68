"""Spreadsheets (.xlsx, .csv): each row as a line of "Header: value" pairs.

A row alone ("42, yes, 2024") answers nothing; with its column headers it reads as a fact.
Each sheet is a heading, so a chunk keeps its sheet name and never mixes two sheets.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ingest.document import Document, LoadError
from ingest.loaders._common import assemble, build_meta
from ingest.loaders._encoding import read_any_text
from ingest.loaders._office import core_fields, open_office

MAX_ROWS = 100_000  # per sheet: a data dump is not documentation


def load(path: Path) -> list[Document]:
    if path.suffix.lower() == ".csv":
        return _load_csv(path)
    return _load_xlsx(path)


def row_text(headers: Sequence[Any], row: Sequence[Any]) -> str:
    """ "Header: value; ..." for the row's non-empty cells (unnamed columns by letter)."""
    pairs = []
    for i, value in enumerate(row):
        cell = _cell(value)
        if not cell:
            continue
        header = _cell(headers[i]) if i < len(headers) else ""
        pairs.append(f"{header or _column(i)}: {cell}")
    return "; ".join(pairs)


def _load_csv(path: Path) -> list[Document]:
    text, encoding = read_any_text(path)
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(text.splitlines(), dialect))
    except csv.Error as e:
        raise LoadError(str(path), f"cannot parse CSV ({e})") from None
    doc_text, blocks = assemble(_rows_parts(rows))
    if not blocks:
        raise LoadError(str(path), "no rows with values in this CSV file")
    meta = build_meta(path, {}, default_title=path.stem)
    return [Document(meta, doc_text, blocks, encoding=encoding)]


def _load_xlsx(path: Path) -> list[Document]:
    from openpyxl import load_workbook

    book = open_office(path, "Excel", lambda f: load_workbook(f, read_only=True, data_only=True))
    try:
        parts: list[tuple[str, str, int]] = []
        for sheet in book.worksheets:
            rows = list(_limited(sheet.iter_rows(values_only=True)))
            body = list(_rows_parts(rows))
            if body:
                parts += [("heading", sheet.title, 1), *body]
        fields = core_fields(book.properties)
    finally:
        book.close()
    doc_text, blocks = assemble(parts)
    if not blocks:
        raise LoadError(str(path), "no cells with values in this Excel file")
    return [Document(build_meta(path, fields, default_title=path.stem), doc_text, blocks)]


def _rows_parts(rows: Sequence[Sequence[Any]]) -> Iterator[tuple[str, str, int]]:
    """The first row with values is the header row; every later row becomes a text block."""
    filled = [r for r in rows if any(_cell(v) for v in r)]
    if not filled:
        return
    headers, body = filled[0], filled[1:]
    if not body:  # a single row: nothing to pair it with
        yield "text", " | ".join(_cell(v) for v in headers if _cell(v)), 0
    for row in body:
        yield "text", row_text(headers, row), 0


def _limited(rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    for n, row in enumerate(rows):
        if n >= MAX_ROWS:
            return
        yield row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        value = value.date()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _column(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        name = chr(65 + rem) + name
    return f"column {name}"
