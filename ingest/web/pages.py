"""A fetched page into a Document: HTML, PDF or text by what the bytes are, links kept.

The page's canonical URL (when it stays on the same site) is its document id and link, so
`/guide/`, `/guide/index.html` and `/guide/?ref=nav` are one document, not three.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from ingest.document import Document, NotContent, doc_id_for, paragraph_blocks
from ingest.loaders._common import parse_tags, parse_time
from ingest.loaders._encoding import decode_any
from ingest.loaders.html import extract, parse_soup
from ingest.loaders.pdf import parse_pdf
from ingest.web.fetch import Fetched
from retrieval.types import DocMeta

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_TEXT_TYPES = ("text/plain", "text/markdown", "text/x-markdown")


@dataclass
class Page:
    document: Document | None  # None when the page had no usable text (see `skipped`)
    links: list[str] = field(default_factory=list)
    skipped: str = ""


def kind_of(fetched: Fetched) -> str:
    """ "html", "pdf", "text", or "" for anything else, judged by content before headers."""
    head = fetched.body[:1024].lstrip().lower()
    if head.startswith(b"%pdf-"):
        return "pdf"
    if b"\x00" in fetched.body[:8192]:
        return ""
    if head.startswith((b"<!doctype html", b"<html")) or fetched.content_type in _HTML_TYPES:
        return "html"
    if fetched.content_type in _TEXT_TYPES or not fetched.content_type:
        return "text"
    return ""


def page_from(fetched: Fetched, scope: str, source: str, tags: tuple[str, ...]) -> Page:
    """Parse a fetched body; a LoadError (no text, bad encoding...) names the URL."""
    url = fetched.final_url or fetched.url
    kind = kind_of(fetched)
    if not kind:
        return Page(None, skipped=f"not HTML, PDF or text ({fetched.content_type or 'unknown'})")
    links: list[str] = []
    fields: dict[str, Any] = {}
    if kind == "html":
        soup = parse_soup(url, fetched.body)
        # Links first: extraction prunes the navigation that a crawl follows.
        links = [urljoin(url, str(a["href"])) for a in soup.find_all("a", href=True)]
        links += [urljoin(url, str(a["href"])) for a in soup.find_all("link", rel="next")]
        links = [normalise(u) for u in links]
        try:
            fields, text, blocks = extract(url, soup)
        except NotContent as e:
            return Page(None, links=links, skipped=e.reason)
    elif kind == "pdf":
        text, blocks, fields = parse_pdf(url, fetched.body)
    else:
        text, _ = decode_any(url, fetched.body)  # UTF-8, else what the bytes suggest
        blocks = paragraph_blocks(text)
    canonical = _canonical(url, str(fields.get("url") or ""), scope)
    meta = _meta(canonical, fields, fetched, source, tags)
    return Page(Document(meta, text, blocks), links=links)


def normalise(url: str) -> str:
    """No fragment; the host lower-cased; an empty path is "/"."""
    url = urldefrag(url)[0]
    parts = urlsplit(url)
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}{query}"


def in_scope(url: str, scope: str) -> bool:
    return url.startswith(scope) and urlsplit(url).scheme in ("http", "https")


def _canonical(url: str, declared: str, scope: str) -> str:
    if declared:
        candidate = normalise(urljoin(url, declared))
        if in_scope(candidate, scope):
            return candidate
    return normalise(url)


def _meta(
    url: str, fields: dict[str, Any], fetched: Fetched, source: str, tags: tuple[str, ...]
) -> DocMeta:
    title = " ".join(str(fields.get("title") or "").split())
    try:
        created = parse_time(fields.get("created"))
        own_tags = parse_tags(fields.get("tags"))
    except ValueError:
        created, own_tags = None, ()
    return DocMeta(
        doc_id=doc_id_for(url),
        title=title or _title_from_url(url),
        source=source or urlsplit(url).netloc,
        tags=tuple(dict.fromkeys([*own_tags, *tags])),
        url=url,
        path=url,
        created=created,
        modified=_http_date(fetched.last_modified),
    )


def _title_from_url(url: str) -> str:
    path = urlsplit(url).path.rstrip("/")
    return path.rsplit("/", 1)[-1] or urlsplit(url).netloc


def _http_date(value: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return when.replace(tzinfo=when.tzinfo or dt.UTC).timestamp()
