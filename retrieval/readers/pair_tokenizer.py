"""Question-passage pairs tokenized with `tokenizers` alone, for answering with the trained reader.

A transformers tokenizer costs seconds of imports (torch among them) before the first
question; the trained reader's folder holds the same fast tokenizer as `tokenizer.json`.
`encode_pairs` gives what `spans.encode` gets from the transformers tokenizer (same ids,
masks, offsets and sequence ids; tests/retrieval/readers/test_pair_tokenizer.py compares them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


class EncodedPairs:
    """The arrays by name (`enc["input_ids"]`) and `sequence_ids(row)`, like a BatchEncoding."""

    def __init__(self, encodings: list[Any]) -> None:
        self._encodings = encodings
        self._arrays = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "offset_mapping": np.array([e.offsets for e in encodings], dtype=np.int64),
        }

    def __getitem__(self, name: str) -> np.ndarray:
        return self._arrays[name]

    def sequence_ids(self, row: int) -> list[int | None]:
        return self._encodings[row].sequence_ids


class PairTokenizer:
    """Configured once: a fast tokenizer whose settings change while another thread encodes
    fails ("Already borrowed"), and the Flask server reads in several threads."""

    def __init__(self, folder: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        config = _read_json(folder / "tokenizer_config.json")
        pad = config.get("pad_token") or "[PAD]"
        pad = pad["content"] if isinstance(pad, dict) else pad
        tok.enable_truncation(max_length, strategy="only_second")
        tok.enable_padding(
            direction=config.get("padding_side", "right"),
            pad_id=tok.token_to_id(pad) or 0,
            pad_type_id=int(config.get("pad_token_type_id", 0)),
            pad_token=pad,
        )
        self._tokenizer = tok

    def encode_pairs(self, questions: Sequence[str], contexts: Sequence[str]) -> EncodedPairs:
        """Question first, passage second; passages truncated to fit, rows padded alike."""
        pairs = list(zip(questions, contexts, strict=True))
        return EncodedPairs(self._tokenizer.encode_batch(pairs))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
