"""AsciiDoc (`.adoc`, `.asciidoc`): sections, definition lists, code and tables as blocks.

Manuals are written in it (Git's own pages among them), and what people ask of a manual
mostly sits in its definition lists (`--force::` then what the option does): each term
becomes a "term" block followed by its description, as an HTML `<dt>`/`<dd>` would, so the
chunker keeps them together and the reader can answer with the term. The document is read
as Asciidoctor reads it before rendering: `include::` directives are followed (relative to
the file, never outside the document's folder, at most 8 deep and 256 in all), `ifdef` and
`ifndef` are decided on the attributes set so far, and attribute references are replaced.
The text is rebuilt from the blocks without markup.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.document import Document, LoadError
from ingest.loaders._asciidoc_inline import render_inline, substitute
from ingest.loaders._common import assemble, build_meta
from ingest.loaders._encoding import read_any_text
from ingest.loaders.sheets import row_text

log = logging.getLogger(__name__)

MAX_INCLUDE_DEPTH = 8
MAX_INCLUDES = 256  # per document: a page that includes itself twice would double each level
_ATTRIBUTE_ENTRY = re.compile(r"^:(!?)([\w][\w-]*)(!?):(?:[ \t]+(.*))?$")
_CONDITIONAL = re.compile(r"^(ifdef|ifndef|ifeval|endif)::([^\[]*)\[(.*)\]$")
_INCLUDE = re.compile(r"^include::([^\[]+)\[[^\]]*\]$")
_TITLE = re.compile(r"^(={1,6}|#{1,6})[ \t]+(.+?)(?:[ \t]+\1)?$")
_UNDERLINE = re.compile(r"^([=\-~^+])\1+[ \t]*$")
_UNDERLINE_LEVELS = {"=": 1, "-": 2, "~": 3, "^": 4, "+": 5}
_VERBATIM = re.compile(r"^(-{4,}|\.{4,}|/{4,}|\+{4,})[ \t]*$")  # listing, literal, comment, pass
_CONTAINER = re.compile(r"^(={4,}|\*{4,}|_{4,}|--)[ \t]*$")  # example, sidebar, quote, open
_TABLE = re.compile(r"^\|={3,}[ \t]*$")
_BLOCK_ATTRIBUTES = re.compile(r"^\[(.*)\][ \t]*$")
_BLOCK_TITLE = re.compile(r"^\.([^\s.].*)$")
_TERM = re.compile(r"^(?!\s)(.*?[^:;\s])(:{2,4}|;;)(?:[ \t]+(.*))?$")
_LIST_ITEM = re.compile(r"^[ \t]*(?:\*+|-|\.+|\d+\.)[ \t]+(.*)$")
_ADMONITION = re.compile(r"^(NOTE|TIP|IMPORTANT|WARNING|CAUTION):[ \t]+(.*)$")
_VERBATIM_STYLES = {"verse", "synopsis", "literal", "listing", "source"}


def load(path: Path) -> list[Document]:
    text, encoding = read_any_text(path)
    return document(path, text, encoding)


def document(path: Path, text: str, encoding: str) -> list[Document]:
    """The document of AsciiDoc `text`, already read from `path` (a `.txt` file sniffed as
    AsciiDoc by the text loader is not read twice)."""
    parts, attributes = parse(text, path.parent)
    doc_text, blocks = assemble(parts)
    if not blocks:
        raise LoadError(str(path), "no readable text (only markup)")
    first_heading = next((content for kind, content, _ in parts if kind == "heading"), "")
    fields = {k: v for k, v in attributes.items() if k in ("title", "tags", "source", "url")}
    meta = build_meta(path, fields, default_title=first_heading, where="attributes: ")
    return [Document(meta, doc_text, blocks, encoding=encoding)]


def parse(text: str, folder: Path) -> tuple[list[tuple[str, str, int]], dict[str, str]]:
    """Blocks as (kind, content, level) in document order, and the attributes set."""
    parser = _Parser()  # shares the attributes the preprocessor sets, line by line
    includes = _Includes(folder.resolve())
    for line in _preprocessed(text.split("\n"), folder, parser.attributes, includes, 0):
        parser.feed(line)
    parser.end()
    return [p for p in parser.parts if p[1].strip()], parser.attributes


@dataclass
class _Includes:
    """Where a document's includes may be read from, and how many were followed."""

    # The document's own folder: a page cannot pull in a file from outside it (`/etc/passwd`,
    # `../../.ssh/id_rsa`) into the searchable index, as Asciidoctor's safe mode forbids.
    root: Path
    followed: int = 0


