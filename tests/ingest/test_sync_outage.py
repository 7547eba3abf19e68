"""The Procfile's `worker` (`qa sync --every`) through a Redis killed with SIGKILL in the middle
of a round: it keeps running, its next round is not locked out by the lock the lost round could
not delete, and the index ends equal to a clean ingest of the same files. Also the soak's
building blocks (bench/soak_parts.py), for a few seconds each."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.soak_parts import KillableRedis, index_content, procfile_command
from retrieval.index.chunks import ChunkIndex
from retrieval.index.schema import IndexSchema

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "ingest" / "sample"


@pytest.fixture()
def killable() -> Iterator[KillableRedis]:
    server = KillableRedis(Path(tempfile.mkdtemp(prefix="qa-kill-")))  # short: socket path
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.data_dir, ignore_errors=True)


def _env(server: KillableRedis, sources: Path, prefix: str) -> dict[str, str]:
    return {**os.environ, "REDIS_URL": server.url, "QA_INDEX_NAME": f"{prefix}:idx",
            "QA_KEY_PREFIX": prefix, "QA_SOURCES_FILE": str(sources)}  # fmt: skip


def _lines(process: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in process.stdout], daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue, text: str, timeout_s: float) -> list[str]:
    seen, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=0.5))
        except queue.Empty:
            continue
        if text in seen[-1]:
            return seen
    raise AssertionError(f"no {text!r} in {timeout_s:.0f}s: {seen}")


def test_the_sync_worker_outlives_redis_killed_mid_round_and_ends_equal_to_a_clean_ingest(
    killable: KillableRedis, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    shutil.copytree(SAMPLE, folder)
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[sources.docs]\nfolder = "{folder}"\n', encoding="utf-8")
    command = procfile_command("worker", **{"--every": "1s"})
    worker = subprocess.Popen(command, cwd=ROOT, env=_env(killable, sources, "w"), text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    lines, client = _lines(worker), killable.client()
    try:
        deadline = time.monotonic() + 120
        while not client.exists("w:sync-lock:docs"):  # the first round has begun
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.005)
        killable.kill()
        time.sleep(1)
        killable.start()  # the lost round's lock is back from the AOF, for a minute
        seen = _wait_for(lines, "docs: ok (", 45)  # so the next round could not wait it out
        assert worker.poll() is None, seen
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    once = command[: command.index("--every")]
    clean = subprocess.run(once, cwd=ROOT, env=_env(killable, sources, "c"), capture_output=True,
                           text=True, check=True)  # fmt: skip
    assert "docs: ok (6 new" in clean.stdout
    synced, fresh = (index_content(ChunkIndex(client, IndexSchema(f"{p}:idx", p, 0, "")))
                     for p in ("w", "c"))  # fmt: skip
    assert len(synced.documents) == 6 and synced.differences(fresh) == []
