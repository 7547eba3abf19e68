"""Polite HTTP fetching: per-host concurrency and rate, robots.txt, timeouts and size limits.

Every request goes through one `Fetcher`, so the limits hold however many threads crawl.
Nothing here raises for a bad page: a `Fetched` says what happened, and only a site that
cannot be reached at all is an error (`SiteUnreachable`), so that nothing gets deleted.
"""

from __future__ import annotations

import threading
import time
import urllib.robotparser
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from ingest.sources import SourceUnreachable
from retrieval.settings import Settings

GONE = frozenset((404, 410))
ROBOTS_TTL = 3600.0  # a long-running sync re-reads robots.txt hourly (RFC 9309: at most 24 h)


class SiteUnreachable(SourceUnreachable):
    code = "site_unreachable"


@dataclass
class Fetched:
    """One URL's outcome. `body` is set only for a 200 whose size and type were acceptable."""

    url: str  # as asked
    final_url: str = ""  # after redirects
    status: int = 0
    content_type: str = ""
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""
    error: str = ""  # why there is no body (also set for 304, 404...)
    transient: bool = False  # a timeout, 5xx or connection error: try again later, keep the page

    @property
    def gone(self) -> bool:
        return self.status in GONE

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class _Host:
    gate: threading.Semaphore
    lock: threading.Lock = field(default_factory=threading.Lock)  # for next_start
    robots_lock: threading.Lock = field(default_factory=threading.Lock)
    next_start: float = 0.0
    robots: urllib.robotparser.RobotFileParser | None = None
    robots_at: float = 0.0
    delay: float = 0.0


class Fetcher:
    """A kept HTTP client plus the rules every request obeys."""

    def __init__(self, settings: Settings, client: httpx.Client | None = None) -> None:
        self.settings = settings
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(settings.web_timeout_s),
            follow_redirects=True,
            max_redirects=settings.web_max_redirects,
            headers={"User-Agent": settings.web_user_agent},
        )
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def allowed(self, url: str) -> bool:
        """robots.txt says this user agent may fetch the URL (read once per host and hour)."""
        host = self._host(url)
        with host.robots_lock:
            if host.robots is None or time.monotonic() - host.robots_at > ROBOTS_TTL:
                host.robots, host.robots_at = self._robots(url), time.monotonic()
            robots = host.robots
        return robots.can_fetch(self.settings.web_user_agent, url)

    def get(self, url: str, etag: str = "", last_modified: str = "") -> Fetched:
        """GET within the limits; a conditional request when validators are given."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        host = self._host(url)
        with host.gate:
            self._wait_turn(host)
            return self._get(url, headers)

    def _get(self, url: str, headers: dict[str, str]) -> Fetched:
        out = Fetched(url)
        try:
            with self.client.stream("GET", url, headers=headers) as r:
                out.final_url, out.status = str(r.url), r.status_code
                out.content_type = r.headers.get("content-type", "").split(";")[0].strip().lower()
                out.etag = r.headers.get("etag", "")
                out.last_modified = r.headers.get("last-modified", "")
                if r.status_code != 200:
                    out.error = f"HTTP {r.status_code}"
                    out.transient = r.status_code >= 500 or r.status_code == 429
                    return out
                out.body, out.error = self._read_body(r)
        except httpx.TooManyRedirects:
            out.error = f"more than {self.settings.web_max_redirects} redirects"
        except httpx.TimeoutException:
            out.error, out.transient = f"timed out after {self.settings.web_timeout_s:g}s", True
        except httpx.TransportError as e:
            out.error, out.transient = f"cannot connect ({e or type(e).__name__})", True
        except httpx.InvalidURL as e:
            out.error = f"invalid URL ({e})"
        return out

    def _read_body(self, r: httpx.Response) -> tuple[bytes, str]:
        limit = self.settings.web_max_bytes
        declared = r.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return b"", f"too large ({int(declared) / 2**20:.1f} MB; limit {limit / 2**20:g} MB)"
        chunks: list[bytes] = []
        size = 0
        for chunk in r.iter_bytes():
            size += len(chunk)
            if size > limit:
                return b"", f"too large (over {limit / 2**20:g} MB)"
            chunks.append(chunk)
        return b"".join(chunks), ""

    def _host(self, url: str) -> _Host:
        key = _origin(url)
        with self._hosts_lock:
            if key not in self._hosts:
                self._hosts[key] = _Host(threading.Semaphore(self.settings.web_concurrency))
            return self._hosts[key]

    def _wait_turn(self, host: _Host) -> None:
        """Space request starts by 1/rate seconds (or the site's Crawl-delay, if longer)."""
        interval = max(1.0 / self.settings.web_rate, host.delay)
        with host.lock:
            now = time.monotonic()
            start = max(now, host.next_start)
            host.next_start = start + interval
        if start > now:
            time.sleep(start - now)

    def _robots(self, url: str) -> urllib.robotparser.RobotFileParser:
        parser = urllib.robotparser.RobotFileParser()
        robots_url = _origin(url) + "/robots.txt"
        got = self._get(robots_url, {})
        if got.transient:  # down, or a 5xx (RFC 9309: then crawl nothing): try again later
            raise SiteUnreachable(
                f"cannot read {robots_url} ({got.error}); nothing was changed. Check the URL "
                "and the network, then try again."
            )
        if got.body:
            parser.parse(got.body.decode("utf-8", "replace").splitlines())
            delay = parser.crawl_delay(self.settings.web_user_agent)
            self._host(url).delay = min(float(delay or 0), 30.0)
        else:
            parser.allow_all = True  # no robots.txt (404 and other 4xx): all allowed
        return parser


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
