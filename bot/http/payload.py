"""The bodies of POST /ask and /feedback, checked by their models (`request_models`), refused
field by field with messages that say what to send instead.

The models decide what is wrong and where; this module words it as the API always has: the
first field at fault in the order the model lists them (unknown fields first), with the
limits the OpenAPI document states.
"""

from __future__ import annotations

import functools
import json
from typing import Any, TypeVar

from flask import Request
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.http.errors import BadJSON, InvalidRequest, UnsupportedMediaType
from bot.http.request_models import AskRequest, FeedbackRequest, ask_request
from retrieval.errors import FilterError, InvalidQuestion, QAError
from retrieval.feedback import MAX_CORRECTION_CHARS
from retrieval.query.filters import DATE_KEYS, KEYS, MAX_VALUE_CHARS, MAX_VALUES
from retrieval.settings import Settings

Body = TypeVar("Body", bound=BaseModel)
# /feedback's fields, refused whatever is wrong with them
FEEDBACK_REFUSALS = {
    "answer_id": '"answer_id" must be the "answer_id" string of an /ask response',
    "helpful": '"helpful" must be true or false',
    "answer": '"answer", the right answer, must be a non-empty string of at most '
    f"{MAX_CORRECTION_CHARS} characters",
}


def parse_ask(request: Request, settings: Settings) -> AskRequest:
    """The checked request, or an error naming the field and what is wrong with it."""
    return _checked(request, ask_request(settings), '{"question": "how do I ...?"}')


def parse_feedback(request: Request) -> FeedbackRequest:
    """The checked body of POST /feedback."""
    return _checked(request, FeedbackRequest, '{"answer_id": "...", "helpful": true}')


def _checked(request: Request, model: type[Body], example: str) -> Body:
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
    try:
        return model.model_validate(body)
    except ValidationError as e:
        raise _refusal(model, e.errors(), body) from None


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


def _refusal(model: type[BaseModel], errors: list[ErrorDetails], body: dict) -> QAError:
    """The first error, in words: unknown fields, then the fields in the model's order."""
    if unknown := [
        str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden" and len(e["loc"]) == 1
    ]:
        return InvalidRequest(
            f"unknown field(s) {', '.join(map(repr, unknown))}; "
            f"send only {', '.join(model.model_fields)}",
            unknown[0],
        )
    error = errors[0]
    name = str(error["loc"][0])
    value = body.get(name)
    if name == "question":
        if value is None:
            return InvalidQuestion('"question" is missing: send {"question": "how do I ...?"}')
        return InvalidQuestion(f'"question" must be a string, not {_kind(value)}')
    if name == "filters":
        return _filter_refusal(errors, value)
    if name in FEEDBACK_REFUSALS:
        return InvalidRequest(FEEDBACK_REFUSALS[name], name)
    stated = _stated(model)[name]
    if error["type"] == "literal_error":
        return InvalidRequest(
            f'"{name}" must be one of {", ".join(stated["enum"])}, not {value!r}', name
        )
    if error["type"] in ("greater_than_equal", "less_than_equal"):
        return InvalidRequest(
            f'"{name}" must be between {stated["minimum"]} and '
            f"{stated['maximum']}, not {error['input']}",
            name,
        )
    kind = "an integer" if stated["type"] == "integer" else "a number"
    return InvalidRequest(f'"{name}" must be {kind}, not {_kind(value)}', name)


@functools.cache
def _stated(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """Each field's schema as the document states it (its non-null choice)."""
    fields = model.model_json_schema()["properties"]
    return {name: field.get("anyOf", [field])[0] for name, field in fields.items()}


def _filter_refusal(errors: list[ErrorDetails], filters: Any) -> FilterError:
    """The first filter at fault in the order sent, checked as the filter language would:
    its name, then how many values, then each value."""
    if errors[0]["type"] == "bad_filter":  # well-formed, but meaning nothing
        return FilterError(errors[0]["ctx"]["detail"])
    if len(errors[0]["loc"]) == 1:
        return FilterError('"filters" must be an object like {"tag": ["hr", "it"]}')
    faults = [e for e in errors if e["loc"][0] == "filters"]
    key = next(str(k) for k in filters if any(e["loc"][1] == k for e in faults))
    if any(e["loc"][1] == key and e["type"] == "extra_forbidden" for e in faults):
        return FilterError(f"unknown filter field {key!r}; use one of: {', '.join(KEYS)}")
    items = filters[key] if isinstance(filters[key], list) else [filters[key]]
    if not 1 <= len(items) <= MAX_VALUES:
        return FilterError(f"filter '{key}' needs 1 to {MAX_VALUES} values, not {len(items)}")
    at = [i for e in faults if e["loc"][1] == key for i in e["loc"][2:] if isinstance(i, int)]
    value = items[min(at, default=0)]
    if key in DATE_KEYS and isinstance(value, int | float) and not isinstance(value, bool):
        return FilterError(f"filter '{key}' {value} is not unix seconds of years 1 to 9999")
    if not isinstance(value, str):
        what = "a date text or unix seconds" if key in DATE_KEYS else "text"
        return FilterError(f"filter '{key}' must be {what} (or a list of them), not {_kind(value)}")
    return FilterError(f"filter '{key}' value is too long (at most {MAX_VALUE_CHARS} chars)")


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )
