"""gunicorn settings for the HTTP service; the command line or GUNICORN_CMD_ARGS override them.

One process per core (WEB_CONCURRENCY), each with a few threads: a request waiting on Redis
or inside the model (which releases the GIL) leaves the core to another, and /health still
answers while questions are being read. Time limits, in layers: a question that overruns
QA_REQUEST_TIMEOUT_S gets a 504 from the app, which then has gunicorn replace the worker
(graceful_timeout later it is killed if the reader is truly stuck); `timeout` kills a worker
whose main loop stops answering the master altogether.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import tempfile

from retrieval.settings import Settings

_settings = Settings.from_env()
_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

# bind: gunicorn's default, 0.0.0.0:$PORT when PORT is set, else 127.0.0.1:8000 (or -b).
workers = int(os.environ.get("WEB_CONCURRENCY") or _cores)
worker_class = "gthread"
threads = 4
preload_app = True
timeout = math.ceil(_settings.request_timeout_s) + 10
graceful_timeout = 15
keepalive = 5
control_socket_disable = True  # one fixed path per user: two services would fight over it
accesslog = None  # the app logs one JSON line per request
errorlog = "-"
loglevel = os.environ.get("QA_LOG_LEVEL", "info")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "bot.http.observability.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                            "stream": "ext://sys.stderr"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "qa": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}  # fmt: skip

# Workers write metrics here and /metrics adds them up (set before prometheus is imported).
_own_metrics_dir = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="qa-metrics-")


def post_worker_init(worker):
    """Load the models in the worker, before it serves its first request (see bot/wsgi.py),
    with torch limited to the worker's share of the cores instead of every worker using all."""
    import torch

    from bot.http import engine_of

    torch.set_num_threads(max(1, _cores // worker.cfg.workers))
    engine_of(worker.wsgi).warm_up()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def worker_exit(server, worker):
    """Leave without the interpreter's teardown, which can hang in the C thread pools of torch
    inherited through fork from the master, until graceful_timeout has the worker killed."""
    in_flight = sys.exc_info()[1]
    code = in_flight.code if isinstance(in_flight, SystemExit) else (0 if in_flight is None else 1)
    logging.shutdown()
    os._exit(code if isinstance(code, int) else 1)
