"""Questions a manual's reader asks, made from the index's own definition lists.

In a manual the fact people ask for is mostly a term (an option, a setting, a command) and
they ask it in the words of its description: "How do I read lines from the standard input
into an array?" is answered by `mapfile`, whose entry says "Read lines from the standard
input into the indexed array variable array." The parser-made questions of generate.py ask
for words inside a sentence and never for the term before it; these ask for the term, built
from its description's first sentence as its verb opens it:

- an imperative ("Read lines ...", "Show what would be copied"): "How do I read lines ...?"
- a verb in the third person ("Causes printf to output ..."): "Which option causes ...?"
- "If set, ..." / "When enabled, ...": "Which setting makes it so that ...?"

Other openings (a noun phrase: "The maximum number of commands ...") ask for a value more
than for the term, and make no question.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

from retrieval.readers.definitions import entry_around
from retrieval.sentences import sentences_of
from retrieval.types import Hit

MAX_DESCRIPTION_WORDS = 30  # past this the question is a paragraph, not something people ask
# "If set, ...", and "If set, and Readline is being used, ...": the condition dropped.
_CONDITION = re.compile(
    r"^(?:if|when)\s+(?:set|enabled|true|on|given|present)(?:,\s+and\s+[^,]+)?,\s+", re.I
)
MIN_DESCRIPTION_WORDS = 4  # "Set the mark." asks nothing a reader could tell apart


def asked(
    nlp: Any,
    chunks: Iterable[tuple[str, str]],
    rng: random.Random,
    limit: int,
    deadline: float,
) -> list[tuple[str, str, str, str]]:
    """(question, term, description, group) for at most `limit` entries in a seeded random
    order, parsed (`nlp`: spaCy's English pipeline) until `deadline` (time.monotonic()): a
    large index's entries are sampled, not all parsed."""
    found = list(entries(chunks))
    rng.shuffle(found)
    parsed = nlp.pipe((description for _, _, description in found), batch_size=64)
    out = []
    for (group, term, description), doc in zip(found, parsed, strict=False):
        if len(out) >= limit or time.monotonic() > deadline:
            break
        if (question := question_for(doc)) is not None:
            out.append((question, term, description, group))
    return out


def entries(chunks: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str, str]]:
    """(group, term, first sentence of its description) of every definition list entry in
    the (group, chunk text) pairs, each once, where the term stands once in its chunk (so
    its place there is certain)."""
    seen: set[tuple[str, str]] = set()
    for group, text in chunks:
        hit = Hit(key="", doc_id=group, text=text, score=0.0)
        for m in re.finditer(r"\n\n(?=\S)", text):
            entry = entry_around(hit, m.end(), m.end())
            if entry is None:
                continue
            term, description = entry.term(text), text[m.end() : entry.end]
            first = next(iter(sentences_of(description)), None)
            name = " ".join(term.split())
            if first is None or text.count(term) != 1 or (group, name) in seen:
                continue
            seen.add((group, name))
            yield group, term, " ".join(description[first[0] : first[1]].split())


def question_for(parsed: Any) -> str | None:
    """The question a reader of the description would ask for its term (spaCy's parse of the
    description's first sentence), or None when its opening asks for something else."""
    text = parsed.text.strip().rstrip(".:;")
    if not MIN_DESCRIPTION_WORDS <= len(text.split()) <= MAX_DESCRIPTION_WORDS:
        return None
    if m := _CONDITION.match(text):
        return f"Which setting makes it so that {text[m.end() :]}?"
    first = parsed[0]
    rest = text[len(first.text) :]
    if first.tag_ == "VB" and first.dep_ == "ROOT":
        return f"How do I {first.text.lower()}{rest}?"
    if first.tag_ == "VBZ" and first.dep_ == "ROOT":
        return f"Which option {first.text.lower()}{rest}?"
    return None
