"""The real questions the shipped reader learns from, and their training groups.

About 40,000 questions people wrote: the bundled SQuAD sample (`sample/`) and `real_qa/`
(more SQuAD training questions, SQuADShifts on new Wikipedia articles, Reddit comments and
product reviews, unanswerable SQuAD 2.0 questions; licenses in `real_qa/README.md`). Too many
to ask through a temporary index on a laptop, so each question's passages are chosen in
memory the way the product chooses them (`passages.passages`) from its own paragraph and the
paragraphs of its file that share most of its rarer words: the model learns to tell the
answer's window from look-alike ones, wrong windows labelled "no answer" (shared
normalization), and unanswerable questions teach "no answer" on passages about their topic.

Held out, never trained on: the sample's three measuring articles (asked through retrieval
by `measure`), and about HELD_OUT_PER_MILLE of the other paragraphs, chosen by a hash of their
text, which check the stage with their passages given.
"""

from __future__ import annotations

import hashlib
import math
import random
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.readers import passages as passage_choice
from retrieval.text import terms
from retrieval.training.groups import Gold, Group, gold_window, group_for
from retrieval.training.squad import Context, Question, SquadSet, load_squad, read_text
from retrieval.types import Hit

FOLDER = Path(__file__).parent / "real_qa"
SAMPLE = Path(__file__).parent / "sample" / "squad-v1.1-train-sample.json"
SAMPLE_HELD_OUT = frozenset({"Antibiotics", "IPod", "Spectre_(2015_film)"})
HELD_OUT_PER_MILLE = 20  # of the real_qa paragraphs
FIT_PER_MILLE = 100  # of the sample's training questions: kept out to fit the prior's weight
NEIGHBOURS = 3  # look-alike paragraphs a question's passages are chosen among, beside its own
GROUP_SIZE = 2  # passages per training question: the answer's and the best wrong one
NO_ANSWER_SHARE = 0.15  # answerable questions asked without their passage: "no answer" is right


@dataclass(frozen=True)
class Part:
    """One bundled file, its questions split into those trained on and those held out."""

    name: str
    train: SquadSet
    held: SquadSet
    fit: SquadSet  # the sample's questions the retrieval prior's weight is fitted on


def data_files() -> list[Path]:
    return [SAMPLE, *sorted(FOLDER.glob("*.json.xz"))]


def sha256s() -> dict[str, str]:
    """What went in, for the shipped reader's manifest: each file's JSON, decompressed (the
    checksums `real_qa/README.md` lists)."""
    return {
        p.name.removesuffix(".xz"): hashlib.sha256(read_text(p).encode("utf-8")).hexdigest()
        for p in data_files()
    }


def parts(names: Iterable[str] | None = None) -> list[Part]:
    """The bundled files (those whose name starts with one of `names`; None: all)."""
    out = []
    for path in data_files():
        if names is not None and not any(path.name.startswith(n) for n in names):
            continue
        squad = load_squad(path)
        held_ctx = {i for i, c in enumerate(squad.contexts) if _held_out(path, c)}
        fit = _subset(squad, lambda q, h=held_ctx, p=path: _fitted(p, q, h))
        train = _subset(
            squad, lambda q, h=held_ctx, p=path: q.context not in h and not _fitted(p, q, h)
        )
        held = _subset(squad, lambda q, h=held_ctx: q.context in h)
        out.append(Part(path.name, train, held, fit))
    return out


def _held_out(path: Path, c: Context) -> bool:
    if path == SAMPLE:
        return c.title in SAMPLE_HELD_OUT
    return zlib.crc32(c.text.encode("utf-8")) % 1000 < HELD_OUT_PER_MILLE


def _fitted(path: Path, q: Question, held: set[int]) -> bool:
    return (
        path == SAMPLE
        and q.context not in held
        and zlib.crc32(q.text.encode("utf-8")) % 1000 < FIT_PER_MILLE
    )


def _subset(squad: SquadSet, keep: Callable[[Question], bool]) -> SquadSet:
    return SquadSet(squad.name, squad.contexts, [q for q in squad.questions if keep(q)])


