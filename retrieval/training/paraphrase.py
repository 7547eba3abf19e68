"""Synonyms from the base encoder's own word embeddings, to word questions as people do.

Real questions rarely reuse their answer sentence's words ("When was it founded?" over
"established in 1842"); a model trained on the sentence's own words learns to match words,
not meaning. The encoder's input embeddings already place "founded" beside "established",
"began" beside "started" and "commenced", "built" beside "constructed": swapping some of a
question's words for such neighbours needs no other model and no data. Some neighbours are
opposites ("largest", "smallest"): a little noise the model learns to read past.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from retrieval.embedding.model_files import resolve_model_path
from retrieval.text import CONTENT_STOPWORDS

# The encoder the trained reader starts from, whose word embeddings also reword questions.
DEFAULT_BASE = "packaged:all-MiniLM-L6-v2"
SWAP = 0.3  # a content word's chance to be replaced
NEIGHBOURS = 3  # the nearest whole words a replacement is drawn from
MIN_SIMILARITY = 0.45  # cosine of input embeddings: below it a "neighbour" is unrelated
_WORD = re.compile(r"\b[a-z]{4,}\b")
_LOOKED_AT = 16  # nearest vocabulary entries searched for NEIGHBOURS other words
_BLOCK = 1024  # words compared with the vocabulary at once (memory: block x vocabulary)


class Paraphraser:
    def __init__(self, vocab: list[str], vectors: np.ndarray) -> None:
        self._vocab = vocab
        self._id = {w: i for i, w in enumerate(vocab)}
        self._vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        self._whole = np.array([bool(_WORD.fullmatch(w)) for w in vocab])  # no ##pieces
        self._near: dict[str, list[str]] = {}

    @classmethod
    def from_base(cls, base: str) -> Paraphraser:
        """From an encoder on disk (`packaged:<name>` or a folder), without a task head."""
        from transformers import AutoModel, AutoTokenizer

        path = resolve_model_path(base)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        return cls.from_model(tokenizer, AutoModel.from_pretrained(path, local_files_only=True))

    @classmethod
    def from_model(cls, tokenizer: Any, model: Any) -> Paraphraser:
        """From a transformers tokenizer and model (its input embedding matrix)."""
        vectors = model.get_input_embeddings().weight.detach().cpu().numpy()
        vocab = tokenizer.convert_ids_to_tokens(list(range(len(vectors))))
        return cls(vocab, vectors)

    def prepare(self, texts: Iterable[str]) -> None:
        """Find the neighbours of every word of `texts` at once (a few matrix products)."""
        words = sorted({w for t in texts for w in _swappable(t)} - self._near.keys())
        known = [w for w in words if w in self._id]
        for b in range(0, len(known), _BLOCK):
            block = known[b : b + _BLOCK]
            sims = self._vectors[[self._id[w] for w in block]] @ self._vectors.T
            sims[:, ~self._whole] = -1.0
            top = np.argpartition(-sims, _LOOKED_AT, axis=1)[:, :_LOOKED_AT]
            for row, word in enumerate(block):
                ranked = sorted(top[row], key=lambda j: -sims[row, j])
                self._near[word] = [
                    self._vocab[j]
                    for j in ranked  # other forms of the word teach nothing
                    if self._vocab[j][:4] != word[:4] and sims[row, j] >= MIN_SIMILARITY
                ][:NEIGHBOURS]
        for w in words:
            self._near.setdefault(w, [])

    def neighbours(self, word: str) -> list[str]:
        if word not in self._near:
            self.prepare([word])
        return self._near[word]

    def rewrite(self, question: str, rng: random.Random, swap: float = SWAP) -> str:
        """The question with some content words replaced by a near neighbour."""

        def replace(m: re.Match[str]) -> str:
            word = m.group(0)
            if word in CONTENT_STOPWORDS or rng.random() >= swap:
                return word
            near = self.neighbours(word)
            return rng.choice(near) if near else word

        return _WORD.sub(replace, question)

    def reword(self, question: str, answer: str, rng: random.Random) -> str:
        """`rewrite`, unless a swapped-in word would give the answer away."""
        changed = self.rewrite(question, rng)
        return question if answer and answer.lower() in changed.lower() else changed


def _swappable(text: str) -> set[str]:
    return {w for w in _WORD.findall(text) if w not in CONTENT_STOPWORDS}
