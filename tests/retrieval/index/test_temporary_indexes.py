"""Temporary `qa-eval-*` indexes: one whose process was killed with SIGKILL is listed as stale
by `qa index info` and dropped by the next calibration; a live one (another process's running
evaluation) and one kept on purpose are left alone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis
from click.testing import CliRunner

from bot.cli import cli
from ingest.document import Document
from ingest.pipeline import IngestPipeline
from retrieval.engine import QAEngine
from retrieval.index import temporary
from retrieval.settings import Settings
from retrieval.types import DocMeta
from workflows.calibration import calibrate_index
from workflows.evaluation import temporary_pipeline

ROOT = Path(__file__).resolve().parents[3]
DOC = Document(DocMeta(doc_id="kb", title="KB"), "The VPN gateway is vpn.example.com.")
FACTS = [  # a calibration needs five documents at least
    "Deploys go out every Tuesday at 14:00 through the release pipeline.",
    "Every employee gets 27 vacation days per calendar year.",
    "The on-call rotation hands over on Monday at 09:00 sharp.",
    "New laptops are ordered through the IT portal and arrive within a week.",
    "Expense reports are due by the fifth working day of the following month.",
]
# A calibration's sample index, as `qa calibrate` builds it, in a process of its own; its
# owner's lease lasts a second so that the test need not wait a minute for it to expire.
CHILD = """
import sys
from workflows.evaluation import temporary_pipeline
from ingest.document import Document
from retrieval.index import temporary
from retrieval.settings import Settings
from retrieval.types import DocMeta
temporary.OWNER_TTL_S = 1.0
with temporary_pipeline(Settings.from_env()) as (qa, pipeline):
    pipeline.ingest([Document(DocMeta(doc_id="s", title="S"), "Sample text about tides.")])
    print(qa.index.schema.name, flush=True)
    sys.stdin.read()
"""


def _states(client: redis.Redis) -> dict[str, str]:
    return {t.name: t.state for t in temporary.listed(client)}


def _killed_calibration(env: dict[str, str]) -> str:
    """The name of the temporary index a calibration process held when SIGKILL hit it."""
    child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    name = child.stdout.readline().strip()
    assert name.startswith(temporary.PREFIX), name
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    return name


def test_a_killed_calibrations_index_is_listed_stale_then_swept_by_the_next_calibration(
    settings: Settings, engine: QAEngine, pipeline: IngestPipeline, redis_client: redis.Redis,
    cli_env: dict[str, str],
) -> None:  # fmt: skip
    pipeline.ingest([DOC, *(Document(DocMeta(doc_id=f"f{i}", title=f"F{i}"), fact)
                            for i, fact in enumerate(FACTS))])  # fmt: skip
    env = {**os.environ, **cli_env}
    dead = _killed_calibration(env)
    with temporary_pipeline(settings, engine) as (live, live_pipeline):
        live_pipeline.ingest([DOC])  # another process's evaluation, still running
        alive = live.index.schema.name
        time.sleep(1.5)  # the killed owner's lease expires
        info = json.loads(CliRunner().invoke(cli, ["index", "info"], env=cli_env).output)
        listed = {t["name"]: t["state"] for t in info["temporary_indexes"]}
        assert listed[dead] == "stale" and listed[alive] == "live"

        calibrate_index(engine.warm_up(), questions=10, real_questions=0)

        assert dead not in _states(redis_client)
        assert not list(redis_client.scan_iter(match=f"{dead}*"))  # its chunks and records too
        assert _states(redis_client)[alive] == "live"
        assert live.ask("Where is the VPN gateway?").answer is not None
    assert alive not in _states(redis_client)


def test_an_index_kept_on_purpose_is_never_swept(
    settings: Settings, engine: QAEngine, redis_client: redis.Redis
) -> None:
    with temporary_pipeline(settings, engine, keep=True) as (kept, kept_pipeline):
        kept_pipeline.ingest([DOC])
    name = kept.index.schema.name
    assert _states(redis_client)[name] == "kept"
    assert name not in temporary.sweep(redis_client)
    kept.index.drop()  # by `qa index drop`, when done with it
    assert not redis_client.exists(temporary.owner_key(name))
