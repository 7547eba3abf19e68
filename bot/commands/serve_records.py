"""Where a running `qa serve` listens, so that `qa ask` can use its warm models.

`qa serve` (and `qa slack`, kind "slack", no port) writes one small JSON file per process
under `<data_dir>/servers/`: its pid,
where it listens, which Redis and index it serves and a fingerprint of the settings that
shape an answer; it removes the file when it stops. `qa ask` reads these files before it
loads anything. A record whose process is gone (a crash, `kill -9`) is deleted on sight; a
live one that does not answer GET /health within PROBE_TIMEOUT_S is skipped; whatever
fails on the way, the caller answers locally. `qa server stop` reads them too: it does not
pull the embedded Redis from under a running server unless told to.

A file rather than a key in Redis: `qa ask` decides without connecting to Redis or starting
the embedded one, a dead server is known at once by its pid instead of after a TTL, and a
record is only seen on the machine whose loopback address it names.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from retrieval.settings import Settings

FOLDER = "servers"
CONNECT_TIMEOUT_S = 0.3
PROBE_TIMEOUT_S = 1.0  # a server that does not answer GET /health in this is passed over
# Settings that never change an answer: a server may differ from `qa ask` in these. Every
# other setting, including any added later, must be equal for the server to answer.
NOT_ANSWER_SHAPING = frozenset(
    {
        "redis_url",
        "data_dir",
        "redis_timeout_s",
        "embedding_batch_size",
        "chunk_tokens",
        "chunk_overlap_tokens",
        "hnsw_m",
        "hnsw_ef_construction",
        "train_minutes",
        "train_threads",
        "reader_check_s",
        "api_tokens",
        "rate_limit",
        "max_body_bytes",
        "request_timeout_s",
        "cors_origins",
        "proxy_hops",
        "sources_file",
        "sync_max_prune_share",
    }
)
NOT_ANSWER_SHAPING_PREFIXES = ("web_", "slack_")


class ServerUnavailable(Exception):
    """The recorded server could not answer; the reason is the message."""


@dataclass(frozen=True)
class ServerRecord:
    pid: int
    host: str  # the address to connect to (loopback when it listens on every interface)
    port: int
    redis: str  # "embedded" (the data folder's own server) or a hash of REDIS_URL
    index: str
    settings: str  # fingerprint of the answer-shaping settings
    started: float
    kind: str = "serve"  # "serve" (answers over HTTP at host:port) or "slack"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def redis_identity(settings: Settings) -> str:
    """Which Redis, without connecting to it (and without writing a password to disk)."""
    if not settings.redis_url:
        return "embedded"
    return hashlib.sha256(settings.redis_url.encode()).hexdigest()[:16]


def fingerprint(settings: Settings) -> str:
    shaping = {
        f.name: repr(getattr(settings, f.name))
        for f in fields(settings)
        if f.name not in NOT_ANSWER_SHAPING and not f.name.startswith(NOT_ANSWER_SHAPING_PREFIXES)
    }
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]


def connect_host(host: str) -> str:
    """Where to reach a server that listens on `host`."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


@contextlib.contextmanager
def registered(
    settings: Settings, host: str, port: int, kind: str = "serve"
) -> Iterator[Path | None]:
    """Record this process as serving `settings`' index at host:port while the block runs
    (None: the data folder is not writable, and `qa ask` answers by itself)."""
    record = ServerRecord(
        pid=os.getpid(),
        host=connect_host(host),
        port=port,
        redis=redis_identity(settings),
        index=settings.index_name,
        settings=fingerprint(settings),
        started=time.time(),
        kind=kind,
    )
    folder = Path(settings.data_dir) / FOLDER
    path: Path | None = folder / f"{record.pid}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging = folder / f".{record.pid}.json.tmp"
        staging.write_text(json.dumps(asdict(record)), encoding="utf-8")
        staging.replace(path)  # whole or absent, never half-written
    except OSError:
        path = None
    try:
        yield path
    finally:
        if path is not None:
            path.unlink(missing_ok=True)


def running_servers(settings: Settings) -> list[ServerRecord]:
    """Live servers for the same Redis, index and answer-shaping settings, newest first."""
    wanted = (redis_identity(settings), settings.index_name, fingerprint(settings))
    found = [
        r for r in _live(settings) if r.kind == "serve" and (r.redis, r.index, r.settings) == wanted
    ]
    return sorted(found, key=lambda r: -r.started)


def embedded_users(settings: Settings) -> list[ServerRecord]:
    """Live `qa serve` and `qa slack` processes of this data folder on its embedded Redis."""
    return [r for r in _live(settings) if r.redis == "embedded"]


def _live(settings: Settings) -> list[ServerRecord]:
    found = []
    for path in _record_files(Path(settings.data_dir) / FOLDER):
        record = _read(path)
        if record is None or not _alive(record.pid):
            with contextlib.suppress(OSError):  # a crashed server's record: gone for good
                path.unlink()
            continue
        found.append(record)
    return found


def _record_files(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.suffix == ".json" and p.stem.isdigit()]
    except OSError:
        return []


def _read(path: Path) -> ServerRecord | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(ServerRecord)}  # an older record has no "kind"
        return ServerRecord(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive, but not ours to judge
        return True
    return True


def probe(record: ServerRecord) -> None:
    """Return when the server answers GET /health within PROBE_TIMEOUT_S; ServerUnavailable
    otherwise. A process that takes connections but never answers (stopped with SIGSTOP,
    stuck) costs `qa ask` a second, not the whole request timeout."""
    deadline = time.monotonic() + PROBE_TIMEOUT_S
    conn = http.client.HTTPConnection(record.host, record.port, timeout=CONNECT_TIMEOUT_S)
    try:
        conn.connect()
        conn.sock.settimeout(max(0.05, deadline - time.monotonic()))
        conn.request("GET", "/health")
        response = conn.getresponse()
        response.read()
    except (OSError, http.client.HTTPException) as e:
        raise ServerUnavailable(
            f"{type(e).__name__}: {e} (no answer to GET /health within {PROBE_TIMEOUT_S:g} s)"
        ) from e
    finally:
        conn.close()
    if response.status != 200:
        raise ServerUnavailable(f"GET /health answered HTTP {response.status}")


def post_ask(record: ServerRecord, body: dict[str, Any], token: str | None, timeout: float):
    """The answer object from the server's POST /ask; ServerUnavailable on any failure."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection(record.host, record.port, timeout=CONNECT_TIMEOUT_S)
    try:
        conn.connect()  # a stale record costs at most CONNECT_TIMEOUT_S
        conn.sock.settimeout(timeout)
        conn.request("POST", "/ask", json.dumps(body).encode(), headers)
        response = conn.getresponse()
        payload = response.read()
        if response.status != 200:
            raise ServerUnavailable(f"HTTP {response.status}: {payload[:200]!r}")
        answer = json.loads(payload)
        if not isinstance(answer, dict) or "answer" not in answer:
            raise ServerUnavailable("the reply is not an answer object")
        return answer
    except (OSError, http.client.HTTPException, ValueError) as e:
        raise ServerUnavailable(f"{type(e).__name__}: {e}") from e
    finally:
        conn.close()
