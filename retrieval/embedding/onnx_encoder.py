"""A sentence-transformers ONNX export run with onnxruntime and `tokenizers` alone.

Loading sentence-transformers imports torch and transformers: seconds before the first
question on a small machine, for a model that onnxruntime runs by itself. This reads the
export's own files (tokenizer.json, modules.json, the pooling config) and reproduces what
`SentenceTransformer.encode` does with them: the same length-sorted batches, the same
padding and truncation, mean or CLS pooling, unit vectors. An export with any other module
(a Dense layer, a Router) is `UnsupportedExport`, and the caller loads it the usual way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.embedding.model_files import session_options

TRANSFORMER, POOLING, NORMALIZE = "Transformer", "Pooling", "Normalize"


class UnsupportedExport(Exception):
    """The export has modules this runner does not implement."""


class OnnxEncoder:
    """`encode()`, `max_seq_length`, `backend_tokenizer` and the dimension, as the Embedder
    uses them from a SentenceTransformer."""

    def __init__(self, folder: Path, file_name: str) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.pooling = _pooling_mode(folder)
        self.max_seq_length = _max_seq_length(folder)
        self.backend_tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        pad = _read_json(folder / "tokenizer_config.json")
        pad_token = pad.get("pad_token") or "[PAD]"
        pad_token = pad_token["content"] if isinstance(pad_token, dict) else pad_token
        self._tokenizer.enable_truncation(self.max_seq_length)
        self._tokenizer.enable_padding(
            pad_id=self._tokenizer.token_to_id(pad_token) or 0,
            pad_type_id=int(pad.get("pad_token_type_id", 0)),
            pad_token=pad_token,
        )
        self.session = ort.InferenceSession(
            str(folder / file_name), session_options(), providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim

    def encode(self, texts: Sequence[str], batch_size: int = 32, **_: Any) -> np.ndarray:
        """Unit vectors, one per text, in the order given."""
        order = np.argsort([-len(t) for t in texts])  # as sentence-transformers batches them
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for b in range(0, len(order), batch_size):
            rows = order[b : b + batch_size]
            out[rows] = self._embed_batch([texts[i] for i in rows])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        tokens = self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        if self.pooling == "cls":
            pooled = tokens[:, 0]
        else:
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (tokens * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)


def _pooling_mode(folder: Path) -> str:
    """mean or cls, from modules.json and the pooling config; anything else is unsupported."""
    modules = _read_json(folder / "modules.json", [])
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    if not kinds or kinds[0] != TRANSFORMER or set(kinds[1:]) - {POOLING, NORMALIZE}:
        raise UnsupportedExport(f"modules {kinds} in {folder}")
    pooling = next((m for m in modules if m["type"].endswith(POOLING)), None)
    if pooling is None:
        raise UnsupportedExport(f"no pooling module in {folder}")
    config = _read_json(folder / pooling.get("path", "") / "config.json")
    mode = config.get("pooling_mode") or (
        "cls"
        if config.get("pooling_mode_cls_token")
        else "mean"
        if config.get("pooling_mode_mean_tokens")
        else None
    )
    if mode not in ("mean", "cls"):
        raise UnsupportedExport(f"pooling {config} in {folder}")
    return mode


def _max_seq_length(folder: Path) -> int:
    """What sentence-transformers truncates to: its own config, else the tokenizer's limit."""
    stated = _read_json(folder / "sentence_bert_config.json").get("max_seq_length")
    limit = _read_json(folder / "tokenizer_config.json").get("model_max_length")
    if stated:
        return int(stated)
    if limit and limit < 100_000:  # transformers writes a huge number for "no limit"
        return int(limit)
    raise UnsupportedExport(f"no maximum sequence length in {folder}")


def _read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {} if default is None else default
