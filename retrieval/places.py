"""Where a source is shown to be: its URL, or a path people can recognise.

Documents keep the absolute path they were read from (pruning and re-ingestion need it), but
that path is the server's business: answers show a local file's URL when `QA_SOURCE_URLS`
maps its folder to one ("/srv/docs/=https://wiki.example.com/docs/"), and otherwise its path
relative to the folder that was ingested, or its file name.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from retrieval.errors import ConfigError

_EXAMPLE = "e.g. QA_SOURCE_URLS=/srv/docs/=https://wiki.example.com/docs/"
# Characters a link may not carry: white space and controls end or break it, and <, >, |, "
# and ` are markup in Slack's links, HTML attributes or Markdown.
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f<>|\"`\\]")


@dataclass(frozen=True)
class UrlMap:
    """One `FOLDER=URL` pair: the files under FOLDER are read at URL."""

    folder: str  # absolute, normalised, without a trailing slash ("/" for the root)
    url: str

    def covers(self, path: str) -> bool:
        return path == self.folder or path.startswith(self.folder.rstrip("/") + "/")

    def url_of(self, path: str) -> str:
        rest = path[len(self.folder) :].lstrip("/")
        return self.url if not rest else self.url.rstrip("/") + "/" + quote(rest, safe="/")


def parse_source_urls(values: Iterable[str]) -> tuple[UrlMap, ...]:
    """The pairs of QA_SOURCE_URLS, longest folder first; a ConfigError says what is wrong."""
    maps: dict[str, UrlMap] = {}
    for raw in values:
        one = _parse_one(raw.strip())
        if one.folder in maps and maps[one.folder].url != one.url:
            raise ConfigError(f"QA_SOURCE_URLS maps {one.folder} twice, to two URLs; keep one")
        maps[one.folder] = one
    return tuple(sorted(maps.values(), key=lambda m: len(m.folder), reverse=True))


def _parse_one(raw: str) -> UrlMap:
    folder, sep, url = raw.partition("=")
    folder, url = folder.strip(), url.strip()
    if not sep or not folder or not url:
        raise ConfigError(f"QA_SOURCE_URLS entry {raw!r} is not FOLDER=URL ({_EXAMPLE})")
    if not folder.startswith("/") or _UNSAFE.search(folder.replace(" ", "")):
        raise ConfigError(
            f"QA_SOURCE_URLS folder {folder!r} must be an absolute path, the one files were "
            f"ingested from ({_EXAMPLE})"
        )
    normal = posixpath.normpath(folder)
    if normal not in (folder, folder.rstrip("/")) or folder.startswith("//"):
        raise ConfigError(
            f"QA_SOURCE_URLS folder {folder!r} must be written plainly, without '..', '.' or "
            f"doubled slashes: {normal + '/'!r}"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or _UNSAFE.search(url):
        raise ConfigError(
            f"QA_SOURCE_URLS URL {url!r} must be an http:// or https:// address with a host "
            f"and no spaces or quotes ({_EXAMPLE})"
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            f"QA_SOURCE_URLS URL {url!r} must not have a query or a fragment: a file's path "
            "is appended to it"
        )
    return UrlMap(normal, url)


def shown_place(path: str, url: str, folder: str, maps: tuple[UrlMap, ...]) -> tuple[str, str]:
    """(url, path) as shown: the document's own URL, else the mapped one; the path relative
    to the ingested `folder` (or the file name), never the absolute path.

    A web page's `path` is its URL and stays as it is.
    """
    if url.lower().startswith("file:"):
        url = ""  # stored by an older release from a page's canonical link: opens nowhere
    if not path.startswith("/"):
        return url, path
    if not url:
        url = next((m.url_of(path) for m in maps if m.covers(path)), "")
    root = folder.rstrip("/")
    if root and path.startswith(root + "/"):
        return url, path[len(root) + 1 :]
    return url, posixpath.basename(path)
