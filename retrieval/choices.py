"""The choices and limits that HTTP, the CLI, Slack and the settings all accept, defined once."""

from __future__ import annotations

from retrieval.errors import InvalidQuestion

# `auto` takes the best reader this index has: the trained one, then a span model on disk,
# then the sentence reader, which needs nothing beyond the embedding model.
READERS = ("auto", "trained", "span", "sentence")
MODES = ("hybrid", "vector", "keyword")
# Chunks read per question: at least this many, at most the QA_MAX_K setting.
MIN_K = 1
# `min_confidence`, the caller's own refusal threshold: 0 refuses on nothing but abstention.
CONFIDENCE_RANGE = (0, 1)
# The filter language's date range: years 1..9999, as unix seconds.
MIN_TS, MAX_TS = -62135596800, 253402300799


def check_choice(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    """`value` if it is one of `allowed` (None passes: the setting decides)."""
    if value is not None and value not in allowed:
        raise InvalidQuestion(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def check_range(name: str, value: float | None, low: float, high: float) -> None:
    """InvalidQuestion unless `value` is within [low, high] (None passes: the setting decides)."""
    if value is not None and not low <= value <= high:
        raise InvalidQuestion(f"{name} must be between {low} and {high}, not {value}")


def normalize_question(question: object, max_chars: int) -> str:
    """The question with white space folded, or InvalidQuestion saying what to send instead.

    The one question check, run by the engine for HTTP, Slack and the CLI alike. The limit
    counts the characters as sent, as the OpenAPI document's maxLength and Slack's form do.
    """
    if not isinstance(question, str) or not question.strip():
        raise InvalidQuestion('the question is empty: ask something, e.g. qa ask "how do I ...?"')
    if len(question) > max_chars:
        raise InvalidQuestion(
            f"the question is {len(question)} characters long; the limit is {max_chars}. "
            "Shorten it."
        )
    return " ".join(question.split())
