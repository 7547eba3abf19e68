"""Markdown: front matter as metadata, headings and fenced code as blocks, prose de-marked.

The document text is rebuilt from the blocks (joined by blank lines) rather than kept
verbatim, so answers read naturally: no `#` marks, fences, `**`, link targets or `>`.
Code blocks keep their content verbatim.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ingest.document import Document, LoadError
from ingest.loaders._common import assemble, build_meta
from ingest.loaders._encoding import read_any_text
from ingest.loaders._markdown_inline import render_inline as _inline

_FRONT = re.compile(r"---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LINK_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*\S+")
_QUOTE = re.compile(r"^ {0,3}>[ \t]?")


def load(path: Path) -> list[Document]:
    text, encoding = read_any_text(path)
    fields, body = _front_matter(path, text)
    parts = _parse(body)
    doc_text, blocks = assemble(parts)
    if not blocks:
        where = "after the front matter" if body is not text else "(only markup)"
        raise LoadError(str(path), f"no readable text {where}")
    first_heading = next((content for kind, content, _ in parts if kind == "heading"), "")
    meta = build_meta(path, fields, default_title=first_heading, where="front matter: ")
    return [Document(meta, doc_text, blocks, encoding=encoding)]


def _front_matter(path: Path, text: str) -> tuple[dict[str, Any], str]:
    """Split off YAML front matter; a broken one is an error, not silently text."""
    if not re.match(r"---[ \t]*\n", text):
        return {}, text
    m = _FRONT.match(text)
    if not m:
        raise LoadError(str(path), "front matter is not closed (no '---' line after the first)")
    try:
        data = yaml.safe_load(m.group(1) or "")
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise LoadError(str(path), f"malformed front matter: {problem}{where}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LoadError(str(path), "malformed front matter: expected 'key: value' lines")
    return {str(k).lower(): v for k, v in data.items()}, text[m.end() :]


def _parse(body: str) -> list[tuple[str, str, int]]:
    """Blocks as (kind, content, level) in document order."""
    parts: list[tuple[str, str, int]] = []
    para: list[str] = []
    fence: tuple[str, int, str] | None = None  # (char, length, indent)
    code: list[str] = []
    in_comment = False

    def flush() -> None:
        if para:
            parts.append(("text", "\n".join(_inline(ln) for ln in para).strip(), 0))
            para.clear()

    for raw in body.split("\n"):
        if fence:
            char, length, indent = fence
            if re.match(rf"^ {{0,3}}{re.escape(char)}{{{length},}}[ \t]*$", raw):
                parts.append(("code", "\n".join(code).strip("\n").rstrip(), 0))
                fence, code = None, []
            else:
                code.append(re.sub(rf"^ {{0,{len(indent)}}}", "", raw))
            continue
        if in_comment or (not para and raw.lstrip().startswith("<!--") and "-->" not in raw):
            in_comment = "-->" not in raw
            continue
        line = raw
        while _QUOTE.match(line):
            line = _QUOTE.sub("", line, count=1)
        if m := _FENCE.match(line):
            if m.group(2)[0] == "`" and "`" in m.group(3):
                para.append(line)  # not a fence: a code span at the start of a line
                continue
            flush()
            fence = (m.group(2)[0], len(m.group(2)), m.group(1))
        elif not line.strip():
            flush()
        elif m := _ATX.match(line):
            flush()
            parts.append(("heading", _inline(m.group(2) or "").strip(), len(m.group(1))))
        elif para and (m := _SETEXT.match(line)):
            heading = " ".join(_inline(ln).strip() for ln in para)
            para.clear()
            parts.append(("heading", heading, 1 if m.group(1)[0] == "=" else 2))
        elif _BREAK.match(line):
            flush()
        elif not (_LINK_DEF.match(line) and not para):
            para.append(line)
    if fence:  # an unclosed fence runs to the end of the document
        parts.append(("code", "\n".join(code).strip("\n").rstrip(), 0))
    flush()
    return [p for p in parts if p[1].strip()]
