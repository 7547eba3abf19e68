"""Answer candidates: the short facts of a sentence a reader could be asked for, with a type.

Cheap regular expressions (the generator must leave most of the training budget to
training): numbers with units, percentages, dates and years, capitalised names and terms,
quoted terms and code literals, values after "Default:", and what a definition says a
thing is. The type picks the question word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.text import CONTENT_STOPWORDS

MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_DATE = re.compile(
    rf"\b(?:\d{{1,2}} (?:{MONTHS})(?: \d{{4}})?|(?:{MONTHS}) \d{{1,2}}(?:, \d{{4}})?|"
    rf"(?:{MONTHS}) \d{{4}}|(?:1[5-9]|20)\d\d(?:s)?)\b"
)
_PERCENT = re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:%|percent\b|per cent\b)")
_UNITS = (
    "km|kilometres|kilometers|miles|mi|m|metres|meters|feet|ft|cm|mm|kg|g|mg|tons|tonnes|"
    "pounds|lb|hours|days|weeks|months|years|minutes|seconds|ms|s|MB|GB|KB|TB|bytes|"
    "°C|°F|degrees|mph|km/h|acres|hectares|square miles|dollars|euros|USD|\\$"
)
_MEASURE = re.compile(
    rf"(?:\$|£|€)?\b\d[\d,]*(?:\.\d+)?(?: (?:million|billion|thousand))?"
    rf"\s?(?:{_UNITS})\b"
)
_MONEY = re.compile(r"(?:\$|£|€)\d[\d,]*(?:\.\d+)?(?: (?:million|billion|trillion))?")
_COUNT = re.compile(r"\b(\d[\d,]*(?:\.\d+)?(?: (?:million|billion|thousand|hundred))?) ([a-z]{3,})")
_CAPS = re.compile(
    r"\b[A-Z][\w'’.-]*[\w](?:(?: (?:of|the|de|von|van|and|for|da|la)){0,2} [A-Z][\w'’.-]*[\w])*"
)
_QUOTED = re.compile(r"[\"“]([^\"”]{2,40})[\"”]")
_CODE = re.compile(r"`([^`\n]{1,40})`")
_DEFAULT = re.compile(r"\b(?:[Dd]efault(?:s)?(?: value)?(?: is)?:?|=) ?`?([^\s`,;]{1,30})`?")
_DEFINITION = re.compile(
    r"\b(?:is|was|are|were) (?:an?|the) ((?:(?!(?:who|which|that|in|of|to|by|for|from|with|"
    r"and|or|as|at|on)\b)[\w-]+ ?){1,4})"
)
# "<subject> is/are <what it is>": long answers to "what is <subject>?" (SQuAD and COVID-QA
# ask those), and "because <reason>" for "why" questions.
_PREDICATE = re.compile(
    r"^(?:The |An? )?((?:[\w-]+ ){0,4}[\w-]+) (is|are|was|were|refers to|means|consists of) "
    r"((?:(?:also )?(?:an?|the|one) )(?:[^,;:()\[\]]+ ){2,24}[^,;:()\[\] ]*[^,;:()\[\]. ])"
)
_REASON = re.compile(
    r"\b(?:because(?: of)?|due to|as a result of) ((?:[^\s,;]+ ){2,20}[^\s,;.]*[^\s,;.\]])"
)
_LOCATIVE = re.compile(r"\b(?:in|at|near|from) $")
# Common noun phrases, which most "what" questions ask for: one to three content words after
# a preposition ("produced by the pancreas"), or a sentence's subject before its verb ("Limestone
# erosion is the main cause ..."). Without a tagger, the phrase must end where punctuation
# or a function word begins; a longer run of content words has no boundary to trust.
_TOKEN = re.compile(r"[\w'’-]+|[^\w\s]")
_LEADS = {
    "by", "of", "from", "with", "as", "into", "than", "like", "via", "through", "against", "for",
    "on", "in", "about", "among", "between", "within", "without", "under", "including",
}  # a word list, read as one  # fmt: skip
_DETERMINERS = {"the", "a", "an", "its", "their", "his", "her", "our"}
_VERBS = {
    "is", "are", "was", "were", "has", "have", "had", "can", "could", "may", "might", "will",
    "would", "remains", "remain", "causes", "cause", "caused", "plays", "play", "played",
}  # a word list, read as one  # fmt: skip
PHRASE_WORDS = 3
_STOP_CAPS = {
    "The", "A", "An", "This", "That", "These", "Those", "It", "In", "On", "At", "For", "He",
    "She", "They", "We", "I", "However", "But", "And", "Of", "As", "By", "If", "When", "Its",
    "His", "Her", "Their", "There", "To", "With", "After", "Since", "While", "During", "From",
}  # a word list, read as one  # fmt: skip


_THINGS = {
    "River", "University", "College", "School", "Tower", "Company", "Sea", "Ocean", "Island",
    "Islands", "Mountains", "Church", "State", "States", "City", "Republic", "Empire", "Kingdom",
    "Party", "Museum", "Park", "Bridge", "Street", "Lake", "Valley", "Council", "Association",
    "War", "Act", "Prize", "Award", "Group", "Institute", "Organization", "Organisation",
    "Department", "Ministry", "Agency", "Hospital", "Center", "Centre", "Province", "County",
}  # a word list, read as one  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    start: int  # offsets in the sentence
    end: int
    kind: str  # date | percent | measure | count | money | person | place | term | definition
    # | phrase | predicate | reason | default
    unit: str = ""  # the counted noun ("how many <unit>"), the subject ("what is <unit>")


def candidates(sentence: str) -> list[Candidate]:
    """Every answer candidate of one sentence, longest kinds first, without overlaps."""
    found: list[Candidate] = []
    for m in _PERCENT.finditer(sentence):
        found.append(Candidate(m.start(), m.end(), "percent"))
    for m in _MONEY.finditer(sentence):
        found.append(Candidate(m.start(), m.end(), "money"))
    for m in _DATE.finditer(sentence):
        found.append(Candidate(m.start(), m.end(), "date"))
    for m in _MEASURE.finditer(sentence):
        found.append(Candidate(m.start(), m.end(), "measure"))
    for m in _COUNT.finditer(sentence):
        found.append(Candidate(m.start(1), m.end(1), "count", m.group(2)))
    for rx, kind in ((_DEFAULT, "default"), (_QUOTED, "term"), (_CODE, "term")):
        for m in rx.finditer(sentence):
            found.append(Candidate(m.start(1), m.end(1), kind))
    found += _names(sentence)
    found += long_answers(sentence)
    for m in _DEFINITION.finditer(sentence):
        found.append(Candidate(m.start(1), m.end(1), "definition"))
    found += _phrases(sentence)
    return _without_overlaps([_trimmed(sentence, c) for c in found])


def long_answers(sentence: str) -> list[Candidate]:
    """What a sentence says its subject is, and the reason it gives: answers of many words."""
    out = []
    m = _PREDICATE.match(sentence)
    if m and m.group(1).split()[0] not in _STOP_CAPS:
        out.append(Candidate(m.start(3), m.end(3), "predicate", f"{m.group(2)} {m.group(1)}"))
    for m in _REASON.finditer(sentence):
        out.append(Candidate(m.start(1), m.end(1), "reason"))
    return out


def _names(sentence: str) -> list[Candidate]:
    out = []
    for m in _CAPS.finditer(sentence):
        start, text = m.start(), m.group(0)
        first, _, rest = text.partition(" ")
        if first in _STOP_CAPS:
            if not rest or not rest[:1].isupper():
                continue
            start, text = start + len(first) + 1, rest
        if start == 0 and " " not in text:
            continue  # a capital at the start of a sentence is usually no name
        if len(text) < 3 or text.isdigit():
            continue
        words = text.split()
        if _LOCATIVE.search(sentence[max(0, start - 6) : start]):
            kind = "place"
        elif (
            2 <= len(words) <= 3
            and words[-1] not in _THINGS
            and all(w[:1].isupper() for w in words)
        ):
            kind = "person"
        else:
            kind = "term"
        out.append(Candidate(start, start + len(text), kind))
    return out


def _phrases(sentence: str) -> list[Candidate]:
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(sentence)]
    out = []
    for i, (_, _, lead) in enumerate(tokens):
        subject = i == 0 and _plain(lead, first=True)
        if not subject and lead.lower() not in _LEADS:
            continue
        j = i if subject else i + 1
        if j < len(tokens) and tokens[j][2].lower() in _DETERMINERS:
            j += 1
        k = j
        while k < len(tokens) and k - j <= PHRASE_WORDS and _plain(tokens[k][2], first=k == 0):
            k += 1
        if not 0 < k - j <= PHRASE_WORDS:
            continue
        after = tokens[k][2].lower() if k < len(tokens) else "."
        ends = after in _VERBS if subject else not after[0].isalnum() or after in CONTENT_STOPWORDS
        if ends:
            out.append(Candidate(tokens[j][0], tokens[k - 1][1], "phrase"))
    return out


def _plain(word: str, first: bool = False) -> bool:
    """A lower-case content word (a sentence's first word may be capitalised)."""
    lower = word.lower()
    return (
        len(word) >= 3
        and (word[0].islower() or (first and word[1:].islower()))
        and lower not in CONTENT_STOPWORDS
        and lower not in _VERBS
        and lower not in _DETERMINERS
        and not lower.endswith("ly")
        and word[0].isalpha()
    )


def _without_overlaps(found: list[Candidate]) -> list[Candidate]:
    kept: list[Candidate] = []
    for c in found:  # earlier kinds are more specific: they win an overlap
        if c.end - c.start < 1 or any(c.start < k.end and k.start < c.end for k in kept):
            continue
        kept.append(c)
    return sorted(kept, key=lambda c: c.start)


def _trimmed(sentence: str, c: Candidate) -> Candidate:
    text = sentence[c.start : c.end]
    start = c.start + len(text) - len(text.lstrip())
    return Candidate(start, start + len(text.strip()), c.kind, c.unit)
