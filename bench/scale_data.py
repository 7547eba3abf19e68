"""Synthetic corpora for the scale benchmark: real COVID-QA sentences, realistic vectors.

Texts: each chunk is a run of ~200 tokens of sentences from one COVID-QA article, taken
from a random place and lightly shuffled, so the vocabulary and term statistics that BM25
and the inverted index see are those of the real articles.
Vectors: the first `base` chunks are embedded with the real model; every later chunk is
a recombination of its article's sentences, so its vector is a recombination too: a random
convex mix of PARTS real vectors of the same article, plus Gaussian noise, renormalised.
Neighbourhoods then look like a real corpus's (topics, near neighbours at cosine ~0.9), not
random points on the sphere. With only 98 articles, 1M chunks crowd each topic: many chunks
lie about as close to a question as its 10th nearest (the bench reports how many).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.sentences import sentence_spans
from retrieval.training.squad import SquadSet

CHUNK_CHARS = 1000  # ~200 cl100k tokens of this scientific English
NOISE = 0.3  # norm of the Gaussian part of a derived vector, before renormalising
PARTS = 3  # real vectors of the same article mixed into a derived one
BLOCK = 10_000  # chunks drawn from one random stream


@dataclass(frozen=True)
class SynthChunk:
    article: int
    title: str
    text: str


class Corpus:
    """Deterministic synthetic chunks: chunk i is the same text on every run."""

    def __init__(self, squad: SquadSet, seed: int = 7) -> None:
        self.seed = seed
        self.titles = [c.title for c in squad.contexts]
        self.sentences = [[c.text[s:e] for s, e in sentence_spans(c.text)] for c in squad.contexts]
        sizes = np.array([len(s) for s in self.sentences], dtype=float)
        self.weights = sizes / sizes.sum()  # long articles give more chunks, as in real use

    def chunks(self, start: int, stop: int) -> Iterator[SynthChunk]:
        for b in range(start // BLOCK, (stop + BLOCK - 1) // BLOCK):
            rng, articles = self._block(b)
            for j, article in enumerate(articles[: stop - b * BLOCK]):
                chunk = self._chunk(rng, int(article))  # always drawn: keeps the rng in step
                if b * BLOCK + j >= start:
                    yield chunk

    def articles(self, start: int, stop: int) -> np.ndarray:
        """The article of each chunk in [start, stop), without making the texts."""
        blocks = [self._block(b)[1] for b in range(start // BLOCK, (stop + BLOCK - 1) // BLOCK)]
        offset = (start // BLOCK) * BLOCK
        return np.concatenate(blocks)[start - offset : stop - offset].astype(np.int32)

    def _block(self, b: int) -> tuple[np.random.Generator, np.ndarray]:
        rng = np.random.default_rng([self.seed, b])
        return rng, rng.choice(len(self.sentences), size=BLOCK, p=self.weights)

    def _chunk(self, rng: np.random.Generator, article: int) -> SynthChunk:
        sentences = self.sentences[article]
        first = int(rng.integers(len(sentences)))
        picked: list[str] = []
        size = 0
        for k in range(first, first + len(sentences)):
            s = sentences[k % len(sentences)]
            picked.append(s)
            size += len(s) + 1
            if size >= CHUNK_CHARS * rng.uniform(0.6, 1.1):
                break
        if len(picked) > 2:  # a few neighbouring sentences change places
            for _ in range(int(rng.integers(1, 3))):
                a = int(rng.integers(len(picked) - 1))
                picked[a], picked[a + 1] = picked[a + 1], picked[a]
        return SynthChunk(article, self.titles[article], " ".join(picked)[: CHUNK_CHARS * 2])


def base_vectors(corpus: Corpus, base: int, embed, identity: str) -> np.ndarray:
    """The real embeddings of the first `base` chunks, cached on disk between runs."""
    key = hashlib.sha1(f"{identity}|{corpus.seed}|{base}|{CHUNK_CHARS}".encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / "qa-scale-bench" / f"base-{key}.npy"
    if path.exists():
        return np.load(path)
    vectors = embed([c.text for c in corpus.chunks(0, base)])
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp.npy")
    np.save(partial, vectors)
    partial.replace(path)
    return vectors


def derived_vectors(
    base: np.ndarray, base_articles: np.ndarray, articles: np.ndarray, seed: int
) -> np.ndarray:
    """Vectors for chunks past the base: a noisy convex mix of real ones of the same article."""
    rng = np.random.default_rng([seed, 99, len(articles)])
    by_article = {a: np.flatnonzero(base_articles == a) for a in np.unique(base_articles)}
    fallback = np.arange(len(base))
    picks = np.empty((len(articles), PARTS), dtype=np.int64)
    for a in np.unique(articles):
        rows = np.flatnonzero(articles == a)
        picks[rows] = rng.choice(by_article.get(a, fallback), size=(len(rows), PARTS))
    weights = rng.dirichlet(np.ones(PARTS), size=len(articles)).astype(np.float32)
    out = np.einsum("np,npd->nd", weights, base[picks])
    noise = rng.standard_normal(out.shape, dtype=np.float32)
    out += noise * (NOISE / np.sqrt(base.shape[1]))
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def all_vectors(corpus: Corpus, n: int, base: np.ndarray, block: int = 100_000) -> np.ndarray:
    """n vectors: the real base first, derived ones after (made block by block)."""
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    real = min(n, len(base))
    out[:real] = base[:real]
    base_articles = corpus.articles(0, len(base))
    for start in range(real, n, block):
        stop = min(n, start + block)
        out[start:stop] = derived_vectors(
            base, base_articles, corpus.articles(start, stop), corpus.seed + start
        )
    return out


def exact_top_k(
    vectors: np.ndarray, queries: np.ndarray, k: int, block: int = 200_000
) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force cosine top-k (ids, similarities; vectors are unit length): the truth."""
    best_sims = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(vectors), block):
        sims = queries @ vectors[start : start + block].T
        top = np.argpartition(-sims, min(k, sims.shape[1] - 1), axis=1)[:, :k]
        best_sims = np.hstack([best_sims, np.take_along_axis(sims, top, axis=1)])
        best_ids = np.hstack([best_ids, top + start])
        keep = np.argsort(-best_sims, axis=1)[:, :k]
        best_sims = np.take_along_axis(best_sims, keep, axis=1)
        best_ids = np.take_along_axis(best_ids, keep, axis=1)
    return best_ids, best_sims


def crowding(vectors: np.ndarray, queries: np.ndarray, kth: np.ndarray, delta: float = 0.01):
    """Per query, how many vectors lie within `delta` cosine of its k-th nearest."""
    counts = np.zeros(len(queries), dtype=np.int64)
    for start in range(0, len(vectors), 200_000):
        sims = queries @ vectors[start : start + 200_000].T
        counts += (sims >= kth[:, None] - delta).sum(axis=1)
    return counts
