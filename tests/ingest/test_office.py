"""Office files built with the same libraries users' files come from: structure survives."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from ingest.chunker import Chunker
from ingest.document import Document, LoadError
from ingest.loaders import iter_files, load_path
from ingest.pipeline import IngestPipeline


def _one(path: Path) -> Document:
    docs = list(load_path(path))
    assert len(docs) == 1
    for b in docs[0].blocks:
        assert 0 <= b.start < b.end <= len(docs[0].text)
    return docs[0]


def _blocks(doc: Document, kind: str) -> list[str]:
    return [doc.text[b.start : b.end] for b in doc.blocks if b.kind == kind]


def make_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.core_properties.title = "Travel policy"
    d.core_properties.keywords = "hr, travel"
    d.add_heading("Travel policy", level=1)
    d.add_paragraph("Book trains for trips under four hours.")
    d.add_heading("Expenses", level=2)
    d.add_paragraph("Receipts are due within 30 days of the trip.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Item", "Limit"
    table.cell(1, 0).text, table.cell(1, 1).text = "Hotel", "180 EUR per night"
    d.save(path)
    return path


def make_pptx(path: Path) -> Path:
    from pptx import Presentation

    deck = Presentation()
    for title, body, notes in [
        ("Roadmap", "Ship search in March.", "Mention the beta users."),
        ("Hiring", "Two engineers join in April.", ""),
    ]:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text_frame.text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    deck.save(path)
    return path


def make_xlsx(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Laptops"
    sheet.append(["Model", "RAM", "Bought"])
    sheet.append(["ThinkPad X1", 32, dt.datetime(2024, 5, 1)])
    sheet.append(["MacBook Air", 16, None])
    other = book.create_sheet("Phones")
    other.append(["Model", "Owner"])
    other.append(["Pixel 8", "Ana"])
    book.save(path)
    return path


def test_docx_headings_become_heading_blocks_and_tables_pair_cells_with_headers(tmp_path):
    doc = _one(make_docx(tmp_path / "travel.docx"))
    assert _blocks(doc, "heading") == ["Travel policy", "Expenses"]
    assert [b.level for b in doc.blocks if b.kind == "heading"] == [1, 2]
    assert "Item: Hotel; Limit: 180 EUR per night" in _blocks(doc, "text")
    assert doc.meta.title == "Travel policy"
    assert doc.meta.tags == ("hr", "travel")


def test_docx_chunks_carry_their_heading_path(tmp_path, embedder):
    doc = _one(make_docx(tmp_path / "travel.docx"))
    chunks = Chunker(200, 32, embedder.max_tokens, embedder.count_tokens).chunk(doc)
    receipts = next(c for c in chunks if "Receipts" in c.text)
    assert receipts.headings == ("Travel policy", "Expenses")


def test_pptx_keeps_slide_titles_text_notes_and_slide_numbers(tmp_path):
    doc = _one(make_pptx(tmp_path / "plan.pptx"))
    assert _blocks(doc, "heading") == ["Roadmap", "Hiring"]
    pages = {doc.text[b.start : b.end]: b.page for b in doc.blocks}
    assert pages["Ship search in March."] == 1
    assert pages["Notes: Mention the beta users."] == 1
    assert pages["Two engineers join in April."] == 2
    assert doc.meta.title == "Roadmap"


def test_xlsx_rows_read_with_column_headers_under_their_sheet_name(tmp_path):
    doc = _one(make_xlsx(tmp_path / "assets.xlsx"))
    assert _blocks(doc, "heading") == ["Laptops", "Phones"]
    rows = _blocks(doc, "text")
    assert "Model: ThinkPad X1; RAM: 32; Bought: 2024-05-01" in rows
    assert "Model: MacBook Air; RAM: 16" in rows
    assert "Model: Pixel 8; Owner: Ana" in rows


def test_csv_rows_read_with_column_headers_whatever_the_delimiter(tmp_path):
    path = tmp_path / "oncall.csv"
    path.write_text("week;engineer;phone\n12;Bob;555-0101\n13;;555-0102\n", encoding="utf-8")
    doc = _one(path)
    assert _blocks(doc, "text") == [
        "week: 12; engineer: Bob; phone: 555-0101",
        "week: 13; phone: 555-0102",
    ]
    assert doc.meta.title == "oncall"


def test_password_protected_office_file_is_reported_by_name(tmp_path):
    import msoffcrypto
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = make_docx(tmp_path / "plain.docx")
    locked = tmp_path / "locked.docx"
    encrypted = io.BytesIO()
    with plain.open("rb") as f:
        OOXMLFile(f).encrypt("s3cret", encrypted)
    locked.write_bytes(encrypted.getvalue())
    assert msoffcrypto.olefile.isOleFile(str(locked))
    with pytest.raises(LoadError, match="password-protected") as e:
        load_path(locked)
    assert e.value.path == str(locked)


@pytest.mark.parametrize("suffix", [".docx", ".pptx", ".xlsx"])
def test_corrupt_office_files_are_load_errors(tmp_path, suffix):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive at all")
    with pytest.raises(LoadError, match="corrupt"):
        load_path(path)


def test_folder_of_office_files_ingests_the_good_ones_and_names_the_bad(
    tmp_path, pipeline: IngestPipeline
):
    folder = tmp_path / "office"
    folder.mkdir()
    make_docx(folder / "travel.docx")
    make_pptx(folder / "plan.pptx")
    make_xlsx(folder / "assets.xlsx")
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04garbage")
    assert len(list(iter_files([folder]))) == 4
    report = pipeline.run([folder])
    assert report.new == 3
    assert [Path(p).name for p, _ in report.failed] == ["broken.xlsx"]
    again = pipeline.run([folder])
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)


@pytest.mark.parametrize("reader", ["sentence", "trained"])
def test_a_spreadsheet_row_answers_like_prose(
    tmp_path, pipeline: IngestPipeline, settings, embedder, reader
):
    from retrieval.engine import QAEngine

    path = tmp_path / "rooms.csv"
    path.write_text(
        "room,floor,seats\nBorealis,3,40\nAustralis,2,12\nZenith,5,8\n", encoding="utf-8"
    )
    pipeline.run([path])
    engine = QAEngine(settings.with_(reader=reader), embedder=embedder)
    answer = engine.ask("How many seats does the Borealis room have?", min_confidence=0.0)
    assert answer.reason is None and "40" in answer.answer
    assert "Borealis" in answer.to_dict()["context"]["text"]
