"""Soak: the Procfile's processes against one Redis with AOF while people ask, documents
change and Redis is killed.

    .venv/bin/python -m bench.soak_bench [--minutes 30] [--restart-every 5] [--clients 16]

COVID-QA articles (read from ../shared/data, written as files into a temporary folder) are
the documents; the Procfile's `web` (gunicorn with gunicorn.conf.py) answers their
questions to `--clients` threads that ask without pause, while its `worker` (`qa sync`,
every `--sync-every`) takes in new articles and edited ones that this script writes every
`--change-every` minutes. The embedded Redis (AOF on, its own socket and data folder) is
killed with SIGKILL every `--restart-every` minutes and started again on the same files.
Checked: every response is a 200 or a 503 problem+json; no web worker's memory grows more
than 10 % past its peak of the first `--warmup-minutes`; every answer id and feedback entry
the service handed out is still stored after a last kill; the index equals a clean ingest
of the same files. Writes the `soak-bench` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/soak_bench.py` rather than with -m
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._env import DEFAULT_DATA
from bench._report import publish, record_start
from bench.soak_parts import (
    ROOT,
    Clients,
    KillableRedis,
    RssSampler,
    index_content,
    missing_answers,
    missing_feedback,
    procfile_command,
    wait_for,
)
from bench.soak_report import Run, render
from retrieval.index.chunks import ChunkIndex
from retrieval.index.schema import IndexSchema

INDEX, PREFIX, CLEAN = "soak:idx", "soak", "soak-clean"


class Articles:
    """COVID-QA's articles as files: the first `n` at the start, more and edits later."""

    def __init__(self, data: Path, folder: Path, n: int) -> None:
        raw = json.loads(data.read_text(encoding="utf-8"))["data"]
        self.texts = [a["paragraphs"][0]["context"] for a in raw]
        self.questions = [q["question"] for a in raw[:n] for q in a["paragraphs"][0]["qas"]]
        self.folder, self.written, self.edits = folder, 0, 0
        folder.mkdir(parents=True)
        for _ in range(n):
            self.add()

    def add(self) -> str:
        name = f"article-{self.written:03d}.txt"
        self._write(name, self.texts[self.written % len(self.texts)])
        self.written += 1
        return name

    def edit(self, i: int) -> str:
        """Drop the article's first paragraph and add a line: its chunks change."""
        name = f"article-{i:03d}.txt"
        old = (self.folder / name).read_text(encoding="utf-8")
        self.edits += 1
        rest = old.split("\n", 1)[-1] if "\n" in old else old[len(old) // 10 :]
        self._write(name, f"{rest}\n\nRevised in soak edit {self.edits}.\n")
        return name

    def _write(self, name: str, body: str) -> None:
        temp = self.folder / f".{name}.tmp"  # a whole file or none: as an editor saves
        temp.write_text(body, encoding="utf-8")
        os.replace(temp, self.folder / name)


def environment(redis_url: str, sources: Path, index: str = INDEX, prefix: str = PREFIX
                ) -> dict[str, str]:  # fmt: skip
    return {**os.environ, "REDIS_URL": redis_url, "QA_INDEX_NAME": index,
            "QA_KEY_PREFIX": prefix, "QA_SOURCES_FILE": str(sources),
            "QA_RATE_LIMIT": "100000000/minute", "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)}  # fmt: skip


def sync_once(env: dict[str, str], log: Path) -> None:
    """One round of the worker's `qa sync`, waited for."""
    command = procfile_command("worker")
    at = command.index("--every")
    del command[at : at + 2]
    with log.open("ab") as out:
        subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=out, check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def soak(args: argparse.Namespace, tmp: Path) -> Run:
    run = Run(args, load_start=os.getloadavg()[0])
    redis = KillableRedis(tmp / "redis")
    redis.start()
    articles = Articles(Path(args.data), tmp / "docs", args.articles)
    sources = tmp / "sources.toml"
    sources.write_text(f'[sources.soak]\nfolder = "{articles.folder}"\n', encoding="utf-8")
    env = environment(redis.url, sources)
    sync_once(env, tmp / "worker.log")  # the index exists before the first question
    port = free_port()
    web_log = (tmp / "web.log").open("ab")
    web = subprocess.Popen([*procfile_command("web"), "--bind", f"127.0.0.1:{port}"],
                           cwd=ROOT, env=env, stdout=web_log, stderr=web_log)  # fmt: skip
    worker = None
    try:
        wait_for("/ready", port, 300, lambda: web.poll() is None)
        worker = start_worker(env, tmp, args.sync_every)
        sampler = RssSampler(web.pid)
        sampler.start()
        run.clients = Clients(port, articles.questions, n=args.clients)
        run.started = time.monotonic()
        run.clients.start()
        worker = drive(run, redis, articles, worker, env, tmp)
        run.clients.join()
        sampler.stop.set()
        run.rss = sampler.samples
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
        sync_once(env, tmp / "worker.log")  # whatever the last round had not seen yet
        redis.kill()  # what was acknowledged must survive one more kill
        redis.start()
        run.checks = final_checks(run, redis, sources, tmp)
    finally:
        for process in (worker, web):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(60)
        web_log.close()
        redis.stop()
    return run


def start_worker(env: dict[str, str], tmp: Path, every: str) -> subprocess.Popen:
    log = (tmp / "worker.log").open("ab")
    return subprocess.Popen(procfile_command("worker", **{"--every": every}), cwd=ROOT,
                            env=env, stdout=log, stderr=log)  # fmt: skip


def drive(run: Run, redis: KillableRedis, articles: Articles, worker: subprocess.Popen,
          env: dict[str, str], tmp: Path) -> subprocess.Popen:  # fmt: skip
    """Kill Redis and change documents on schedule until the time is up; a worker that
    exits is noted and started again (as a process manager would)."""
    args = run.args
    end = run.started + args.minutes * 60
    next_kill = run.started + args.restart_every * 60
    next_change = run.started + args.change_every * 60
    while (now := time.monotonic()) < end:
        if now >= next_kill and end - now > 45:  # leave time to see it recover
            killed = time.monotonic()
            redis.kill()
            time.sleep(args.down_seconds)
            restarted = time.monotonic()
            redis.start()
            run.restarts.append({"killed": killed, "restarted": restarted,
                                 "ready": time.monotonic()})  # fmt: skip
            next_kill += args.restart_every * 60
        if now >= next_change:
            added = [articles.add() for _ in range(args.new_per_change)]
            edited = [articles.edit(articles.edits % articles.written)
                      for _ in range(args.new_per_change)]  # fmt: skip
            run.changes.append(f"minute {(now - run.started) / 60:.1f}: added {', '.join(added)};"
                               f" edited {', '.join(edited)}")  # fmt: skip
            next_change += args.change_every * 60
        if worker.poll() is not None:
            run.worker_exits.append(f"minute {(now - run.started) / 60:.1f}: exit code "
                                    f"{worker.returncode}")  # fmt: skip
            worker = start_worker(env, tmp, args.sync_every)
        time.sleep(0.5)
    return worker


def final_checks(run: Run, redis: KillableRedis, sources: Path, tmp: Path) -> dict:
    """After the last kill: what was handed out is stored; the index equals a clean ingest."""
    client = redis.client(timeout=30)
    outcomes = run.clients.outcomes if run.clients else []
    handed = [o.answer_id for o in outcomes if o.answer_id]
    feedback = run.clients.feedback if run.clients else []
    sync_once(environment(redis.url, sources, f"{CLEAN}:idx", CLEAN), tmp / "clean.log")
    soaked, clean = (index_content(ChunkIndex(client, IndexSchema(name, prefix, 0, "")))
                     for name, prefix in ((INDEX, PREFIX), (f"{CLEAN}:idx", CLEAN)))  # fmt: skip
    return {
        "answers_handed": len(handed), "answers_missing": missing_answers(client, PREFIX, handed),
        "answers_not_kept": sum(1 for o in outcomes if o.status == 200 and not o.answer_id),
        "feedback_acked": len(feedback),
        "feedback_missing": missing_feedback(client, PREFIX, feedback),
        "documents": len(soaked.documents), "chunks": sum(soaked.chunks.values()),
        "clean_documents": len(clean.documents), "clean_chunks": sum(clean.chunks.values()),
        "differences": soaked.differences(clean),
    }  # fmt: skip


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--minutes", type=float, default=30.0, help="how long the clients ask")
    add("--restart-every", type=float, default=5.0, help="minutes between Redis kills")
    add("--down-seconds", type=float, default=5.0, help="how long Redis stays killed")
    add("--clients", type=int, default=16, help="threads asking without pause")
    add("--articles", type=int, default=30, help="COVID-QA articles ingested at the start")
    add("--change-every", type=float, default=3.0, help="minutes between document changes")
    add("--new-per-change", type=int, default=2, help="articles added (and edited) each time")
    add("--sync-every", default="30s", help="the worker's schedule (`qa sync --every`)")
    add("--warmup-minutes", type=float, default=5.0,
        help="the memory baseline: each worker's peak in these first minutes")  # fmt: skip
    add("--data", default=str(DEFAULT_DATA), help="SQuAD-format file (COVID-QA)")
    add("--json", dest="json_out", help="also write the raw numbers to this file")
    add("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    add("--keep", action="store_true", help="keep the temporary folder (logs, Redis files)")
    args = parser.parse_args(argv)
    args.warmup_minutes = min(args.warmup_minutes, args.minutes / 2)  # a short check run
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    record_start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up as Ctrl-C does
    tmp = Path(tempfile.mkdtemp(prefix="qa-soak-"))  # short: unix socket path limit
    try:
        run = soak(args, tmp)
    except BaseException:
        print(f"logs and Redis files kept in {tmp}", file=sys.stderr)
        raise
    if args.keep:
        print(f"logs and Redis files kept in {tmp}", file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    body, result = render(run)
    publish("soak-bench", body, result, args.json_out, not args.no_write)


if __name__ == "__main__":
    main()
