"""Which URLs to fetch: one page, the pages a sitemap lists, or a crawl of a site prefix.

Fetching and parsing run on a small thread pool (the Fetcher keeps each host's limits), so
pages arrive while the previous batch is being embedded. Every loop is bounded by
`max_pages`; a crawl also by `max_depth`.
"""

from __future__ import annotations

import fnmatch
import gzip
import io
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ingest.web.fetch import Fetched, Fetcher, SiteUnreachable
from ingest.web.pages import in_scope, normalise

MAX_SITEMAPS = 50
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit, uncompressed


@dataclass
class Visit:
    url: str
    depth: int
    fetched: Fetched | None = None  # None: not fetched (robots.txt, include/exclude)
    links: list[str] = field(default_factory=list)
    result: object = None  # whatever the visit function made of the page
    skipped: str = ""  # why this URL is no document (robots.txt, 404, an image...)
    failed: str = ""  # why it could not be read (a timeout, a broken PDF...)


@dataclass
class Plan:
    """What to fetch from a start URL, and what a complete fetch would cover (for --prune)."""

    seeds: list[str]
    scope: str  # URL prefix the pages must start with
    sitemap: bool = False
    truncated: bool = False  # the sitemap lists more pages than max_pages


def plan(fetcher: Fetcher, url: str, max_pages: int, scope: str = "") -> Plan:
    """Fetch the start URL once: it must answer (else nothing may be pruned); a sitemap expands."""
    url = normalise(url)
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise SiteUnreachable(f"{url!r} is not an http(s) URL")
    if not fetcher.allowed(url):  # also the first contact: raises if the site is down
        raise SiteUnreachable(f"robots.txt of {url} does not allow fetching it; nothing changed")
    first = fetcher.get(url)
    if first.status == 0 and first.transient:
        raise SiteUnreachable(
            f"cannot reach {url} ({first.error}); nothing was changed. Check the URL and the "
            "network, then try again."
        )
    if first.status >= 500:
        raise SiteUnreachable(f"{url} answers {first.error}; nothing was changed. Try later.")
    if _is_sitemap(first):
        origin = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}/"
        urls, more = _sitemap_urls(fetcher, first, max_pages)
        return Plan(urls, scope or origin, sitemap=True, truncated=more)
    folder = url if url.endswith("/") else url.rsplit("/", 1)[0] + "/"
    return Plan([url], scope or folder)


class Crawler:
    """Visits URLs on a thread pool; links found are followed when `follow` is set."""

    def __init__(
        self,
        fetcher: Fetcher,
        visit: Callable[[str, int], Visit],
        *,
        scope: str,
        max_pages: int,
        max_depth: int,
        follow: bool,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
    ) -> None:
        self.fetcher, self.visit, self.scope = fetcher, visit, scope
        self.max_pages, self.max_depth, self.follow = max_pages, max_depth, follow
        self.include, self.exclude = include, exclude
        self.truncated = False  # stopped at max_pages with pages left to visit

    def run(self, seeds: Sequence[str]) -> Iterator[Visit]:
        frontier = deque((normalise(u), 0) for u in seeds)
        queued = {u for u, _ in frontier}
        started = 0
        workers = self.fetcher.settings.web_concurrency
        with ThreadPoolExecutor(workers, thread_name_prefix="qa-crawl") as pool:
            inflight: set[Future[Visit]] = set()
            while frontier or inflight:
                while frontier and len(inflight) < 2 * workers and started < self.max_pages:
                    url, depth = frontier.popleft()
                    reason = self._refused(url)
                    if reason:
                        yield Visit(url, depth, skipped=reason)
                        continue
                    inflight.add(pool.submit(self.visit, url, depth))
                    started += 1
                if frontier and started >= self.max_pages and not inflight:
                    self.truncated = True
                    return
                if not inflight:
                    continue
                done, inflight = wait(inflight, return_when=FIRST_COMPLETED)
                for future in done:
                    visit = future.result()
                    if self.follow and visit.depth < self.max_depth:
                        for link in visit.links:
                            if in_scope(link, self.scope) and link not in queued:
                                queued.add(link)
                                frontier.append((link, visit.depth + 1))
                    yield visit

    def _refused(self, url: str) -> str:
        if not in_scope(url, self.scope):
            return f"outside {self.scope}"
        path = urlsplit(url).path
        if self.exclude and _matches(path, self.exclude):
            return "excluded"
        if self.include and not _matches(path, self.include):
            return "not included"
        if not self.fetcher.allowed(url):
            return "disallowed by robots.txt"
        return ""


def _matches(path: str, patterns: Sequence[str]) -> bool:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(name, p) for p in patterns)


def _xml_root(fetched: Fetched) -> ET.Element | None:
    body = fetched.body
    if body[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(body)) as f:
                body = f.read(MAX_SITEMAP_BYTES + 1)
        except (OSError, EOFError):
            return None
    if not body.lstrip().startswith(b"<") or len(body) > MAX_SITEMAP_BYTES:
        return None
    try:
        return ET.fromstring(body)  # expat resolves no external entities
    except ET.ParseError:
        return None


def _is_sitemap(fetched: Fetched) -> bool:
    root = _xml_root(fetched)
    return root is not None and root.tag.rsplit("}", 1)[-1] in ("urlset", "sitemapindex")


def _sitemap_urls(fetcher: Fetcher, first: Fetched, limit: int) -> tuple[list[str], bool]:
    """Page URLs of a sitemap, following a sitemap index (bounded, each sitemap once), and
    whether there were more than `limit`."""
    pages: dict[str, None] = {}
    more = False
    todo, done = deque([first]), {first.url}
    while todo and len(done) <= MAX_SITEMAPS:
        root = _xml_root(todo.popleft())
        if root is None:
            continue
        index = root.tag.endswith("sitemapindex")
        for loc in root.iter():
            if not loc.tag.endswith("loc") or not (loc.text or "").strip():
                continue
            url = normalise(loc.text.strip())
            if index and url not in done and len(done) < MAX_SITEMAPS:
                done.add(url)
                todo.append(fetcher.get(url))
            elif not index:
                more = more or (len(pages) >= limit and url not in pages)
                if len(pages) < limit:
                    pages[url] = None
    return list(pages), more
