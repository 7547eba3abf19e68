"""Synthetic questions, the one generator for training, calibration and the rerank weights.

A sample of the index's chunks (`made_questions`): a sentence's answer candidate (a number, a
date, a name, a noun phrase, what a definition says) becomes a question in a question's
order, and some of its words are swapped for the encoder's word-embedding neighbours.
Questions that merely drop words from their sentence match it better than real ones match
theirs, and a threshold fitted on them refuses real answerable questions for not matching word
for word (BENCHMARKS.md, refusals).

One question from one sentence (`make_question`): a rule-based cloze translation (Lewis et
al. 2019): the question word comes from the answer's type, the words come from the answer's
own clause, shortened to a question's length, moved into a question's order where a rule can
("the tower was completed in 1889" asks "When was the tower completed?": the auxiliary
follows the question word, the preposition that pointed at the answer goes) and noised
(words dropped, neighbours swapped) so that a model cannot solve it by copying the sentence
word for word.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace

from retrieval.index.chunks import ChunkIndex
from retrieval.sentences import sentence_spans
from retrieval.training.candidates import Candidate, candidates
from retrieval.training.paraphrase import DEFAULT_BASE, Paraphraser

WH = {
    "date": ("when", "what year", "in what year"),
    "percent": ("what percentage", "what percent", "how much"),
    "measure": ("how much", "how long", "how far", "what"),
    "money": ("how much", "how much money", "what amount"),
    "count": ("how many",),
    "person": ("who", "who", "which person"),
    "place": ("where", "where", "in what place"),
    "term": ("what", "which", "what name"),
    "default": ("what is the default", "what default value", "what"),
    "definition": ("what", "what kind of thing"),
    "phrase": ("what", "what", "which"),
    "reason": ("why",),
}
_CLAUSE_END = re.compile(r"[;:()\[\]]|,? (?:and|but|which|while|whereas|although) ")
_WORD = re.compile(r"\d[\d,.]*\d\w*|[\w'’-]+(?:\.\w+)*")
MAX_SIDE_WORDS = 9
REORDERED = 0.1  # share of questions whose clause halves swap places
AUXILIARIES = {
    "is",
    "are",
    "was",
    "were",
    "has",
    "have",
    "had",
    "can",
    "could",
    "will",
    "would",
    "may",
    "might",
    "should",
    "must",
    "does",
    "do",
    "did",
}
# Words that point at the answer ("in 1889", "about 6,400 km"): the question word replaces them.
POINTERS = {
    "date": {"in", "on", "at", "during", "since", "by", "until", "from", "of", "around"},
    "place": {"in", "at", "near", "on", "into"},
    "percent": {"about", "approximately", "around", "nearly", "almost", "over", "of", "by"},
    "measure": {"about", "approximately", "around", "nearly", "almost", "over", "of", "for"},
    "money": {"about", "approximately", "around", "nearly", "almost", "over", "of", "for"},
    "count": {"about", "approximately", "around", "nearly", "almost", "over", "of"},
}
ARTICLES = {"the", "a", "an"}
LOWER_FIRST = ARTICLES | {"this", "that", "these", "those", "it", "they", "he", "she", "its"}


def make_question(sentence: str, c: Candidate, rng: random.Random) -> str | None:
    """A question whose answer is sentence[c.start:c.end], or None when too little is left."""
    if c.kind == "predicate":
        return _predicate_question(c, rng)
    left = _clause_left(sentence[: c.start])
    right = _clause_right(sentence[c.end :])
    left_words, right_words = _words(left)[-MAX_SIDE_WORDS:], _words(right)[:MAX_SIDE_WORDS]
    if len(left_words) + len(right_words) < 3:
        return None
    wh = rng.choice(WH[c.kind])
    if c.kind == "count" and c.unit:
        wh = f"how many {c.unit}"
        right_words = right_words[1:] if right_words[:1] == [c.unit] else right_words
    left_words = _without_pointer(left_words, c.kind)
    if _is_subject(left_words):
        body = right_words  # "X did Y" -> "who did Y"
    elif rng.random() < REORDERED:
        body = right_words + left_words
    else:
        body = _inverted(left_words) + right_words  # "when was the tower completed"
    body = _noised(body, rng)
    answer = sentence[c.start : c.end].lower()
    question = " ".join([wh, *body]).strip(" ,.") + "?"
    if answer in question.lower() or len(body) < 2:
        return None
    return question[0].upper() + question[1:]


def _predicate_question(c: Candidate, rng: random.Random) -> str:
    """ "X is Y" asks "what is X?" (the subject and its verb are kept in `unit`)."""
    verb, subject = c.unit.split(" ", 1) if " " in c.unit else ("is", c.unit)
    verb = verb if verb in ("is", "are", "was", "were") else "is"
    words = _noised(_words(subject), rng) or _words(subject)
    return f"What {verb} {' '.join(words)}?"


def _clause_left(text: str) -> str:
    cut = list(_CLAUSE_END.finditer(text))
    return text[cut[-1].end() :] if cut else text


def _clause_right(text: str) -> str:
    m = _CLAUSE_END.search(text)
    return text[: m.start()] if m else text


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _is_subject(left: list[str]) -> bool:
    return len(left) <= 1


def _without_pointer(left: list[str], kind: str) -> list[str]:
    """The clause before the answer without the article or preposition that led into it."""
    pointers = POINTERS.get(kind, set()) | ARTICLES
    while left and left[-1].lower() in pointers:
        left = left[:-1]
    return left


def _inverted(left: list[str]) -> list[str]:
    """ "the tower was completed" -> "was the tower completed": an auxiliary after a short
    subject moves in front of it, as in a question."""
    for i, w in enumerate(left[1:6], start=1):
        if w.lower() in AUXILIARIES:
            first = left[0].lower() if left[0].lower() in LOWER_FIRST else left[0]
            return [w.lower(), first, *left[1:i], *left[i + 1 :]]
    return left


def _noised(words: list[str], rng: random.Random) -> list[str]:
    """Drop about a tenth of the words and swap some neighbours: real questions leave words
    out and reorder them, they rarely add unrelated ones."""
    out = [w for w in words if rng.random() > 0.1 or len(words) < 5]
    for i in range(len(out) - 1):
        if rng.random() < 0.04:
            out[i], out[i + 1] = out[i + 1], out[i]
    return out


@dataclass(frozen=True)
class SyntheticQuestion:
    text: str
    doc_id: str  # the document it was made from: left out, it makes the question unanswerable
    answer: str = ""
    key: str = ""  # the chunk it was made from


def made_questions(
    index: ChunkIndex, n: int, rng: random.Random, *, reuse: bool = True
) -> list[SyntheticQuestion]:
    """Up to n questions about chunks drawn at random (2n drawn: not every chunk yields one),
    reworded with the encoder's word neighbours. `reuse`: a small index lends a chunk to
    several questions (the calibration); else each chunk makes one at most (the reranker)."""
    made = []
    for key, doc_id, text in sample_chunks(index, 2 * n, rng, reuse=reuse):
        if (q := question_about(doc_id, text, rng)) is not None:
            made.append(replace(q, key=key))
        if len(made) == n:
            break
    return reworded(made, Paraphraser.from_base(DEFAULT_BASE), rng)


def sample_chunks(
    index: ChunkIndex, n: int, rng: random.Random, *, reuse: bool = True
) -> list[tuple[str, str, str]]:
    """(key, doc_id, text) of up to n chunks drawn at random from the index; with `reuse`,
    n of them even where the index holds fewer."""
    keys = index.every_chunk_key()
    if n <= len(keys) or not reuse:
        picked = rng.sample(keys, min(n, len(keys)))
    else:
        picked = rng.choices(keys, k=n) if keys else []
    return [(k, d, t) for k, d, t in index.chunk_records(picked) if d]


def question_about(doc_id: str, text: str, rng: random.Random) -> SyntheticQuestion | None:
    """A question about one sentence of `text`, or None when no sentence yields one."""
    spans = list(sentence_spans(text))
    rng.shuffle(spans)
    for s, e in spans:
        sentence = text[s:e]
        found = candidates(sentence)
        rng.shuffle(found)
        for c in found:
            if (question := make_question(sentence, c, rng)) is not None:
                return SyntheticQuestion(question, doc_id, sentence[c.start : c.end])
    return None


def reworded(
    questions: list[SyntheticQuestion], paraphraser: Paraphraser, rng: random.Random
) -> list[SyntheticQuestion]:
    paraphraser.prepare(q.text for q in questions)
    return [replace(q, text=paraphraser.reword(q.text, q.answer, rng)) for q in questions]
