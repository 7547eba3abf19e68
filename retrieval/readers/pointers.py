"""Sentences that only point elsewhere: never an answer by themselves.

"The reference for the standard library contains an explanation of this." or "For more
information, see Configuring TLS." scores high on a question about the topic (it names it)
and tells the reader nothing: every reader leaves such sentences out of its answers, as it
leaves out headings. A long sentence that also points somewhere ("The cache, which holds 40
entries, is described in section 3.") states something, so only short ones count.
"""

from __future__ import annotations

import re

from retrieval.sentences import sentences_of
from retrieval.types import Hit

MAX_POINTER_WORDS = 20
_SHOWN = r"(?:described|explained|documented|covered|discussed|detailed|listed|defined)"
_ABOUT = r"(?:information|details?|explanations?|descriptions?|discussions?|examples?)"
_POINTER = re.compile(
    r"^\W*(?:see|refer to|consult|cf\.)\s"  # "See Configuring TLS."
    rf"|^\W*for\s+(?:(?:more|further|additional|full|complete)\s+)?{_ABOUT}\b.*"
    r"\b(?:see|refer to|consult|read)\b"  # "For more information, see ..."
    r"|^\W*(?:more|further)\s+(?:on|about)\s+(?:this|that|these|it)\b"
    # "This is explained in the next chapter.": a short subject, no clause of its own
    rf"|^[^,;:]{{0,60}}\b(?:is|are|was|were|be)\s+(?:\w+ly\s+)?{_SHOWN}\s+"
    r"(?:in|on|at|under|below|above|later|elsewhere|separately|further)\b"
    rf"|\bcontains?\s+(?:an?|the|more|further|some)\s+(?:\w+\s+)?{_ABOUT}\s+(?:of|on|about)\b",
    re.IGNORECASE,
)


def only_points_elsewhere(sentence: str) -> bool:
    """Whether a sentence is a pointer to another page or section and says nothing itself."""
    return len(sentence.split()) <= MAX_POINTER_WORDS and bool(_POINTER.search(sentence))


def in_pointer(hit: Hit, start: int, end: int) -> bool:
    """Whether hit.text[start:end] lies in a sentence that only points elsewhere."""
    span = next(((s, e) for s, e in sentences_of(hit.text) if s <= start and end <= e), None)
    return span is not None and only_points_elsewhere(hit.text[span[0] : span[1]])
