"""The soak's building blocks (`bench/soak_bench.py`): a Redis with AOF that can be killed and
started again, the Procfile's processes, clients that ask without pause, and the checks.

Apart from the bench so that a test can run each block for a few seconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import shlex
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import redis

from retrieval.index.chunks import ChunkIndex
from retrieval.redis.replies import text
from retrieval.redis.server import EmbeddedRedis

ROOT = Path(__file__).resolve().parent.parent
PROBLEM = "application/problem+json"
RETRY_PAUSE_S = 0.5  # a client told 503 (or cut off) asks again after this


class KillableRedis(EmbeddedRedis):
    """The embedded server (AOF on, its own socket and data folder), killed with SIGKILL
    and started again on the same folder."""

    def pid(self) -> int:
        return int((self.data_dir / "redis.pid").read_text())

    def kill(self, wait_s: float = 10.0) -> None:
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + wait_s
        while psutil.pid_exists(pid) and time.monotonic() < deadline:
            time.sleep(0.01)


def procfile_command(name: str, **replace: str) -> list[str]:
    """The Procfile's line for process `name`, as arguments for this Python; `replace` swaps
    option values (`--every`: the worker's schedule)."""
    line = next(ln for ln in (ROOT / "Procfile").read_text().splitlines()
                if ln.startswith(f"{name}:"))  # fmt: skip
    args = shlex.split(line.split(":", 1)[1])
    for option, value in replace.items():
        args[args.index(option) + 1] = value
    if args[0] == "qa":  # the console script of this checkout, whatever is installed
        return [sys.executable, "-m", "bot.cli", *args[1:]]
    return [sys.executable, "-m", *args]


@dataclass
class Outcome:
    """One request: when it was sent and answered (monotonic seconds), what came back."""

    sent: float
    done: float
    status: int  # 0: no HTTP response at all (connection error, timeout)
    ok: bool  # 200, or 503 problem+json (what the service promises)
    what: str = ""  # why it failed, for the examples
    answer_id: str | None = None
    doc_ids: tuple[str, ...] = ()

    @property
    def ms(self) -> float:
        return (self.done - self.sent) * 1000


def acceptable(status: int, content_type: str) -> bool:
    """A response the service may give under faults: an answer, or 'try again' as a problem."""
    return status == 200 or (status == 503 and content_type.split(";")[0].strip() == PROBLEM)


@dataclass
class Clients:
    """`n` threads asking `questions` of the service at `port` without pause; one in
    `feedback_every` answers is rated, and the feedback ids it is given are kept."""

    port: int
    questions: list[str]
    n: int = 16
    feedback_every: int = 20
    timeout_s: float = 60.0
    outcomes: list[Outcome] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)  # stream ids a 201 acknowledged
    feedback_failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for i in range(self.n):
            self._threads.append(threading.Thread(target=self._run, args=(i,), daemon=True))
            self._threads[-1].start()

    def join(self) -> None:
        self.stop.set()
        for t in self._threads:
            t.join(self.timeout_s + 5)

    def _run(self, i: int) -> None:
        conn: http.client.HTTPConnection | None = None
        asked = i * len(self.questions) // self.n  # each client starts elsewhere in the list
        while not self.stop.is_set():
            conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, self.timeout_s)
            question = self.questions[asked % len(self.questions)]
            asked += 1
            outcome, conn = self._ask(conn, question)
            with self._lock:
                self.outcomes.append(outcome)
                rate = outcome.answer_id and len(self.outcomes) % self.feedback_every == 0
            if rate:
                conn = self._rate(conn, outcome.answer_id)
            if outcome.status != 200:  # as a page or a bot would: not a retry storm
                time.sleep(RETRY_PAUSE_S)

    def _post(self, conn: http.client.HTTPConnection, path: str, body: dict
              ) -> tuple[int, str, bytes]:  # fmt: skip
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()

    def _ask(self, conn: http.client.HTTPConnection, question: str
             ) -> tuple[Outcome, http.client.HTTPConnection | None]:  # fmt: skip
        sent = time.monotonic()
        try:
            status, kind, payload = self._post(conn, "/ask", {"question": question})
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            return Outcome(sent, time.monotonic(), 0, False, f"{type(e).__name__}: {e}"), None
        outcome = Outcome(sent, time.monotonic(), status, acceptable(status, kind))
        if status == 200:
            answer = json.loads(payload)
            outcome.answer_id = answer.get("answer_id")
            outcome.doc_ids = tuple(sorted({s["doc_id"] for s in answer.get("sources", [])}))
        elif not outcome.ok:
            outcome.what = f"HTTP {status} {kind}: {payload[:160]!r}"
        return outcome, conn

    def _rate(self, conn: http.client.HTTPConnection, answer_id: str
              ) -> http.client.HTTPConnection | None:  # fmt: skip
        try:
            status, kind, payload = self._post(
                conn, "/feedback", {"answer_id": answer_id, "helpful": True}
            )
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            with self._lock:
                self.feedback_failures.append(f"{type(e).__name__}: {e}")
            return None
        with self._lock:
            if status == 201:
                self.feedback.append(json.loads(payload)["id"])
            elif not acceptable(status, kind):
                self.feedback_failures.append(f"HTTP {status} {kind}: {payload[:160]!r}")
        return conn


class RssSampler(threading.Thread):
    """Every `every_s`, the resident memory of each child of `master` (gunicorn's workers)."""

    def __init__(self, master: int, every_s: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.master, self.every_s = master, every_s
        self.samples: dict[int, list[tuple[float, int]]] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.every_s):
            with contextlib.suppress(psutil.NoSuchProcess):
                for child in psutil.Process(self.master).children():
                    with contextlib.suppress(psutil.NoSuchProcess):
                        rss = child.memory_info().rss
                        self.samples.setdefault(child.pid, []).append((time.monotonic(), rss))


def wait_for(url_path: str, port: int, timeout_s: float, alive: Callable[[], bool]) -> None:
    """Until GET `url_path` answers 200 (RuntimeError when `alive()` turns false or time runs
    out)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"the process serving port {port} exited")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", url_path)
            if conn.getresponse().status == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"GET {url_path} on port {port} did not answer 200 in {timeout_s:.0f}s")


@dataclass(frozen=True)
class IndexContent:
    """What an index holds, apart from how it got there: each document's content hash and
    the texts of its chunks (keys and generations differ between two ingests)."""

    documents: dict[str, str]
    chunks: Counter

    def differences(self, other: IndexContent, shown: int = 5) -> list[str]:
        """What one holds and the other does not, a few of each kind."""
        out = []
        for doc_id in sorted(self.documents.keys() ^ other.documents.keys())[:shown]:
            where = "the first" if doc_id in self.documents else "the second"
            out.append(f"document {doc_id} only in {where}")
        changed = [d for d in self.documents.keys() & other.documents.keys()
                   if self.documents[d] != other.documents[d]]  # fmt: skip
        out += [f"document {d}: content hashes differ" for d in sorted(changed)[:shown]]
        extra, missing = self.chunks - other.chunks, other.chunks - self.chunks
        out += [f"chunk of {d} only in the first" for d, _ in list(extra)[:shown]]
        out += [f"chunk of {d} only in the second" for d, _ in list(missing)[:shown]]
        return out


def index_content(index: ChunkIndex) -> IndexContent:
    documents = {d.doc_id: d.content_hash for d in index.documents()}
    chunks = Counter(
        (doc_id, hashlib.sha256(body.encode()).hexdigest()[:16])
        for _, doc_id, body in index.chunk_records(index.every_chunk_key())
    )
    return IndexContent(documents, chunks)


def missing_answers(client: redis.Redis, prefix: str, answer_ids: Iterable[str]) -> list[str]:
    """The answer ids the service handed out that its answer store no longer holds."""
    ids = list(answer_ids)
    pipe = client.pipeline(transaction=False)
    for answer_id in ids:
        pipe.exists(f"{prefix}:answer:{answer_id}")
    return [a for a, there in zip(ids, pipe.execute(), strict=True) if not there]


def missing_feedback(client: redis.Redis, prefix: str, entry_ids: Iterable[str]) -> list[str]:
    """The feedback entries acknowledged with a 201 that the stream no longer holds."""
    stored = {text(entry_id) for entry_id, _ in client.xrange(f"{prefix}:feedback")}
    return [e for e in entry_ids if e not in stored]
