"""HTTP load benchmark: the Procfile's gunicorn against the engine alone, on COVID-QA.

    .venv/bin/python -m bench.http_bench [--requests 160] [--concurrency 1 4 16]
        [--reader auto|sentence]

The 98 articles go into an index of their own in an embedded Redis kept under
`.qa-data/bench-http` (or REDIS_URL), so later runs reuse it. Then the same questions are
asked, at each concurrency, of `QAEngine.ask` in this process and of `POST /ask` on
gunicorn over loopback; one reader throughout (default `auto`: the shipped reader). Writes
the `http-bench` section of BENCHMARKS.md (`http-bench-sentence` with `--reader sentence`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

if __package__ in (None, ""):  # run as `python bench/http_bench.py` rather than with -m
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import header, markdown_table, verdict, write_section
from ingest.chunker import Chunker
from ingest.document import Document
from ingest.pipeline import IngestPipeline, IngestReport
from retrieval.engine import QAEngine
from retrieval.redis.server import EmbeddedRedis
from retrieval.settings import Settings
from retrieval.types import DocMeta

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "covid-qa" / "COVID-QA.json"
CACHE = ROOT / ".qa-data" / "bench-http"
INDEX, PREFIX, READER = "covidqa-http:idx", "covidqa-http", "auto"


@dataclass
class Load:
    """One run at one concurrency: latencies in ms, errors, wall time."""

    latencies: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)  # the engine's own `timings.total`
    errors: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # of every process doing the work: client, server, Redis

    @property
    def cpu_ms(self) -> float:
        """CPU time per answered request: what it costs, whatever else runs on the machine."""
        return self.cpu_seconds * 1000 / len(self.latencies) if self.latencies else float("nan")

    def pct(self, p: float) -> float:
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))] if xs else float("nan")

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def documents(path: Path) -> tuple[list[Document], list[str]]:
    """Each article paragraph as a document, and every question, in file order."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    docs, questions = [], []
    for a, article in enumerate(data):
        for p, paragraph in enumerate(article["paragraphs"]):
            meta = DocMeta(doc_id=f"covidqa-{a}-{p}", title=str(article.get("title") or ""),
                           source="COVID-QA", path=f"{path.name}#{a}.{p}")  # fmt: skip
            docs.append(Document(meta=meta, text=paragraph["context"]))
            questions += [qa["question"] for qa in paragraph.get("qas", [])]
    return docs, questions


def ingest(engine: QAEngine, docs: list[Document]) -> IngestReport:
    """Make the index hold the articles; unchanged ones are skipped, so reruns are quick."""
    embedder, settings = engine.embedder, engine.settings
    chunker = Chunker(settings.chunk_tokens, settings.chunk_overlap_tokens, embedder.max_tokens,
                      embedder.count_tokens)  # fmt: skip
    return IngestPipeline(engine.index, embedder, chunker).ingest(docs)


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def run_load(ask: Callable[[str], float], questions: list[str], concurrency: int, requests: int,
             pids: Callable[[], list[int]] = list) -> Load:  # fmt: skip
    """`requests` asks over `concurrency` threads, each asking again as soon as it is answered;
    `ask` returns the engine's own total ms, or raises (an error)."""
    load, lock, todo = Load(), threading.Lock(), iter(range(requests))

    def worker() -> None:
        while (i := next(todo, None)) is not None:  # next() on a range iterator is atomic
            started = time.perf_counter()
            try:
                server_ms = ask(questions[i % len(questions)])
            except Exception as e:  # noqa: BLE001 - any failure is an error to count
                print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
                with lock:
                    load.errors += 1
                continue
            with lock:
                load.latencies.append((time.perf_counter() - started) * 1000)
                load.server_ms.append(server_ms)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    watched = pids()
    cpu_before, started = cpu_seconds(watched), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    load.seconds = time.perf_counter() - started
    load.cpu_seconds = cpu_seconds(watched) - cpu_before
    return load


def paired_difference(
    first: Callable[[str], float], second: Callable[[str], float], questions: list[str], pairs: int
) -> list[float]:
    """Each question asked both ways back to back (order alternating), so both see the same
    machine: the second's wall time minus the first's, in ms, per question."""
    diffs = []
    for i in range(pairs):
        q, took = questions[i % len(questions)], {}
        for ask in (first, second) if i % 2 == 0 else (second, first):
            started = time.perf_counter()
            ask(q)
            took[ask] = (time.perf_counter() - started) * 1000
        diffs.append(took[second] - took[first])
    return diffs


def http_asker(port: int) -> Callable[[str], float]:
    """POST /ask with plain http.client, one kept-alive connection per client thread (as a
    load generator such as wrk does); a light client, since it shares the cores."""
    local = threading.local()

    def ask(question: str) -> float:
        if getattr(local, "conn", None) is None:
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        body = json.dumps({"question": question, "reader": READER})
        try:
            local.conn.request("POST", "/ask", body, {"Content-Type": "application/json"})
            response = local.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            local.conn.close()
            local.conn = None
            raise
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {payload[:200]!r}")
        return float(json.loads(payload)["timings"]["total"])

    return ask