def _preprocessed(
    lines: list[str], folder: Path, attributes: dict[str, str], includes: _Includes, depth: int
) -> Iterator[str]:
    """The lines as the parser sees them: includes followed, conditionals decided."""
    skipping: list[bool] = []  # one per open conditional: is its content left out?
    for line in lines:
        if m := _CONDITIONAL.match(line):
            kind, names, content = m.groups()
            if kind == "endif":
                if skipping:
                    skipping.pop()
                continue
            keep = _condition(kind, names, attributes)
            if content and kind != "ifeval":  # the one-line form: ifdef::name[text]
                if keep and not any(skipping):
                    yield content
                continue
            skipping.append(not keep)
            continue
        if any(skipping):
            continue
        if _set_attribute(line, attributes):
            yield line
        elif m := _INCLUDE.match(line):
            target = substitute(m[1], attributes)
            yield from _included(target, folder, attributes, includes, depth)
        else:
            yield line


def _condition(kind: str, names: str, attributes: dict[str, str]) -> bool:
    if kind == "ifeval":
        return True  # expressions are not evaluated: their content is kept
    wanted = [n.strip().lower() for n in re.split(r"[,+]", names) if n.strip()]
    test = all if "+" in names else any
    defined = test(n in attributes for n in wanted)
    return defined if kind == "ifdef" else not defined


def _set_attribute(line: str, attributes: dict[str, str]) -> bool:
    m = _ATTRIBUTE_ENTRY.match(line)
    if not m:
        return False
    unset, name, unset_after, value = m.groups()
    if unset or unset_after:
        attributes.pop(name.lower(), None)
    else:
        attributes[name.lower()] = substitute(value or "", attributes)
    return True


def _included(
    target: str, folder: Path, attributes: dict[str, str], includes: _Includes, depth: int
) -> Iterator[str]:
    path = (folder / target).resolve()
    if depth >= MAX_INCLUDE_DEPTH or includes.followed >= MAX_INCLUDES or "{" in target:
        log.warning(
            "include not followed (too deep, too many, or an unknown attribute): %s", target
        )
        return
    if not path.is_relative_to(includes.root):
        log.warning("include not followed: %s is outside the document's folder", target)
        return
    try:
        text, _ = read_any_text(path)
    except LoadError as e:
        log.warning("include not followed: %s", e)
        return
    includes.followed += 1
    yield from _preprocessed(text.split("\n"), path.parent, attributes, includes, depth + 1)