def usual_answer(q: Question) -> int:
    """The index of the answer most people gave (SQuADShifts lists several; the first is
    sometimes a whole sentence); ties go to the shorter."""
    counts = Counter((g.start, g.end) for g in q.answers)
    best = max(counts, key=lambda se: (counts[se], -(se[1] - se[0])))
    return next(i for i, g in enumerate(q.answers) if (g.start, g.end) == best)


def groups(
    squad: SquadSet,
    rng: random.Random,
    *,
    origin: str = "squad",
    no_answer_share: float = NO_ANSWER_SHARE,
    questions: list[Question] | None = None,
) -> list[Group]:
    """Each question (of `questions`, default all of the set's) with the passages the reader
    would be shown, labelled; questions without an answer teach "no answer"."""
    pool = _Pool(squad)
    out = []
    for q in squad.questions if questions is None else questions:
        hits = pool.hits(q)
        chosen = passage_choice.passages(q.text, hits)
        context = squad.contexts[q.context]
        if not q.answers:
            group = group_for(q.text, chosen, None, size=GROUP_SIZE, rng=rng, origin=origin)
        else:
            g = q.answers[usual_answer(q)]
            if rng.random() < no_answer_share:  # asked as if its passage were not there
                lacking = [p for p in chosen if g.text.lower() not in p.text.lower()]
                group = group_for(q.text, lacking, None, size=GROUP_SIZE, rng=rng, origin=origin)
            else:
                gold = Gold(_doc(q.context), g.start, g.end, g.text)
                fallback, _ = gold_window(context.text, g.start, g.end)
                group = group_for(
                    q.text, chosen, gold, size=GROUP_SIZE, fallback=fallback, rng=rng, origin=origin
                )
        if group is not None:
            out.append(group)
    return out


def all_groups(
    chosen: list[Part], seed: int, *, held: bool = False, share: float = 1.0
) -> Iterator[Group]:
    """Every part's training groups (or held-out ones; `share` of them), each part seeded on its
    own so that adding a file does not change another's groups."""
    for part in chosen:
        rng = random.Random(f"{seed}:{part.name}")
        squad = part.held if held else part.train
        asked = squad.questions
        if share < 1.0:
            asked = rng.sample(asked, round(share * len(asked)))
        yield from groups(
            squad, rng, questions=asked, no_answer_share=0.0 if held else NO_ANSWER_SHARE
        )


def _doc(context: int) -> str:
    return f"context-{context}"


class _Pool:
    """The set's paragraphs, ranked for a question by the IDF weight of the words they share."""

    def __init__(self, squad: SquadSet) -> None:
        self.squad = squad
        self.terms = [terms(c.text) for c in squad.contexts]
        postings: dict[str, list[int]] = defaultdict(list)
        for i, ts in enumerate(self.terms):
            for t in ts:
                postings[t].append(i)
        n = len(squad.contexts)
        self.postings = {t: np.asarray(ids) for t, ids in postings.items()}
        self.idf = {t: math.log(1 + n / len(ids)) for t, ids in postings.items()}

    def hits(self, q: Question) -> list[Hit]:
        """Its own paragraph and the NEIGHBOURS others that share most of its words."""
        scores = np.zeros(len(self.terms))
        for t in terms(q.text):
            if t in self.postings:
                scores[self.postings[t]] += self.idf[t]
        own = scores[q.context]
        scores[q.context] = -1.0
        k = min(NEIGHBOURS, len(scores) - 1)
        others = np.argpartition(-scores, k)[:k] if k > 0 else []
        top = max(own, *(scores[i] for i in others), 1e-9)
        chosen = [(q.context, own), *((int(i), scores[i]) for i in others if scores[i] > 0)]
        return [
            Hit(
                key=_doc(i),
                doc_id=_doc(i),
                text=self.squad.contexts[i].text,
                score=s / top,
                end=len(self.squad.contexts[i].text),
            )
            for i, s in chosen
        ]