def app_asker(settings: Settings, engine: QAEngine) -> Callable[[str], float]:
    """POST /ask through the whole Flask app in this process (no sockets, no other process):
    the app's own cost, apart from the server's and the operating system's."""
    from bot.http import create_app

    app = create_app(settings.with_(rate_limit="100000000/minute"), engine)
    logging.getLogger("qa").setLevel(logging.WARNING)  # its access log is not the point here

    def ask(question: str) -> float:
        response = app.test_client().post("/ask", json={"question": question, "reader": READER})
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.get_data()[:200]!r}")
        return float(response.get_json()["timings"]["total"])

    return ask


class Gunicorn:
    """The Procfile's `web:` command on a free loopback port."""

    def __init__(self, env: dict[str, str]) -> None:
        line = next(ln for ln in (ROOT / "Procfile").read_text().splitlines()
                    if ln.startswith("web:"))  # fmt: skip
        args = shlex.split(line.removeprefix("web:"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        command = [sys.executable, "-m", *args, "--bind", f"127.0.0.1:{self.port}"]
        self.log = open(CACHE / "gunicorn.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                                        stdout=self.log, stderr=self.log)  # fmt: skip
        self.command = "gunicorn " + " ".join(args[1:])

    def wait_until_up(self, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {CACHE / 'gunicorn.log'}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/ready")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit("gunicorn did not become ready")

    def pids(self) -> list[int]:
        """The master and its workers."""
        try:
            master = psutil.Process(self.process.pid)
            return [master.pid, *(child.pid for child in master.children())]
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)
        self.log.close()


def gunicorn_threads() -> int:
    found = re.search(r"^threads = (\d+)", (ROOT / "gunicorn.conf.py").read_text(), re.M)
    return int(found[1]) if found else 1


@contextmanager
def redis_server() -> Iterator[tuple[str, int | None]]:
    """REDIS_URL, or the benchmark's own embedded Redis (its data kept between runs), and
    the server's pid when it runs here."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"], None
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    server = EmbeddedRedis(CACHE / "redis")
    was_running = server.is_running()
    server.ensure(stop_at_exit=False)
    try:
        yield server.url, int((server.data_dir / "redis.pid").read_text())
    finally:
        if not was_running:
            server.stop()


def measure(args: argparse.Namespace, url: str, redis_pid: int | None) -> dict:
    settings = Settings.from_env(redis_url=url, index_name=INDEX, key_prefix=PREFIX,
                                 reader=READER)  # fmt: skip
    import torch

    docs, questions = documents(Path(args.data))
    engine = QAEngine(settings).warm_up()
    report = ingest(engine, docs)
    print(f"index: {report.summary()}", file=sys.stderr)
    cores = len(os.sched_getaffinity(0))
    workers = int(os.environ.get("WEB_CONCURRENCY") or cores)
    torch.set_num_threads(max(1, cores // workers))  # what each gunicorn worker uses
    env = {"REDIS_URL": url, "QA_INDEX_NAME": INDEX, "QA_KEY_PREFIX": PREFIX,
           "QA_READER": READER, "QA_RATE_LIMIT": "100000000/minute", "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "WEB_CONCURRENCY": str(workers)}  # fmt: skip
    web = Gunicorn(env)
    results: dict = {"engine": {}, "app": {}, "http": {}, "report": report, "workers": workers,
                     "cores": cores, "torch_threads": torch.get_num_threads(),
                     "command": web.command, "threads": gunicorn_threads()}  # fmt: skip
    try:
        web.wait_until_up()
        in_process = lambda q: float(engine.ask(q, reader=READER).timings["total"])  # noqa: E731
        in_app = app_asker(settings, engine)
        over_http = http_asker(web.port)
        run_load(in_process, questions, 2, 20)  # warm both before timing
        run_load(over_http, questions, workers, 20)
        redis_pids = [redis_pid] if redis_pid else []
        engine_pids = lambda: [os.getpid(), *redis_pids]  # noqa: E731
        http_pids = lambda: [*engine_pids(), *web.pids()]  # noqa: E731 - client and server
        results["paired"] = paired_difference(in_process, over_http, questions, args.requests)
        for c in args.concurrency:  # interleaved, so drift on a shared machine hits both alike
            results["engine"][c] = run_load(in_process, questions, c, args.requests, engine_pids)
            results["app"][c] = run_load(in_app, questions, c, args.requests, engine_pids)
            results["http"][c] = run_load(over_http, questions, c, args.requests, http_pids)
            e, h = results["engine"][c], results["http"][c]
            print(f"c={c}: engine p50 {e.pct(50):.1f} ms {e.rps:.1f}/s | http p50 "
                  f"{h.pct(50):.1f} ms {h.rps:.1f}/s, {h.errors} errors",
                  file=sys.stderr)  # fmt: skip
    finally:
        web.stop()
    return results


def render(results: dict, args: argparse.Namespace, load_start: float) -> str:
    engine, web = results["engine"], results["http"]
    low, top = min(args.concurrency), max(args.concurrency)
    added = web[low].pct(50) - engine[low].pct(50)
    outside = statistics.median(a - b for a, b in zip(web[low].latencies, web[low].server_ms,
                                                      strict=False))  # fmt: skip
    paired = results["paired"]
    q1, _, q3 = statistics.quantiles(paired, n=4)
    ratio = web[top].rps / engine[top].rps if engine[top].rps else 0.0
    cpu_ratio = engine[top].cpu_ms / web[top].cpu_ms if web[top].cpu_ms else 0.0
    rows = [
        [c, name, f"{load.pct(50):.1f}", f"{load.pct(95):.1f}", f"{load.pct(99):.1f}",
         f"{load.rps:.1f}", f"{load.cpu_ms:.1f}", load.errors]
        for c in args.concurrency
        for name, load in (("engine alone (in-process)", engine[c]),
                           ("the Flask app in-process (test client)", results["app"][c]),
                           ("HTTP (gunicorn)", web[c]))
    ]  # fmt: skip
    lines = header("HTTP service: POST /ask under load (`bench/http_bench.py`)", [
        f"Data: COVID-QA.json, 98 articles ({results['report'].summary()}); "
        f"{args.requests} questions per run, in file order; reader `{READER}`, k=5, hybrid",
        f"Server: `{results['command']}` on loopback: {results['workers']} workers of "
        f"{results['threads']} threads, torch threads per worker {results['torch_threads']}; "
        "Redis: embedded (unix socket)",
        f"Engine alone: `QAEngine.ask` in one process with the same torch threads "
        f"({results['torch_threads']}), called from 1, 4, 16 threads",
        f"Client: threads with http.client, a kept-alive connection each, on the same "
        f"{results['cores']} cores; load average at the start {load_start:.1f}: the machine "
        "is shared, so other processes take part of the cores during every run",
        "CPU ms/request: user+system time of every process doing the work (engine process; "
        "or client + gunicorn master and workers; plus Redis), per answered request",
    ])  # fmt: skip
    lines += markdown_table(["concurrency", "what", "p50 ms", "p95 ms", "p99 ms", "req/s",
                             "CPU ms/request", "errors"], rows)  # fmt: skip
    lines += ["", *markdown_table(["target", "measured", "verdict"], [
        ["HTTP adds < 3 ms to the engine's p50 (one at a time)",
         f"median of (HTTP - in-process) over {len(paired)} questions each asked both ways back "
         f"to back: {statistics.median(paired):+.1f} ms (quartiles {q1:+.1f} / {q3:+.1f}). "
         f"Also: the median request spends {outside:.1f} ms outside the engine's own "
         f"`timings.total` (server, Flask, rate limit, answer assembly, JSON, client); p50 of "
         f"the c={low} runs differ by {added:+.1f} ms (runs apart in time: noisier)",
         verdict(statistics.median(paired) < 3)],
        [f"c={top}: no errors", f"{web[top].errors} errors", verdict(web[top].errors == 0)],
        [f"c={top}: throughput >= 80% of the engine alone (wall clock)",
         f"{web[top].rps:.1f} / {engine[top].rps:.1f} req/s = {ratio:.0%}",
         verdict(ratio >= 0.8)],
        [f"c={top}: the same for the Flask app alone (in-process, no sockets)",
         f"{results['app'][top].rps:.1f} / {engine[top].rps:.1f} req/s = "
         f"{results['app'][top].rps / engine[top].rps:.0%}",
         verdict(results["app"][top].rps >= 0.8 * engine[top].rps)],
        [f"c={top}: HTTP per CPU second (what the cores can do)",
         f"{engine[top].cpu_ms:.1f} / {web[top].cpu_ms:.1f} CPU ms per request = "
         f"{cpu_ratio:.0%}", verdict(cpu_ratio >= 0.8)],
    ])]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    global READER  # every asker sends it
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DATA), help="SQuAD-format file (COVID-QA)")
    parser.add_argument("--requests", type=int, default=160, help="questions per run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--reader", default=READER, choices=("auto", "sentence"))
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args(argv)
    READER = args.reader
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up as Ctrl-C does
    load_start = os.getloadavg()[0]
    with redis_server() as (url, redis_pid):
        results = measure(args, url, redis_pid)
    body = render(results, args, load_start)
    print(body)
    if not args.no_write:
        write_section("http-bench" if READER == "auto" else f"http-bench-{READER}", body)


if __name__ == "__main__":
    main()
