"""What kind of answer a question asks for, and whether a span is of that kind.

A span model may weigh a neighbouring phrase highest ("the tower" for "When was the tower
completed?"); among its near-best spans, one of the kind the question asks for ("1889") is
the better answer. Only kinds that a pattern recognises reliably are checked: dates,
numbers, percentages and names; any other question takes the model's best span as it is.
"""

from __future__ import annotations

import re

from retrieval.training.candidates import MONTHS

_ASKS = (
    ("date", re.compile(
        r"^\s*(?:when\b|(?:in |on |by |since |from )?(?:what|which) "
        r"(?:year|date|day|month|century|decade)s?\b)", re.I)),
    ("percent", re.compile(r"\b(?:what|which) (?:percentage|percent|proportion|share)\b", re.I)),
    ("number", re.compile(
        r"\bhow (?:many|much|long|far|old|large|big|high|tall|deep|wide|heavy|fast)\b|"
        r"\bwhat (?:number|amount|size|length|age|sum)\b", re.I)),
    ("name", re.compile(r"^\s*who(?:m|se)?\b", re.I)),
)  # fmt: skip
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|hundred|thousand|million|billion|trillion|dozen|half|single|once|twice"
)
_FITS = {
    "date": re.compile(rf"\d|\b(?:{MONTHS}|century|centuries|decade)\b", re.I),
    "percent": re.compile(rf"\d|%|\bper ?cent\b|\b(?:{_NUMBER_WORDS})\b", re.I),
    "number": re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I),
    "name": re.compile(r"(?:^|[\s(\"'])[A-Z]"),
}


def asked_kind(question: str) -> str | None:
    """date, percent, number or name; None where the question's form says nothing sure."""
    return next((kind for kind, rx in _ASKS if rx.search(question)), None)


def fits(kind: str | None, text: str) -> bool:
    """Whether `text` can be an answer of that kind (any text fits no kind)."""
    return kind is None or bool(_FITS[kind].search(text))
