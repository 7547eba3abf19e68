"""A small real web site on 127.0.0.1 for crawler tests: pages can change, vanish or stall.

Answers conditional requests (ETag and Last-Modified) like a real server, and counts what
it served, so tests can tell a 304 from a full download.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAST_MODIFIED = "Mon, 02 Mar 2026 10:00:00 GMT"


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    delay: float = 0.0
    location: str = ""


class Site:
    """Routes by path; `down()` makes every request fail to connect."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.served: Counter[tuple[str, int]] = Counter()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def page(self, path: str, title: str, body: str, links: tuple[str, ...] = ()) -> None:
        anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
        html = (
            f"<!doctype html><html><head><title>{title}</title></head><body>"
            f"<nav><ul>{anchors}</ul></nav><main><h1>{title}</h1><p>{body}</p></main>"
            f"<footer>footer text</footer></body></html>"
        )
        self.routes[path] = Route(html.encode())

    def sitemap(self, path: str, paths: list[str]) -> None:
        locs = "".join(f"<url><loc>{self.url}{p}</loc></url>" for p in paths)
        xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
        self.routes[path] = Route(xml.encode(), content_type="application/xml")

    def start(self) -> Site:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def full_downloads(self, path: str) -> int:
        return self.served[(path, 200)]


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            route = site.routes.get(self.path.split("?")[0])
            if route is None:
                return self._send(Route(b"not found", 404, "text/plain"))
            if route.delay:
                time.sleep(route.delay)
            etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
            if route.status == 200 and self.headers.get("If-None-Match") == etag:
                return self._send(Route(status=304), etag)
            return self._send(route, etag)

        def _send(self, route: Route, etag: str = "") -> None:
            site.served[(self.path, route.status)] += 1
            self.send_response(route.status)
            if route.location:
                self.send_header("Location", route.location)
            if etag and route.status in (200, 304):
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", LAST_MODIFIED)
            if route.status != 304:
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            if route.status != 304:
                # The client may give up first (a timeout or a size limit): as it should.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(route.body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler
