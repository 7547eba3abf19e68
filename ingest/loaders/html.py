"""HTML: the readable text only, without scripts, navigation, headers or footers.

Block elements become blocks (h1-h6 headings, pre code, the rest text) and the document
text is those blocks joined by blank lines, so every offset is exact.
"""

from __future__ import annotations

import re
import warnings
from contextlib import suppress
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag

from ingest.document import Block, Document, LoadError
from ingest.loaders._common import assemble, build_meta, decode_text, parse_time, read_bytes

_DROP = frozenset(("script", "style", "nav", "header", "footer", "aside", "noscript", "form",
    "svg", "template", "head", "iframe", "object", "embed", "canvas", "button", "select",
    "textarea", "math"))  # fmt: skip
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_BLOCKS = _HEADINGS | frozenset(("address", "article", "blockquote", "body", "caption", "dd",
    "details", "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "hr", "html",
    "li", "main", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "ul"))  # fmt: skip
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_DATE_NAMES = ("date", "dc.date", "dcterms.created", "article:published_time")


def load(path: Path) -> list[Document]:
    data = read_bytes(path)
    fields, doc_text, blocks = parse_html(str(path), data)
    return [Document(build_meta(path, fields, default_title=""), doc_text, blocks)]


def parse_html(name: str, data: bytes) -> tuple[dict[str, Any], str, list[Block]]:
    """Metadata fields, readable text and blocks of an HTML page (a file or a fetched URL)."""
    return extract(name, parse_soup(name, data))


def extract(name: str, soup: BeautifulSoup) -> tuple[dict[str, Any], str, list[Block]]:
    """What `parse_html` returns, from an already parsed page (a crawler also wants its links)."""
    doc_text, blocks = assemble(_parts(soup))
    if not blocks:
        raise LoadError(name, "no readable text (only scripts, navigation or markup)")
    return _head_fields(soup), doc_text, blocks


def parse_soup(name: str, data: bytes) -> BeautifulSoup:
    """The page's tree; its text decoded as UTF-8 if valid, else as the page declares."""
    try:
        text = decode_text(name, data)
    except LoadError:
        declared = _CHARSET.search(data[:4096])
        if not declared:
            raise
        text = decode_text(name, data, declared.group(1).decode("ascii"))
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
        if tag and tag.get_text(strip=True):
            fields["title"] = tag.get_text(" ", strip=True)
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


def _parts(soup: BeautifulSoup) -> list[tuple[str, str, int]]:
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
            if name in _DROP or node.has_attr("hidden") or node.get("aria-hidden") == "true":
                continue
            if name == "br":
                buf.append("\n")
                continue
            if name in _BLOCKS:
                flush()
                if name in _HEADINGS:
                    kinds.append(("heading", int(name[1])))
                elif name == "pre" or kinds[-1][0] == "code":
                    kinds.append(("code", 0))
                else:
                    kinds.append(("text", 0))
                stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
    flush()
    return parts