class _Parser:
    """Reads preprocessed lines one at a time into (kind, content, level) parts."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, str, int]] = []
        self.attributes: dict[str, str] = {}
        self.para: list[str] = []
        self.terms: list[str] = []  # stacked terms (`-f::` then `--force::`) not yet written
        self.verbatim: tuple[str, list[str]] | None = None  # (delimiter, lines)
        self.table: list[str] | None = None
        self.literal = False  # an indented paragraph: kept as written
        self.style = ""  # the next block's style, from a `[verse]`-like line
        self.header = False  # the next table's first row names its columns

    def feed(self, line: str) -> None:
        if self.verbatim is not None:
            self._in_verbatim(line)
        elif self.table is not None:
            self._in_table(line)
        elif not line.strip():
            self._flush()
        elif self.literal or (self.para and self.style in _VERBATIM_STYLES):
            self.para.append(line)
        else:
            self._line(line)

    def end(self) -> None:
        if self.verbatim is not None:  # an unclosed block runs to the end
            self._in_verbatim(self.verbatim[0])
        if self.table is not None:
            self._in_table("|===")
        self._flush()
        self._write_terms()

    def _line(self, line: str) -> None:
        stripped = line.strip()
        if stripped.startswith("//") and not stripped.startswith("////"):
            return  # a comment line
        if _ATTRIBUTE_ENTRY.match(line):
            return  # set by the preprocessor, which reads every line first
        if self.para and len(self.para) == 1 and (m := _UNDERLINE.match(line)):
            title = self.para[0]
            if abs(len(stripped) - len(title)) <= 2 and not _LIST_ITEM.match(title):
                self.para.clear()
                self._heading(title, _UNDERLINE_LEVELS[m[1]])
                return
        if m := _VERBATIM.match(line):
            self._flush()
            self.verbatim = (m[1], [])
        elif _CONTAINER.match(line) or stripped == "+":
            self._flush()  # a container's content and a list continuation read on
        elif _TABLE.match(line):
            self._flush()
            self.table = []
        elif (m := _BLOCK_ATTRIBUTES.match(line)) and not self.para:
            self._block_attributes(m[1])
        elif (m := _TITLE.match(line)) and not self.para:
            self._heading(m[2], len(m[1]))
        elif (m := _BLOCK_TITLE.match(line)) and not self.para:
            self.parts.append(("text", self._render(m[1]), 0))
        elif (m := _TERM.match(line)) and not _is_macro(line):
            self._flush()
            self.terms.append(self._render(m[1]))
            if m[3]:
                self._write_terms()
                self.para.append(m[3])
        elif self.terms:
            self._write_terms()
            self.para.append(stripped)  # a description may be indented
        elif not self.para and line[:1].isspace() and not _LIST_ITEM.match(line):
            self._write_terms()
            self.literal = True
            self.para.append(line)
        elif m := _ADMONITION.match(line):
            self._flush()
            self.para.append(f"{m[1].capitalize()}: {m[2]}")
        elif m := _LIST_ITEM.match(line):
            self.para.append(f"- {m[1]}")
        elif self.para and self.para[-1].startswith("- "):
            self.para[-1] += f" {stripped}"  # an item's wrapped line: one item, one line
        else:
            self.para.append(stripped)

    def _heading(self, title: str, level: int) -> None:
        self._flush()
        self._write_terms()
        self.parts.append(("heading", self._render(title), level))

    def _block_attributes(self, spec: str) -> None:
        if spec.startswith(("[", "#")) or not spec:  # an anchor: nothing to read
            return
        first = spec.split(",")[0].strip().strip('"').lower()
        self.style = first.split("%")[0].split("#")[0].split(".")[0]
        self.header = "header" in spec

    def _in_verbatim(self, line: str) -> None:
        assert self.verbatim is not None
        delimiter, lines = self.verbatim
        if line.rstrip() != delimiter:
            lines.append(line)
            return
        self.verbatim = None
        if delimiter[0] in "-." and lines:  # listing and literal; comments and passthroughs go
            self._write_terms()
            self.parts.append(("code", "\n".join(lines).strip("\n").rstrip(), 0))
        self.style = ""

    def _in_table(self, line: str) -> None:
        assert self.table is not None
        if not _TABLE.match(line):
            self.table.append(line)
            return
        rows, self.table = self.table, None
        self._write_terms()
        for row in _table_rows(rows, self.header):
            self.parts.append(("text", self._render(row), 0))
        self.style, self.header = "", False

    def _write_terms(self) -> None:
        if self.terms:
            self.parts.append(("term", ", ".join(self.terms), 0))
            self.terms = []

    def _flush(self) -> None:
        if self.para:
            if self.literal or self.style in _VERBATIM_STYLES:
                self.parts.append(("code", _dedented(self.para), 0))
            else:
                text = "\n".join(self._render(ln) for ln in self.para)
                self.parts.append(("text", text, 0))
            self.para, self.literal, self.style = [], False, ""

    def _render(self, line: str) -> str:
        return render_inline(line, self.attributes).strip()


def _is_macro(line: str) -> bool:
    """`image::logo.png[]`, `toc::[]`: a block macro, not a term."""
    return re.match(r"^\w+::\S*\[.*\]$", line) is not None


def _dedented(lines: list[str]) -> str:
    indents = [len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()]
    cut = min(indents, default=0)
    return "\n".join(ln[cut:].rstrip() for ln in lines).strip("\n")


def _table_rows(lines: list[str], header: bool) -> Iterator[str]:
    """Each row as "Header: value; ..." (or the cells alone without a header row)."""
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        return
    columns = len(_cells(lines[first]))
    # A first line followed by a blank line names the columns (Asciidoctor's implicit header).
    header = header or (first + 1 < len(lines) and not lines[first + 1].strip())
    cells = _cells("\n".join(lines[first:]))
    if columns == 0:
        return
    rows = [cells[i : i + columns] for i in range(0, len(cells), columns)]
    names = rows.pop(0) if header and rows else []
    for row in rows:
        yield row_text(names, row) if names else "; ".join(c for c in row if c)


def _cells(text: str) -> list[str]:
    """Cells open at each unescaped `|`; a span or repeat spec before one (`2+|`) is dropped."""
    pieces = re.split(r"(?<!\\)\|", text)
    return [" ".join(re.sub(r"(?:^|\s)\d+(?:\.\d+)?[+*]$", "", p).split()) for p in pieces[1:]]


_SIGNS = (
    re.compile(r"^\S.*(?:::|;;)$", re.M),  # a definition list's term
    re.compile(r"linkgit:|include::|ifn?def::|xref:|<<[\w-]+(?:,[^>]*)?>>|link:\S+\["),
    re.compile(r"^:[\w-]+:", re.M),  # an attribute entry
    re.compile(r"^[^\n]+\n=+[ \t]*$|^=+ \S", re.M),  # a document title
    re.compile(r"^-{4,}[ \t]*$(?s:.*?)^-{4,}[ \t]*$", re.M),  # a listing block
)


def looks_like_asciidoc(text: str) -> bool:
    """A `.txt` file written in AsciiDoc (older Git pages are): two kinds of its markup."""
    sample = text[:65536]
    return sum(1 for sign in _SIGNS if sign.search(sample)) >= 2
