"""Definition list entries: a term and its description are one unit.

Manuals and references are mostly definition lists: an option, a setting or an API name on
its own line, then what it does (`-L, --location`, then "If the server reports that the
requested page has moved ..."). People ask about the description in their own words ("How
do I make curl follow a page that moved?"), and what they need is the term: so an answer
read in a description is given as its term, shown with the description, unless the question
already names the term (then it asks what the term does, and the description answers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from retrieval.readers.headings import ENDS_SENTENCE, MAX_HEADING_WORDS, OPTION
from retrieval.sentences import context_of
from retrieval.text import terms
from retrieval.types import Hit, Span

# A capitalized plain word opening a short line ("Parental leave", "Overview") is a label of
# prose, not a name a reader would type: such a line is shown with what follows, never given
# as the answer in its place.
_PLAIN_WORD = re.compile(r"^[A-Z][a-z]+$")
# A term's name ends where its arguments begin: `mapfile [-d delim]`, `join(path, *paths)`.
_ARGUMENTS = re.compile(r"\s[\[<({=]|\(")
# A synopsis's optional and placeholder arguments: `mapfile [-d delim] [-n count] [array]`
# is one name, however many arguments it lists.
_ARGUMENT_GROUP = re.compile(r"\[[^\]]*\]|<[^>]*>")
# A description longer than this is shown from the term to the answer's sentence only.
MAX_SHOWN = 600
# "How do I ...", "Can I ...", "Is there a way ...": the question asks for a means, which is
# the term; "How many ...", "Which file ...": it asks for a value the description may state.
_ASKS_MEANS = re.compile(
    r"^\W*(?:how(?!\s+(?:many|much|long|often|far|old|big|large|fast|high)\b)"
    r"|can|could|is there)\b",
    re.IGNORECASE,
)
# A span under this share of its sentence is a phrase the reader picked out (a value, a
# name), not the sentence itself.
PHRASE_SHARE = 0.6


@dataclass(frozen=True)
class Entry:
    """Where a definition list entry lies in its chunk's text."""

    term_start: int
    term_end: int
    end: int  # the end of the description's paragraph that holds the answer

    def term(self, text: str) -> str:
        return text[self.term_start : self.term_end]

    def named_in(self, question: str, text: str) -> bool:
        """Does the question name the term itself (then the description answers it)?"""
        term = self.term(text)
        cut = _ARGUMENTS.search(term, 1)
        return bool(terms(term[: cut.start()] if cut else term) & terms(question))


def term_before(hit: Hit, start: int) -> int | None:
    """Where the term of a definition list entry begins, when hit.text[start:] opens that
    entry's description ("-L, --location" then "If the server reports ..."): the term and its
    description are one unit, shown together. None when the block before is no term (a
    heading of the hit's path, a sentence, a long line, or no block at all)."""
    text = hit.text
    block = text.rfind("\n\n", 0, start)
    if block < 0 or text[block:start].strip():
        return None  # the sentence does not open its block
    line_start = text.rfind("\n\n", 0, block) + 1
    raw = text[line_start:block]
    line = raw.strip()
    first, *rest = line.split("\n") if line else [""]
    if not first or line in {h.strip() for h in hit.heading.split(" > ")}:
        return None
    # A synopsis may wrap onto indented lines; a chunk that opens inside one holds no term.
    if any(not r[:1].isspace() for r in rest) or (line_start == 0 and raw[:1] in " \t[("):
        return None
    if line == hit.title.strip() or line.endswith(ENDS_SENTENCE):
        return None
    if OPTION.match(line) or len(_ARGUMENT_GROUP.sub(" ", line).split()) <= MAX_HEADING_WORDS:
        return line_start + (len(raw) - len(raw.lstrip()))
    return None


def entry_around(hit: Hit, start: int, end: int) -> Entry | None:
    """The entry whose description's first paragraph holds hit.text[start:end], if the line
    before that paragraph names something (an option, an identifier), not a prose label."""
    text = hit.text
    paragraph = text.rfind("\n\n", 0, start)
    paragraph = 0 if paragraph < 0 else paragraph + 2
    term_start = term_before(hit, paragraph) if paragraph else None
    if term_start is None:
        return None
    term_end = text.rfind("\n\n", 0, paragraph)
    line = text[term_start:term_end].rstrip()
    if not OPTION.match(line) and _PLAIN_WORD.match(line.split()[0]):
        return None
    paragraph_end = text.find("\n\n", end)
    return Entry(
        term_start, term_start + len(line), len(text) if paragraph_end < 0 else paragraph_end
    )


def presented(span: Span, question: str) -> Span:
    """The span as the user reads it: in its whole sentence(s), a description with its term.

    An answer read in a description whose term the question does not name is given as the
    term, shown with its description; a phrase the reader picked out there (a value, a file)
    stays the answer unless the question asks for a means ("How do I ..."), and is shown with
    the whole entry.
    """
    text = span.hit.text
    start, end = context_of(text, span.start, span.end)
    entry = entry_around(span.hit, span.start, span.end)
    if entry is None or entry.named_in(question, text):
        term = term_before(span.hit, start)
        return replace(span, context_start=start if term is None else term, context_end=end)
    shown_end = max(entry.end if entry.end - entry.term_start <= MAX_SHOWN else end, end)
    phrase = span.end - span.start < PHRASE_SHARE * (end - start)
    if phrase and not _ASKS_MEANS.match(question):
        return replace(span, context_start=entry.term_start, context_end=shown_end)
    return replace(
        span,
        text=entry.term(text),
        start=entry.term_start,
        end=entry.term_end,
        context_start=entry.term_start,
        context_end=shown_end,
    )
