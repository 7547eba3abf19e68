"""The trained reader's tokenizer without transformers gives what transformers gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.embedding.embedder import resolve_model_path
from retrieval.readers.pair_tokenizer import PairTokenizer
from retrieval.readers.span_decoding import MAX_LENGTH, encode
from retrieval.settings import DEFAULT_EMBEDDER

QUESTION = "When was the tower completed?"
CONTEXTS = [
    "The tower was completed in 1889. It is 330 metres tall.",
    "Cats sleep a lot.",
    "Rotate the key from Settings > API keys; the old key works for 24 hours. " * 30,  # cut
    "Ünïcödé, naïve café — “quoted” text, emoji 🙂 and tabs\tand\nnew lines.",
    "",
]


@pytest.fixture(scope="module")
def folder() -> Path:
    return Path(resolve_model_path(DEFAULT_EMBEDDER))


def test_pairs_encode_as_the_transformers_tokenizer_encodes_them(folder: Path) -> None:
    from transformers import AutoTokenizer

    reference = encode(AutoTokenizer.from_pretrained(str(folder)), QUESTION, CONTEXTS)
    ours = encode(PairTokenizer(folder, MAX_LENGTH), QUESTION, CONTEXTS)
    for name in ("input_ids", "token_type_ids", "attention_mask", "offset_mapping"):
        np.testing.assert_array_equal(ours[name], reference[name], err_msg=name)
    for row in range(len(CONTEXTS)):
        assert ours.sequence_ids(row) == reference.sequence_ids(row)
    assert ours["input_ids"].shape[1] == MAX_LENGTH  # the long passage was cut to fit
