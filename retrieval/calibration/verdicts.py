"""Users' verdicts on answers, as calibration points: was the question answerable here?

A 👍 on an answer, a corrected answer and a captured reply say the documents answer the
question; a 👎 on an answer says this answer should not have been given; on a refusal the
votes say the opposite (👍: right to refuse, 👎: it should have answered). Each person counts
for at most PER_USER verdicts (their newest), and the calibration uses them only once there
are MIN_LABELS: one person, however many votes they cast, cannot move the threshold alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from retrieval.confidence.calibration_record import MIN_POINTS

PER_USER = 10
MIN_LABELS = MIN_POINTS  # verdicts (after the cap) before they join the calibration


@dataclass(frozen=True)
class Verdict:
    question: str
    answerable: bool
    user: str


def verdicts(entries: Iterable[Mapping[str, Any]]) -> list[Verdict]:
    """The feedback entries (`FeedbackStore.export()`, oldest first) as verdicts, at most
    PER_USER per person (the newest), oldest first."""
    per_user: Counter[str] = Counter()
    out = []
    for entry in reversed(list(entries)):
        answerable = _answerable(entry)
        if answerable is None or not str(entry.get("question") or "").strip():
            continue
        user = str(entry.get("user") or "")
        per_user[user] += 1
        if per_user[user] <= PER_USER:
            out.append(Verdict(str(entry["question"]), answerable, user))
    return out[::-1]


def _answerable(entry: Mapping[str, Any]) -> bool | None:
    vote, answered = entry.get("vote"), bool(entry.get("answer"))
    if vote == "capture" or entry.get("correction"):
        return True
    if vote == "up":
        return answered  # 👍 on a refusal: it was right not to answer
    if vote == "down":
        return not answered  # 👎 on a refusal: the documents do answer it
    return None
