"""`qa serve` as a real process: `qa ask` answers through it, falls back when it cannot, and
the embedded Redis it started stops with it (Ctrl-C and SIGTERM included), data kept."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.commands import serve_records
from retrieval.embedding.embedder import Embedder
from retrieval.redis.server import EmbeddedRedis
from retrieval.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "ingest" / "sample"
QUESTION = "How do I rotate the API key?"
TOKEN = "serve-test-token"


@dataclass
class Served:
    proc: subprocess.Popen
    url: str
    lines: queue.Queue  # what it prints, read by a thread so that the pipe never fills
    log: Path


def _data_dir(embedder: Embedder) -> Path:
    """A short folder (unix socket paths are limited) that shares the session's ONNX exports."""
    folder = Path(tempfile.mkdtemp(prefix="qa-srv-"))
    (folder / "models").symlink_to(Path(embedder.settings.data_dir) / "models")
    return folder


def _interruptible() -> None:
    """Ctrl-C as a terminal delivers it: a test run started in the background (`nohup make
    test &`) ignores SIGINT, its children inherit that, and Python then never turns SIGINT
    into KeyboardInterrupt, so a `qa serve` it starts would rightly ignore it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(env: dict[str, str], log: Path) -> Served:
    full = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | env
    full["PYTHONFAULTHANDLER"] = "1"  # a stop that hangs is aborted and its stacks logged
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", "0"], cwd=ROOT, env=full,
        preexec_fn=_interruptible,
        stdout=subprocess.PIPE, stderr=log.open("w"), text=True,
    )  # fmt: skip
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    try:
        first = lines.get(timeout=180)
    except queue.Empty:
        proc.kill()
        raise AssertionError(f"qa serve printed nothing: {log.read_text()}") from None
    assert first.startswith("serving on http://"), first + log.read_text()
    url = first.split()[2].rstrip("/")
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            return Served(proc, url, lines, log)
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)


def _stop(served: Served, sig: int = signal.SIGINT) -> int:
    served.proc.send_signal(sig)
    try:
        return served.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:  # say where it hangs
        served.proc.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: every thread's stack
        served.proc.wait(timeout=30)
        stacks = served.log.read_text()[-6000:]
        raise AssertionError(f"still running 60s after {sig!r}: {stacks}") from None


def _shut_down(served: Served) -> None:
    """Cleanup, not a check (test_serve_stops_... checks stopping): on a loaded machine a
    stop may take longer than _stop waits; escalate rather than fail every later module."""
    for sig, wait_s in ((signal.SIGINT, 60), (signal.SIGTERM, 30), (signal.SIGKILL, 30)):
        served.proc.send_signal(sig)
        try:
            served.proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            tail = served.log.read_text()[-2000:]
            print(f"qa serve still running {wait_s}s after {sig!r}: {tail}")


def _qa(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture(scope="module")
def served(redis_server: EmbeddedRedis, embedder: Embedder) -> Iterator[dict[str, str]]:
    """A `qa serve` (with an API token) over the session's Redis, the sample ingested; the
    environment that points `qa ask` at the same index and settings."""
    data_dir = _data_dir(embedder)
    env = {"REDIS_URL": redis_server.url, "QA_INDEX_NAME": "serve-t:idx",
           "QA_KEY_PREFIX": "serve-t", "QA_READER": "sentence", "QA_DATA_DIR": str(data_dir),
           "QA_API_TOKEN": TOKEN}  # fmt: skip
    assert _qa(env, "ingest", str(SAMPLE)).exit_code == 0
    server = _start(env, data_dir / "serve.log")
    yield env
    _shut_down(server)
    _qa(env, "index", "drop", "--yes")
    shutil.rmtree(data_dir, ignore_errors=True)


def test_ask_answers_through_a_running_serve_and_prints_what_it_prints_alone(served) -> None:
    through = _qa(served, "ask", "--verbose", QUESTION)
    assert "answered by `qa serve` at http://127.0.0.1:" in through.stderr
    alone = _qa(served, "ask", "--local", QUESTION)
    assert through.stdout == alone.stdout and "Rotate key" in alone.stdout

    as_json = _qa(served, "ask", "--json", "--verbose", "--filter", "tag=security", QUESTION)
    assert "answered by" in as_json.stderr
    remote, local = (json.loads(r.stdout) for r in (as_json, _qa(
        served, "ask", "--json", "--local", "--filter", "tag=security", QUESTION)))  # fmt: skip
    assert remote.pop("timings").keys() == local.pop("timings").keys()
    assert remote == local  # the same object, without the HTTP API's answer_id


def test_ask_answers_here_what_the_server_cannot(served) -> None:
    ef = _qa(served, "ask", "--verbose", "--ef-runtime", "50", QUESTION)
    assert "answering here: --ef-runtime" in ef.stderr and "Rotate key" in ef.stdout

    other_settings = _qa({**served, "QA_TOP_K": "3"}, "ask", "--verbose", QUESTION)
    assert "no `qa serve` for this index and settings" in other_settings.stderr
    assert "Rotate key" in other_settings.stdout

    no_token = _qa({**served, "QA_API_TOKEN": ""}, "ask", "--verbose", QUESTION)
    assert "did not answer: HTTP 401" in no_token.stderr and "Rotate key" in no_token.stdout

    empty = CliRunner().invoke(cli, ["ask", " "], env=served)  # the error as without a server
    assert empty.exit_code == 1 and "the question is empty" in empty.output


def _record(env: dict[str, str], pid: int, port: int) -> Path:
    settings = Settings.from_env({**os.environ, **env})
    record = serve_records.ServerRecord(
        pid=pid, host="127.0.0.1", port=port, redis=serve_records.redis_identity(settings),
        index=settings.index_name, settings=serve_records.fingerprint(settings),
        started=time.time(),
    )  # fmt: skip
    path = Path(env["QA_DATA_DIR"]) / "servers" / f"{pid}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(record.__dict__))
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def data_dir(embedder: Embedder) -> Iterator[Path]:
    folder = _data_dir(embedder)
    yield folder
    EmbeddedRedis(folder / "redis").stop()  # when a test failed before stopping it
    shutil.rmtree(folder, ignore_errors=True)


def test_ask_answers_here_when_the_recorded_server_is_dead_or_not_listening(
    cli_env: dict[str, str], data_dir: Path
) -> None:
    env = {**cli_env, "QA_DATA_DIR": str(data_dir)}
    assert _qa(env, "ingest", str(SAMPLE)).exit_code == 0
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    crashed = _record(env, gone.pid, _free_port())  # a server killed with -9 leaves this
    stale = _record(env, os.getpid(), _free_port())  # alive, but nothing listens there

    started = time.monotonic()
    result = _qa(env, "ask", "--verbose", QUESTION)
    assert "Rotate key" in result.stdout
    assert f"127.0.0.1:{json.loads(stale.read_text())['port']} (pid {os.getpid()}) did not " \
           "answer: ConnectionRefusedError" in result.stderr  # fmt: skip
    assert not crashed.exists()  # removed on sight: its process is gone
    assert time.monotonic() - started < 30  # never waits for a server that is not there
    stale.unlink()


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 0), (signal.SIGTERM, 128 + 15)])
def test_serve_stops_the_embedded_redis_it_started_and_keeps_its_data(
    data_dir: Path, sig: int, code: int
) -> None:
    env = {"QA_DATA_DIR": str(data_dir), "QA_INDEX_NAME": "keep:idx", "QA_KEY_PREFIX": "keep",
           "QA_READER": "sentence"}  # fmt: skip
    redis = EmbeddedRedis(data_dir / "redis")
    assert _qa(env, "ingest", str(SAMPLE)).exit_code == 0
    redis.stop()  # started by this test's ingest: `qa serve` must start its own
    served = _start(env, data_dir / "serve.log")
    pid = int((redis.data_dir / "redis.pid").read_text())
    assert _state(pid) not in (None, "Z")
    assert list((data_dir / "servers").glob("*.json"))

    assert _stop(served, sig) == code, served.log.read_text()
    deadline = time.monotonic() + 10
    while _state(pid) not in (None, "Z") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _state(pid) in (None, "Z"), "the embedded Redis outlived `qa serve`"
    assert not redis.is_running() and not list((data_dir / "servers").glob("*.json"))

    docs = json.loads(_qa(env, "docs", "--json").stdout)  # starts it again, from its files
    assert len(docs) == 6


def _state(pid: int) -> str | None:
    """The process's state letter (Z: exited, waiting to be reaped), None when gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
    except (OSError, IndexError):
        return None


def test_server_stop_refuses_while_a_serve_or_slack_of_this_data_folder_uses_it(
    data_dir: Path,
) -> None:
    env = {"QA_DATA_DIR": str(data_dir), "REDIS_URL": None}
    settings = Settings.from_env({"QA_DATA_DIR": str(data_dir)})
    assert "running" in _qa(env, "server", "start").output
    stop = ["server", "stop"]
    with serve_records.registered(settings, "127.0.0.1", 8123):  # as `qa serve` records itself
        refused = CliRunner().invoke(cli, stop, env=env)
        assert refused.exit_code == 1, refused.output
        assert f"not stopped: qa serve (pid {os.getpid()}, http://127.0.0.1:8123)" in refused.output
        assert "--force" in refused.output
    with serve_records.registered(settings, "", 0, kind="slack"):  # as `qa slack` does
        refused = CliRunner().invoke(cli, stop, env=env)
        assert refused.exit_code == 1 and f"qa slack (pid {os.getpid()})" in refused.output
        assert "running at" in _qa(env, "server", "status").output
        assert _qa(env, *stop, "--force").output.strip() == "stopped"
    assert _qa(env, "server", "start").exit_code == 0
    assert _qa(env, *stop).output.strip() == "stopped"  # nobody uses it any more


def test_ask_passes_over_a_frozen_server_within_a_second(
    cli_env: dict[str, str], data_dir: Path
) -> None:
    # QA_REQUEST_TIMEOUT_S would have `qa ask` wait 125 s for an answer that never comes.
    env = {**cli_env, "QA_DATA_DIR": str(data_dir), "QA_REQUEST_TIMEOUT_S": "120"}
    assert _qa(env, "ingest", str(SAMPLE)).exit_code == 0
    with socket.socket() as frozen:  # takes connections (the kernel does), never answers
        frozen.bind(("127.0.0.1", 0))
        frozen.listen(8)
        record = _record(env, os.getpid(), frozen.getsockname()[1])
        server = serve_records.running_servers(Settings.from_env({**os.environ, **env}))[0]

        started = time.monotonic()
        with pytest.raises(serve_records.ServerUnavailable, match="GET /health within 1 s"):
            serve_records.probe(server)
        assert time.monotonic() - started < 1.2

        started = time.monotonic()
        result = _qa(env, "ask", "--verbose", QUESTION)
        assert "Rotate key" in result.stdout
        assert "did not answer: TimeoutError" in result.stderr
        assert time.monotonic() - started < 30  # the question itself is answered here
    record.unlink()
