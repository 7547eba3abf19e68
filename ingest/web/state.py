"""What each URL answered last time (ETag, Last-Modified, its links), kept in Redis.

With these a re-ingest sends conditional requests: an unchanged page answers 304 with no
body, and the crawl still knows where that page links to.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class Seen:
    doc_id: str
    etag: str
    last_modified: str
    links: tuple[str, ...]


class FetchState:
    """Validators per URL; only valid for the chunking/model fingerprint that wrote them."""

    def __init__(self, client: redis.Redis, prefix: str, fingerprint: str) -> None:
        self.client = client
        self.prefix = prefix
        self.fingerprint = fingerprint

    def key(self, url: str) -> str:
        return f"{self.prefix}:web:{hashlib.sha1(url.encode()).hexdigest()[:20]}"

    def get(self, url: str) -> Seen | None:
        raw = {k.decode(): v.decode() for k, v in self.client.hgetall(self.key(url)).items()}
        if not raw or raw.get("fingerprint") != self.fingerprint:
            return None
        return Seen(
            raw.get("doc_id", ""),
            raw.get("etag", ""),
            raw.get("last_modified", ""),
            tuple(json.loads(raw.get("links", "[]"))),
        )

    def put(self, url: str, seen: Seen) -> None:
        self.client.hset(
            self.key(url),
            mapping={
                "url": url,
                "doc_id": seen.doc_id,
                "etag": seen.etag,
                "last_modified": seen.last_modified,
                "links": json.dumps(list(seen.links)),
                "fingerprint": self.fingerprint,
            },
        )

    def forget(self, url: str) -> None:
        self.client.delete(self.key(url))
