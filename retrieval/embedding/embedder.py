"""Sentence embeddings: the packaged all-MiniLM-L6-v2, or any sentence-transformers model.

Three backends run the same model on the CPU: `torch` (fp32), `onnx` (ONNX Runtime, fp32) and
`onnx-int8` (ONNX Runtime with weights quantised to int8 for this CPU's instruction set).
The ONNX files are exported locally from the model's own weights on first use (no network)
and cached under `<data_dir>/models`; `auto` picks the fastest backend that keeps retrieval
quality (see AUTO_PREFERENCE).
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.embedding.model_files import (
    exported_model,
    int8_preset,
    onnx_available,
    resolve_model_path,
    session_options,
)
from retrieval.embedding.onnx_encoder import OnnxEncoder, UnsupportedExport
from retrieval.errors import ModelUnavailable
from retrieval.settings import DEFAULT_EMBEDDER, Settings

BACKENDS = ("torch", "onnx", "onnx-int8")
# What `auto` tries, in order: the fastest whose retrieval quality stays within 0.01 hit@5 of
# fp32 (bench/embed_bench.py, BENCHMARKS.md's embed-bench). A backend that cannot load here
# (no onnxruntime, no int8 preset for this CPU) is skipped.
AUTO_PREFERENCE = ("onnx-int8", "onnx", "torch")
log = logging.getLogger(__name__)


def candidate_backends(requested: str) -> list[str]:
    """The backends to try, best first: the one asked for, or `auto`'s usable ones."""
    if requested != "auto":
        return [requested]
    usable = {"torch": True, "onnx": onnx_available()}
    usable["onnx-int8"] = usable["onnx"] and int8_preset() is not None
    return [b for b in AUTO_PREFERENCE if usable[b]]


@functools.lru_cache(maxsize=4)
def _load_model(name: str, backend: str = "torch", cache_root: str = "") -> Any:
    """One copy of each model per process, however many engines and commands use it."""
    path = resolve_model_path(name)
    if Path(path).exists() or name == DEFAULT_EMBEDDER:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        if backend == "torch":
            from sentence_transformers import SentenceTransformer

            return SentenceTransformer(path, device="cpu")
        folder, file_name = exported_model(name, backend, Path(cache_root))
        return _load_onnx(folder, file_name)
    except ModelUnavailable:
        raise
    except Exception as e:  # any load failure means the same thing to a user
        raise ModelUnavailable(
            f"cannot load embedding model '{name}' with backend '{backend}' ({e}). Set "
            "QA_EMBEDDING_MODEL to a local sentence-transformers folder or a model available "
            "offline, or QA_EMBEDDING_BACKEND=torch."
        ) from e


def _load_onnx(folder: Path, file_name: str) -> Any:
    """An export on onnxruntime alone (no torch to import); sentence-transformers' own loader
    for an export with modules that runner lacks."""
    try:
        return OnnxEncoder(folder, file_name)
    except UnsupportedExport as e:
        log.info("loading %s with sentence-transformers: %s", folder, e)
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(
        str(folder),
        device="cpu",
        backend="onnx",
        model_kwargs={
            "file_name": file_name,
            "provider": "CPUExecutionProvider",
            "session_options": session_options(),
        },
    )


class Embedder:
    """Embeds texts into normalised vectors; `warm_up()` loads the model once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model_name = settings.embedding_model
        self.requested_backend = settings.embedding_backend
        self.backend = candidate_backends(self.requested_backend)[0]  # final after warm_up()
        self._model: Any = None
        self._counter: Any = None
        self._count_lock = threading.Lock()
        self._lock = threading.Lock()

    def warm_up(self) -> Embedder:
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self

    def _load(self) -> Any:
        """The first backend that loads; `auto` falls back (to torch at worst) with a warning."""
        cache_root = str(Path(self.settings.data_dir) / "models")
        candidates = candidate_backends(self.requested_backend)
        for backend in candidates:
            try:
                model = _load_model(
                    self.model_name, backend, "" if backend == "torch" else cache_root
                )
            except ModelUnavailable as e:
                if backend == candidates[-1]:
                    raise
                log.warning("embedding backend %s unavailable, trying the next: %s", backend, e)
                continue
            self.backend = backend
            return model
        raise ModelUnavailable(f"no embedding backend among {candidates}")

    @property
    def model(self) -> Any:
        return self.warm_up()._model

    @property
    def dim(self) -> int:
        model = self.model
        get_dim = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        return int(get_dim())

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads, [CLS] and [SEP] included."""
        return int(self.model.max_seq_length)

    @property
    def identity(self) -> str:
        """The name stored with the index, so vectors of two models are never mixed.

        The backend is deliberately not part of it: torch, ONNX and ONNX int8 run the same
        weights (int8 vectors have cosine ~0.99 to fp32 ones, and the same hit@5 on COVID-QA),
        so their vectors may share an index, and switching QA_EMBEDDING_BACKEND neither forces
        a rebuild nor re-embeds unchanged documents. Another model always does.
        """
        return self.model_name

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, [CLS] and [SEP] included, without truncation.

        Uses its own copy of the tokenizer: a fast tokenizer is not safe to share between
        the chunking thread and the embedding thread ("Already borrowed").
        """
        with self._count_lock:
            if self._counter is None:
                model = self.model
                backend = getattr(model, "backend_tokenizer", None)
                counter = copy.deepcopy(backend or model.tokenizer.backend_tokenizer)
                counter.no_truncation()
                counter.no_padding()
                self._counter = counter
            return [len(e.ids) for e in self._counter.encode_batch(list(texts))]

    def embed(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size or self.settings.embedding_batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]
