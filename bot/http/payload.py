"""The body of POST /ask, checked field by field with messages that say what to send instead.

The checks here are exactly the ones the OpenAPI document states (types, lengths, ranges,
known fields), so anything the document forbids is refused; the engine and the filter
language then check meaning (a date that is not a date, a range that ends before it starts).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from flask import Request

from bot.http.errors import BadJSON, InvalidRequest, UnsupportedMediaType
from retrieval.choices import MAX_TS, MIN_TS, MODES, READERS
from retrieval.errors import FilterError, InvalidQuestion
from retrieval.feedback import MAX_CORRECTION_CHARS
from retrieval.query.filters import KEYS, MAX_VALUE_CHARS, MAX_VALUES, Filters, parse_filters
from retrieval.settings import Settings

FIELDS = ("question", "k", "filters", "reader", "mode", "min_confidence")
FEEDBACK_FIELDS = ("answer_id", "helpful", "answer")
MAX_ANSWER_ID_CHARS = 64
LIST_KEYS = tuple(k for k in KEYS if k not in ("created", "modified"))
DATE_KEYS = ("created", "modified")


@dataclass(frozen=True)
class FeedbackRequest:
    answer_id: str
    helpful: bool
    answer: str | None = None  # the right answer, in the user's words (kept as plain text)


@dataclass(frozen=True)
class AskRequest:
    question: str
    k: int
    filters: Filters
    reader: str | None = None
    mode: str | None = None
    min_confidence: float | None = None


def parse_ask(request: Request, settings: Settings) -> AskRequest:
    """The checked request, or an error naming the field and what is wrong with it."""
    body = _object(request, FIELDS, '{"question": "how do I ...?"}')
    return AskRequest(
        question=_question(body.get("question")),
        k=_k(body.get("k"), settings),
        filters=_filters(body.get("filters")),
        reader=_choice("reader", body.get("reader"), READERS),
        mode=_choice("mode", body.get("mode"), MODES),
        min_confidence=_min_confidence(body.get("min_confidence")),
    )


def parse_feedback(request: Request) -> FeedbackRequest:
    """The checked body of POST /feedback."""
    body = _object(request, FEEDBACK_FIELDS, '{"answer_id": "...", "helpful": true}')
    answer_id, helpful, answer = (body.get(k) for k in FEEDBACK_FIELDS)
    if not isinstance(answer_id, str) or not 0 < len(answer_id) <= MAX_ANSWER_ID_CHARS:
        raise InvalidRequest('"answer_id" must be the "answer_id" string of an /ask response',
                             "answer_id")  # fmt: skip
    if not isinstance(helpful, bool):
        raise InvalidRequest('"helpful" must be true or false', "helpful")
    if answer is not None and (not isinstance(answer, str) or not answer.strip()
                               or len(answer) > MAX_CORRECTION_CHARS):  # fmt: skip
        raise InvalidRequest(
            f'"answer", the right answer, must be a non-empty string of at most '
            f"{MAX_CORRECTION_CHARS} characters", "answer",
        )  # fmt: skip
    return FeedbackRequest(answer_id, helpful, answer.strip() if answer else None)


def _object(request: Request, known: tuple[str, ...], example: str) -> dict[str, Any]:
    if not request.is_json:
        raise UnsupportedMediaType('send JSON, with the header "Content-Type: application/json"')
    body = load_json(request.get_data(cache=False))
    if not isinstance(body, dict):
        raise InvalidRequest(f"the body must be a JSON object like {example}")
    for key, value in body.items():
        if _has_surrogate(key) or _has_surrogate(value):
            field = key.encode("utf-8", "backslashreplace").decode("utf-8")
            raise InvalidRequest(
                f'"{field}" holds a lone surrogate (such as \\ud800): JSON allows the escape, '
                "but it is no character; send the text as it is written",
                field,
            )
    if unknown := [str(key) for key in body if key not in known]:
        raise InvalidRequest(f"unknown field(s) {', '.join(map(repr, unknown))}; "
                             f"send only {', '.join(known)}", unknown[0])  # fmt: skip
    return body


def _has_surrogate(value: object) -> bool:
    """Whether a string anywhere in `value` holds a lone UTF-16 surrogate, which no text
    encoding can carry on to Redis, the tokenizer or a log line."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            stack += item
    return False


def load_json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        raise BadJSON(f"the body is not valid JSON ({_short(e)})") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _short(e: Exception) -> str:
    return "nested too deeply" if isinstance(e, RecursionError) else str(e)[:120]


def _question(value: object) -> str:
    """Only its JSON type: emptiness and length are the engine's one question check."""
    if value is None:
        raise InvalidQuestion('"question" is missing: send {"question": "how do I ...?"}')
    if not isinstance(value, str):
        raise InvalidQuestion(f'"question" must be a string, not {_kind(value)}')
    return value


def _k(value: object, settings: Settings) -> int:
    if value is None:
        return settings.top_k
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema counts 5.0 as an integer
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f'"k" must be an integer, not {_kind(value)}', "k")
    if not 1 <= value <= settings.max_k:
        raise InvalidRequest(f'"k" must be between 1 and {settings.max_k}, not {value}', "k")
    return value


def _min_confidence(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(
            f'"min_confidence" must be a number, not {_kind(value)}', "min_confidence"
        )
    if not 0 <= value <= 1:
        raise InvalidRequest(
            f'"min_confidence" must be between 0 and 1, not {value}', "min_confidence"
        )
    return float(value)


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> str | None:
    if value is None or value in allowed:
        return value  # type: ignore[return-value]
    raise InvalidRequest(f'"{name}" must be one of {", ".join(allowed)}, not {value!r}', name)


def _filters(value: object) -> Filters:
    if value is None:
        return Filters()
    if not isinstance(value, dict):
        raise FilterError('"filters" must be an object like {"tag": ["hr", "it"]}')
    for key, item in value.items():
        if key not in KEYS:
            raise FilterError(f"unknown filter field {key!r}; use one of: {', '.join(KEYS)}")
        items = item if isinstance(item, list) else [item]
        if not 1 <= len(items) <= MAX_VALUES:
            raise FilterError(f"filter '{key}' needs 1 to {MAX_VALUES} values, not {len(items)}")
        for one in items:
            _filter_value(key, one)
    return parse_filters(value)


def _filter_value(key: str, value: object) -> None:
    if key in DATE_KEYS and isinstance(value, int | float) and not isinstance(value, bool):
        if not (math.isfinite(value) and MIN_TS <= value <= MAX_TS):
            raise FilterError(f"filter '{key}' {value} is not unix seconds of years 1 to 9999")
        return
    if not isinstance(value, str):
        what = "a date text or unix seconds" if key in DATE_KEYS else "text"
        raise FilterError(f"filter '{key}' must be {what} (or a list of them), not {_kind(value)}")
    if len(value) > MAX_VALUE_CHARS:
        raise FilterError(f"filter '{key}' value is too long (at most {MAX_VALUE_CHARS} chars)")


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )
