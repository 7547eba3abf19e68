"""HTML: the page's main content only, without scripts, navigation, headers or footers.

Block elements become blocks (h1-h6 headings, pre code, a definition list's term a "term"
block that the chunker keeps with its description, the rest text) and the document text is
those blocks joined by blank lines, so every offset is exact. What is main content is
`html_main`'s call.
"""

from __future__ import annotations

import re
import warnings
from contextlib import suppress
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag

from ingest.document import Block, Document, LoadError, NotContent
from ingest.loaders._common import assemble, build_meta, decode_text, parse_time, read_bytes
from ingest.loaders._encoding import decode_any
from ingest.loaders.html_main import is_kept, kept_lines, main_content, without_footer_lines

_DROP = frozenset(
    (
        "script",
        "style",
        "nav",
        "header",
        "footer",
        "aside",
        "noscript",
        "form",
        "svg",
        "template",
        "head",
        "iframe",
        "object",
        "embed",
        "canvas",
        "button",
        "select",
        "textarea",
        "math",
    )
)
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_BLOCKS = _HEADINGS | frozenset(
    (
        "address",
        "article",
        "blockquote",
        "body",
        "caption",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "hr",
        "html",
        "li",
        "main",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    )
)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_DATE_NAMES = ("date", "dc.date", "dcterms.created", "article:published_time")


def load(path: Path) -> list[Document]:
    data = read_bytes(path)
    soup, encoding = parse_soup_encoded(str(path), data)
    fields, doc_text, blocks = extract(str(path), soup)
    if not str(fields.get("url") or "").lower().startswith(("http://", "https://")):
        # A file's relative or file: canonical link opens nowhere but on the build machine:
        # the file is shown by QA_SOURCE_URLS or its path instead.
        fields.pop("url", None)
    meta = build_meta(path, fields, default_title="")
    return [Document(meta, doc_text, blocks, encoding=encoding)]


def parse_html(name: str, data: bytes) -> tuple[dict[str, Any], str, list[Block]]:
    """Metadata fields, readable text and blocks of an HTML page (a file or a fetched URL)."""
    return extract(name, parse_soup(name, data))


def extract(name: str, soup: BeautifulSoup) -> tuple[dict[str, Any], str, list[Block]]:
    """What `parse_html` returns, from an already parsed page. It prunes `soup` in place: a
    crawler takes the page's links first."""
    fields = _head_fields(soup)
    had_text = bool(re.search(r"\w", (soup.body or soup).get_text()))
    region, marked = main_content(soup)
    parts = _parts(region)
    if not marked and parts:
        kept = kept_lines(region)
        if kept is not None:
            joined = "".join(kept)
            parts = [p for p in parts if p[0] in ("heading", "code") or is_kept(p[1], joined)]
        parts = without_footer_lines(parts)
    doc_text, blocks = assemble(_without_empty_headings(parts))
    if not blocks and had_text:
        raise NotContent(name, "only navigation (links to other pages), no text of its own")
    if not blocks:
        raise LoadError(name, "no readable text (only scripts, navigation or markup)")
    return fields, doc_text, blocks


def _without_empty_headings(parts: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """Headings with nothing under them before the next heading of their level or above
    (what was left of a navigation box) go; they would name the sections that follow."""
    # One pass from the end: for each level, whether text comes before the next heading of
    # that level or above (linear, however many headings a page has).
    text_follows = dict.fromkeys(range(1, 7), False)
    keep = [True] * len(parts)
    for i in range(len(parts) - 1, -1, -1):
        kind, _, level = parts[i]
        if kind != "heading":
            text_follows = dict.fromkeys(text_follows, True)
            continue
        keep[i] = text_follows[min(max(level, 1), 6)]
        for lvl in range(min(max(level, 1), 6), 7):
            text_follows[lvl] = False
    return [p for p, k in zip(parts, keep, strict=True) if k]


def parse_soup(name: str, data: bytes) -> BeautifulSoup:
    """The page's tree; its text decoded as UTF-8 if valid, else as the page declares, else
    as the bytes suggest."""
    return parse_soup_encoded(name, data)[0]


def parse_soup_encoded(name: str, data: bytes) -> tuple[BeautifulSoup, str]:
    """`parse_soup`, and the encoding it read the page in."""
    declared = None
    try:
        text, encoding = decode_text(name, data), "utf-8"
    except LoadError:
        declared = _CHARSET.search(data[:4096])
        if not declared:
            text, encoding = decode_any(name, data)
        else:
            encoding = declared.group(1).decode("ascii")
            text = decode_text(name, data, encoding)
    return _soup(name, text), encoding if declared is None else ""


def _soup(name: str, text: str) -> BeautifulSoup:
    if not re.search(r"<[A-Za-z!/]", text):
        raise LoadError(name, "not HTML (no tags found)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4 warns about XHTML and file-name-like markup
        try:
            return BeautifulSoup(text, "lxml")
        except Exception as e:  # noqa: BLE001 - bs4 raises ParserRejectedMarkup and friends
            raise LoadError(name, f"cannot parse HTML ({e})") from None


def _head_fields(soup: BeautifulSoup) -> dict[str, Any]:
    """Title, tags, url and date from <title>, the first <h1> and <meta>/<link> tags."""
    fields: dict[str, Any] = {}
    for tag in (soup.title, soup.find("h1")):
        if tag and clean_heading(tag.get_text(" ", strip=True)):
            fields["title"] = clean_heading(tag.get_text(" ", strip=True))
            break
    for meta in soup.find_all("meta"):
        name = str(meta.get("name") or meta.get("property") or "").lower()
        content = str(meta.get("content") or "").strip()
        if name == "keywords" and content:
            fields["tags"] = content
        elif name == "og:url" and content:
            fields.setdefault("url", content)
        elif name in _DATE_NAMES and content and "created" not in fields:
            with suppress(ValueError):  # a page's broken date is no reason to drop the page
                fields["created"] = parse_time(content)
    canonical = soup.find("link", rel="canonical", href=True)
    if canonical:
        fields["url"] = str(canonical["href"])
    return fields


_PILCROWS = re.compile(r"\s*[¶§🔗]+\s*$")
_DOUBLED_NUMBER = re.compile(r"^((?:\d+\.)*\d+\.?)\s+\1\s+")


def clean_heading(text: str) -> str:
    """A heading or title as people read it: no trailing permalink sign ("Intro¶") and one
    section number, not two ("1. 1. Intro", a numbered list around a numbered heading)."""
    text = " ".join(_PILCROWS.sub("", text).split())
    return _DOUBLED_NUMBER.sub(r"\1 ", text)


def _parts(soup: Tag) -> list[tuple[str, str, int]]:
    """Walk the tree without recursion (pages can nest deeply), cutting at block elements."""
    parts: list[tuple[str, str, int]] = []
    buf: list[str] = []
    kinds: list[tuple[str, int]] = [("text", 0)]

    def flush() -> None:
        kind, level = kinds[-1]
        raw = "".join(buf)
        buf.clear()
        if kind == "code":
            content = raw.strip("\n").rstrip()
        elif kind == "heading":
            content = clean_heading(raw)
        else:
            content = "\n".join(ln for ln in (" ".join(x.split()) for x in raw.split("\n")) if ln)
        if content.strip():
            parts.append((kind, content, level))

    stack: list[tuple[Any, bool]] = [(soup, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            flush()
            kinds.pop()
        elif isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctypes, CDATA...
                buf.append(str(node) if kinds[-1][0] == "code" else re.sub(r"\s+", " ", node))
        elif isinstance(node, Tag):
            name = (node.name or "").lower()
            if name in _DROP or _hidden(node):
                continue
            if name == "br":
                buf.append("\n")
                continue
            if name in _BLOCKS:
                flush()
                if name in _HEADINGS:
                    kinds.append(("heading", int(name[1])))
                elif name == "dt" and kinds[-1][0] != "code":
                    kinds.append(("term", 0))
                elif name == "pre" or kinds[-1][0] == "code":
                    kinds.append(("code", 0))
                else:
                    kinds.append(("text", 0))
                stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
    flush()
    return parts


def _hidden(tag: Tag) -> bool:
    """Hidden from readers; a tab's panel is hidden only until its tab is clicked."""
    if tag.get("role") == "tabpanel":
        return False
    return tag.has_attr("hidden") or tag.get("aria-hidden") == "true"
