"""AsciiDoc manuals read as their rendered pages read: definition lists as terms with their
descriptions, includes followed, conditionals decided, markup gone, code kept as written."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ingest.document import Document, LoadError
from ingest.loaders import load_path
from ingest.pipeline import IngestPipeline
from retrieval.engine import QAEngine
from retrieval.settings import Settings

PAGE = """\
sync-tool(1)
============
:plus: +
:product: sync-tool

NAME
----
sync-tool - copy a folder to a remote host

SYNOPSIS
--------
[synopsis]
sync-tool [--dry-run | -n] [--delete]
\t[--] <source> <destination>

DESCRIPTION
-----------
{product} copies what changed since the last run. Run it like this:

   sync-tool ~/photos backup:/photos

See linkgit:sync-config[5] for ``remote names'' and <<RULES,the matching rules>>.

// a maintainer's note, never rendered

OPTIONS
-------
`-n`::
`--dry-run`::
\tShow what would be copied, without copying anything. Nothing on the
\t*remote* host is 'touched'.
+
The list is printed with a "{plus}" before each file.

include::common-options.adoc[]

ifdef::with-cloud[]
--cloud-region::
\tThe cloud region to copy to.
endif::with-cloud[]
ifndef::with-cloud[]
This build copies to hosts only.
endif::with-cloud[]

include::missing-file.adoc[]

EXAMPLES
--------
* Copies every ++*.jpg++ file under `photos`
  and its subfolders:
+
----
$ sync-tool photos/\\*.jpg backup:/photos
----

[[RULES]]
MATCHING RULES
--------------
[cols="1,2",options="header"]
|===
|Pattern |Matches
|`*.jpg` |every JPEG file
|`photos/` |the folder and all below it
|===

NOTE: Patterns are matched against the path from the source folder.
"""

COMMON = """\
`--delete`::
\tDelete files on the destination that are gone from the source.
"""


@pytest.fixture()
def manual(tmp_path: Path) -> Path:
    (tmp_path / "common-options.adoc").write_text(COMMON, encoding="utf-8")
    page = tmp_path / "sync-tool.adoc"
    page.write_text(PAGE, encoding="utf-8")
    return page


def _one(path: Path) -> Document:
    docs = list(load_path(path))
    assert len(docs) == 1
    return docs[0]


def _blocks(doc: Document) -> list[tuple[str, str]]:
    return [(b.kind, doc.text[b.start : b.end]) for b in doc.blocks]


def test_a_definition_list_becomes_terms_each_followed_by_its_description(manual: Path) -> None:
    blocks = _blocks(_one(manual))
    at = blocks.index(("term", "-n, --dry-run"))
    assert blocks[at + 1] == (
        "text",
        "Show what would be copied, without copying anything. Nothing on the\n"
        "remote host is touched.",
    )
    assert blocks[at + 2] == ("text", 'The list is printed with a "+" before each file.')
    assert ("term", "--delete") in blocks  # from the included file, in its place
    assert blocks.index(("term", "--delete")) > at


def test_sections_code_and_tables_read_as_the_rendered_page(manual: Path) -> None:
    doc = _one(manual)
    blocks = _blocks(doc)
    assert doc.meta.title == "sync-tool(1)"
    assert ("heading", "OPTIONS") in blocks and ("heading", "MATCHING RULES") in blocks
    assert ("code", "sync-tool ~/photos backup:/photos") in blocks  # an indented literal
    assert ("code", "$ sync-tool photos/\\*.jpg backup:/photos") in blocks  # a listing
    assert ("code", "sync-tool [--dry-run | -n] [--delete]\n\t[--] <source> <destination>") in (
        blocks
    )
    assert ("text", "Pattern: *.jpg; Matches: every JPEG file") in blocks
    assert ("text", "Note: Patterns are matched against the path from the source folder.") in (
        blocks
    )
    assert (
        "text",
        "- Copies every *.jpg file under photos and its subfolders:",
    ) in blocks
    text = doc.text
    assert "sync-tool copies what changed" in text  # an attribute reference replaced
    assert 'sync-config(5) for "remote names" and the matching rules.' in text
    assert "maintainer" not in text and "::" not in text and "`" not in text


def test_conditionals_follow_the_attributes_and_a_missing_include_is_skipped(
    manual: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        text = _one(manual).text
    assert "This build copies to hosts only." in text and "cloud region" not in text
    assert "missing-file.adoc" in caplog.text


def test_an_include_that_includes_itself_ends(tmp_path: Path) -> None:
    page = tmp_path / "loop.adoc"
    page.write_text("= Loop\n\nOnce.\n\ninclude::loop.adoc[]\n", encoding="utf-8")
    assert _one(page).text.count("Once.") == 9  # the page and 8 levels of includes


def test_an_include_outside_the_document_s_folder_is_never_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password: hunter2\n", encoding="utf-8")
    folder = tmp_path / "docs"
    folder.mkdir()
    page = folder / "page.adoc"
    page.write_text(
        f"= Page\n\nPublic text.\n\ninclude::../secret.txt[]\n\ninclude::{secret}[]\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        text = _one(page).text
    assert "Public text." in text and "hunter2" not in text
    assert caplog.text.count("outside the document's folder") == 2


def test_includes_that_multiply_stop_at_a_bound(tmp_path: Path) -> None:
    page = tmp_path / "fan.adoc"
    page.write_text("= Fan\n\nOnce.\n\n" + "include::fan.adoc[]\n\n" * 3, encoding="utf-8")
    assert _one(page).text.count("Once.") == 257  # the page and 256 includes, not 3**8


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"// only a comment\n:attr: value\n", "no readable text"),
        (b"= Title\x00\x00\x00 binary", "binary content"),
        (b"", "empty file"),
    ],
)
def test_a_page_with_nothing_to_read_is_refused_with_its_reason(
    tmp_path: Path, body: bytes, reason: str
) -> None:
    page = tmp_path / "broken.adoc"
    page.write_bytes(body)
    with pytest.raises(LoadError, match=reason):
        _one(page)


def test_a_txt_file_written_in_asciidoc_is_read_as_asciidoc(tmp_path: Path) -> None:
    page = tmp_path / "sync-tool.txt"
    page.write_text(PAGE.replace("include::common-options.adoc[]", ""), encoding="utf-8")
    assert ("term", "-n, --dry-run") in _blocks(_one(page))
    plain = tmp_path / "notes.txt"
    plain.write_text("Meeting notes\n\nWe agreed: ship on *Friday*.\n", encoding="utf-8")
    assert _one(plain).text == "Meeting notes\n\nWe agreed: ship on *Friday*.\n"


def test_a_question_about_what_an_option_does_is_answered_by_the_option(
    settings: Settings, pipeline: IngestPipeline, embedder, manual: Path
) -> None:
    assert not pipeline.run([manual]).failed
    engine = QAEngine(settings.with_(reader="sentence"), embedder=embedder)
    answer = engine.ask("How can I see what would be copied without copying anything?")
    assert answer.answer == "-n, --dry-run"
    assert answer.context["text"].startswith("-n, --dry-run\n\nShow what would be copied")
