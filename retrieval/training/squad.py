"""Reading SQuAD-format question sets: contexts to ingest, questions with their gold spans."""

from __future__ import annotations

import json
import lzma
from dataclasses import dataclass
from pathlib import Path

from retrieval.errors import ConfigError

NEAR_CHARS = 200  # how far from `answer_start` a mis-anchored answer is looked for


@dataclass(frozen=True)
class Context:
    """One paragraph of one article: ingested as one document."""

    article: int
    paragraph: int
    title: str
    text: str


@dataclass(frozen=True)
class Gold:
    """A gold answer and where it lies in its context: `context.text[start:end]`."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Question:
    text: str
    context: int  # index into SquadSet.contexts
    answers: tuple[Gold, ...]
    impossible: bool = False


@dataclass(frozen=True)
class SquadSet:
    name: str
    contexts: list[Context]
    questions: list[Question]


def load_squad(path: Path, limit: int | None = None) -> SquadSet:
    """Every context, and the questions (the first `limit` of them when given)."""
    try:
        data = json.loads(read_text(Path(path)))["data"]
    except (OSError, ValueError, KeyError, TypeError, lzma.LZMAError) as e:
        raise ConfigError(f"{path} is not a readable SQuAD-format JSON file ({e})") from e
    contexts: list[Context] = []
    questions: list[Question] = []
    for a, article in enumerate(data):
        for p, paragraph in enumerate(article.get("paragraphs", [])):
            context = Context(a, p, str(article.get("title") or ""), paragraph["context"])
            contexts.append(context)
            for qa in paragraph.get("qas", []):
                golds = tuple(
                    locate(context.text, ans["text"], int(ans["answer_start"]))
                    for ans in qa.get("answers", [])
                    if ans.get("text", "").strip()
                )
                impossible = bool(qa.get("is_impossible")) or not golds
                questions.append(Question(qa["question"], len(contexts) - 1, golds, impossible))
    if limit is not None:
        questions = questions[:limit]
    return SquadSet(Path(path).name, contexts, questions)


def read_text(path: Path) -> str:
    """A file's text; `.xz` files (the bundled real questions) are decompressed."""
    if path.suffix == ".xz":
        return lzma.decompress(path.read_bytes()).decode("utf-8")
    return path.read_text(encoding="utf-8")


def locate(context: str, answer: str, start: int) -> Gold:
    """The gold span without surrounding whitespace, re-anchored when `answer_start` is off.

    Real datasets have answers with a leading space whose offset points past it, or offsets
    a few characters out: the nearest occurrence of the answer text is taken then.
    """
    text = answer.strip()
    if context[start : start + len(text)] == text:
        return Gold(text, start, start + len(text))
    lo = max(0, start - NEAR_CHARS)
    near = context.find(text, lo, start + len(answer) + NEAR_CHARS)
    found = [near] if near >= 0 else []
    while near >= 0:
        near = context.find(text, near + 1, start + len(answer) + NEAR_CHARS)
        if near >= 0:
            found.append(near)
    if not found and (anywhere := context.find(text)) >= 0:
        found = [anywhere]
    if not found:  # not in the context at all: keep the dataset's span as given
        return Gold(text, start, start + len(answer))
    best = min(found, key=lambda i: abs(i - start))
    return Gold(text, best, best + len(text))


def by_article(squad: SquadSet, titles: set[str] | None = None, keep: bool = True) -> SquadSet:
    """One context per article, its paragraphs joined by blank lines (a document as a team
    would have it), answers moved along; `titles` keeps (or with keep=False, drops) those."""
    contexts: list[Context] = []
    questions: list[Question] = []
    articles: dict[int, list[int]] = {}
    for n, c in enumerate(squad.contexts):
        if titles is None or (c.title in titles) == keep:
            articles.setdefault(c.article, []).append(n)
    moved: dict[int, tuple[int, int]] = {}  # old context -> (new context, offset)
    for paragraphs in articles.values():
        text, title = "", squad.contexts[paragraphs[0]].title
        for n in paragraphs:
            offset = len(text) + (2 if text else 0)
            text = f"{text}\n\n{squad.contexts[n].text}" if text else squad.contexts[n].text
            moved[n] = (len(contexts), offset)
        article = squad.contexts[paragraphs[0]].article  # kept: ids stay unique across subsets
        contexts.append(Context(article, 0, title.replace("_", " "), text))
    for q in squad.questions:
        if q.context in moved:
            new, offset = moved[q.context]
            golds = tuple(Gold(g.text, g.start + offset, g.end + offset) for g in q.answers)
            questions.append(Question(q.text, new, golds, q.impossible))
    return SquadSet(squad.name, contexts, questions)
