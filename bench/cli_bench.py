"""How long `qa ask` takes from the command line: alone (cold) and with `qa serve` running.

    .venv/bin/python -m bench.cli_bench [--runs 5] [--before /tmp/cli-before]

The sample documents go into a throwaway data folder (its embedded Redis is started by each
`qa ask` and stopped when it exits, as for a user's first question; the ONNX exports are
shared with the user data folder, as they are on any machine after the first run). Each run
is a new process, `python -m bot.cli ask QUESTION`, timed from start to exit. `--before`
times the same command in another checkout too (e.g. `git worktree add /tmp/cli-before
<commit>`). Writes the `cli-bench` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/cli_bench.py` rather than with -m
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import header, markdown_table, publish, record_start, verdict
from retrieval.embedding.embedder import Embedder
from retrieval.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How do I rotate the API key?"
TARGET_S = 3.0  # issue 25: the command line feels instant


def qa(tree: Path, env: dict[str, str], *args: str, **kw) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    full = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | env
    full["PYTHONPATH"] = str(tree)
    return subprocess.Popen([sys.executable, "-m", "bot.cli", *args], cwd=tree, env=full, **kw)


def time_ask(tree: Path, env: dict[str, str], runs: int) -> list[float]:
    """Wall seconds of `qa ask` from process start to exit, `runs` times."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = qa(tree, env, "ask", QUESTION, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=300)
        seconds.append(time.perf_counter() - started)
        if proc.returncode != 0 or b"Rotate key" not in out:
            raise SystemExit(f"qa ask failed in {tree}:\n{out.decode()}\n{err.decode()}")
    return seconds


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """A `qa serve` of this tree on a free port until the block ends (then Ctrl-C)."""
    proc = qa(ROOT, env, "serve", "--port", "0", stdout=subprocess.PIPE,
              stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    try:
        url = lines.get(timeout=300).split()[2].rstrip("/")
        for _ in range(600):
            try:
                urllib.request.urlopen(url + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def prepare(folder: Path) -> dict[str, str]:
    """A data folder with the sample ingested; the ONNX exports those of the user folder."""
    shared = Path(Settings().data_dir) / "models"
    Embedder(Settings()).warm_up()  # exports the model there once, if it never was
    (folder / "models").symlink_to(shared)
    env = {"QA_DATA_DIR": str(folder), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = qa(ROOT, env, "ingest", str(ROOT / "ingest" / "sample"), stdout=subprocess.DEVNULL)
    if proc.wait(timeout=600) != 0:
        raise SystemExit("ingesting the sample failed")
    return env


def row(name: str, seconds: list[float]) -> list[object]:
    return [name, f"{statistics.median(seconds):.2f}", f"{min(seconds):.2f}",
            f"{max(seconds):.2f}", len(seconds)]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each kind")
    parser.add_argument("--before", type=Path, help="another checkout to time the same way")
    parser.add_argument("--json", dest="json_out", help="also write the raw numbers here")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args()
    record_start()
    folder = Path(tempfile.mkdtemp(prefix="qa-cli-bench-"))  # short: unix socket path limit
    try:
        env = prepare(folder)
        result = {"cold": time_ask(ROOT, env, args.runs)}
        if args.before:
            result["before"] = time_ask(args.before.resolve(), env, args.runs)
        with serving(env):
            result["served"] = time_ask(ROOT, env, args.runs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    publish("cli-bench", report(result, args.before), result, args.json_out, not args.no_write)


def report(result: dict[str, list[float]], before: Path | None) -> str:
    rows = [row("`qa ask`, no server running (cold: models loaded in the process)",
                result["cold"])]  # fmt: skip
    if before is not None:
        git = ["git", "-C", str(before), "rev-parse", "--short", "HEAD"]
        commit = subprocess.run(git, capture_output=True, text=True, check=False).stdout.strip()
        name = f"`qa ask` before issue 25 (commit {commit or '?'}, `{before}`), no server running"
        rows.insert(0, row(name, result["before"]))
    rows.append(row("`qa ask` with `qa serve` running (answered over HTTP)", result["served"]))
    cold = statistics.median(result["cold"])
    lines = header("CLI: `qa ask` wall time (cli-bench)", [
        f"Question: \"{QUESTION}\" over `ingest/sample` (sentence reader: no trained reader); "
        "each run a new process, `python -m bot.cli ask ...`, timed from start to exit, "
        "including starting and stopping the embedded Redis",
        f"Target (issue 25): cold `qa ask` under {TARGET_S:.0f} s: "
        f"{verdict(cold < TARGET_S)} (median {cold:.2f} s)",
    ])  # fmt: skip
    lines += markdown_table(["run", "median s", "min s", "max s", "runs"], rows)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
