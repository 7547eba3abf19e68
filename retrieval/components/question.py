"""One question and the choices asked with it: the value every component of the ask takes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from retrieval.choices import (
    CONFIDENCE_RANGE,
    MIN_K,
    MODES,
    READERS,
    check_choice,
    check_range,
    normalize_question,
)
from retrieval.settings import Settings

if TYPE_CHECKING:
    from retrieval.query.filters import Filters
    from retrieval.readers import Reader


@dataclass(frozen=True)
class Question:
    """What the caller asked; None leaves a choice to the settings.

    `reader` may be a reader object (another index's: the calibration reads real questions
    elsewhere); `filters` may still be the caller's mapping, parsed where it is used.
    """

    text: str
    k: int | None = None
    filters: Filters | Mapping[str, Any] | None = None
    mode: str | None = None
    reader: str | Reader | None = None
    ef_runtime: int | None = None
    min_confidence: float | None = None

    def checked(self, settings: Settings) -> Question:
        """The question with white space folded; InvalidQuestion says what to send instead.

        Checked before anything is retrieved or loaded, in the order callers see the errors.
        """
        check_range("min_confidence", self.min_confidence, *CONFIDENCE_RANGE)
        text = normalize_question(self.text, settings.max_question_chars)
        check_range("k", self.k, MIN_K, settings.max_k)
        check_choice("mode", self.mode, MODES)
        if self.reader is None or isinstance(self.reader, str):
            check_choice("reader", self.reader, READERS)
        return replace(self, text=text)

    def picks_reader(self, configured: str) -> bool:
        """Whether `auto` chooses the reader (asked for, or configured and nothing asked)."""
        return self.reader == "auto" or (self.reader is None and configured == "auto")
