"""Where the benchmarks get their data and their Redis from."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from retrieval.redis.server import EmbeddedRedis
from retrieval.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# The shared data folder beside the repository; never copied into it.
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "covid-qa" / "COVID-QA.json"


def bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser with the options every benchmark over a data file shares."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    parser.add_argument("--data", help="SQuAD-format file (default: $QA_BENCH_DATA or COVID-QA)")
    parser.add_argument("--json", dest="json_out", help="also write the raw numbers to this file")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    return parser


def data_path(arg: str | None) -> Path:
    """--data, else $QA_BENCH_DATA, else the shared COVID-QA file."""
    path = Path(arg or os.environ.get("QA_BENCH_DATA") or DEFAULT_DATA).expanduser()
    if not path.is_file():
        raise SystemExit(f"no data file at {path}: pass --data or set QA_BENCH_DATA")
    return path


@contextmanager
def bench_settings(redis_url: str | None) -> Iterator[Settings]:
    """Settings from the environment on REDIS_URL, or on a throwaway embedded Redis.

    The throwaway server keeps the user's own data out of the measurements (and the
    measurements out of the user's data).
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # `kill` should clean up like Ctrl-C does: drop the temporary index, stop the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if redis_url:
        yield Settings.from_env(redis_url=redis_url)
        return
    folder = Path(tempfile.mkdtemp(prefix="qa-bench-"))  # short: unix socket path limit
    server = EmbeddedRedis(folder)
    server.start()
    try:
        # QA_DATA_DIR, when set, keeps the reader's general stage between runs (trained once).
        data_dir = Path(os.environ["QA_DATA_DIR"]) if os.environ.get("QA_DATA_DIR") else folder
        yield Settings.from_env(redis_url=server.url, data_dir=data_dir)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
