"""Synthetic questions from the index's own chunks: fast, corpus-agnostic, no model.

A sentence of a chunk becomes a keyword-style question: one answer-like word (a number, a
name, else the longest word) is taken out and replaced by a wh-word, some words are dropped,
some swapped for words of neighbouring sentences and some for words of another document.
Real questions are not copies of their answer sentence: in SQuAD about a third paraphrase
it with synonyms and a seventh need several sentences (Rajpurkar et al. 2016), so a model
fitted on verbatim copies would refuse real answerable questions for not matching word for
word. One small module, meant to be replaced by
a richer generator (the trained reader's) without touching the rest.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.index import ChunkIndex
from retrieval.sentences import sentence_spans
from retrieval.text import CONTENT_STOPWORDS

DROP, NEIGHBOUR, FOREIGN = 0.25, 0.15, 0.15  # a word's chances to go, or to be swapped for a
# word of another sentence of the chunk, or for a word the document may not hold at all
MAX_WORDS = 10
_TOKEN = re.compile(r"[^\W_][\w'-]*[^\W_]|[^\W_]")


@dataclass(frozen=True)
class SyntheticQuestion:
    text: str
    doc_id: str  # the document it was made from: left out, it makes the question unanswerable


def sample_chunks(index: ChunkIndex, n: int, rng: random.Random) -> list[tuple[str, str]]:
    """(doc_id, text) of up to n chunks drawn at random from the index."""
    keys = index.every_chunk_key()
    picked = rng.sample(keys, n) if n <= len(keys) else rng.choices(keys, k=n) if keys else []
    # A small index lends each chunk to several questions.
    return [(d, t) for d, t in index.chunk_texts(picked) if d]


def make_question(
    doc_id: str, text: str, rng: random.Random, foreign: Sequence[str] = ()
) -> SyntheticQuestion | None:
    """A question about one sentence of `text`, or None when no sentence is long enough.

    `foreign`: words of other documents, standing in for a question's own wording.
    """
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    usable = [i for i, s in enumerate(sentences) if 6 <= len(content_words(s)) <= 80]
    if not usable:
        return None
    i = rng.choice(usable)
    words = content_words(sentences[i])
    answer = _answer_position(words, rng)
    wh = "how many" if words[answer][0].isdigit() else "what"
    start = max(0, min(answer - MAX_WORDS // 2, len(words) - MAX_WORDS - 1))
    window = [w for j, w in enumerate(words[start : start + MAX_WORDS + 1]) if j + start != answer]
    others = [w for j, s in enumerate(sentences) if j != i for w in content_words(s)]
    kept = []
    for word in window:
        roll = rng.random()
        if roll < DROP:
            continue
        if roll < DROP + NEIGHBOUR and others:
            word = rng.choice(others)
        elif roll < DROP + NEIGHBOUR + FOREIGN and foreign:
            word = rng.choice(foreign)
        kept.append(word)
    if len(kept) < 3:
        kept = window[:3]
    return SyntheticQuestion(f"{wh} {' '.join(kept)}?", doc_id)


def content_words(sentence: str) -> list[str]:
    """The words a question is made of (stop words left out), in order, case kept."""
    return [w for w in _TOKEN.findall(sentence) if w.lower() not in CONTENT_STOPWORDS]


def _answer_position(words: list[str], rng: random.Random) -> int:
    """A number, else a capitalised word after the first, else the longest word."""
    numbers = [j for j, w in enumerate(words) if any(c.isdigit() for c in w)]
    names = [j for j, w in enumerate(words) if j and w[0].isupper()]
    if numbers or names:
        return rng.choice(numbers or names)
    return max(range(len(words)), key=lambda j: len(words[j]))
