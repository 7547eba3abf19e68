"""The OpenAPI 3.1 description of the service, as data built from the live settings.

Its schemas are the models' own (`schemas`): what validates the requests and shapes the
answers; tests run schemathesis against the app with this document.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from bot.http.errors import PROBLEM_JSON
from bot.http.schemas import REF, component_schemas
from retrieval.settings import Settings


def _version() -> str:
    try:
        return metadata.version("redis-docqa")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


_INTEGER = {"type": "integer"}
_HEADERS = {  # name: description, schema
    "RequestId": ("This request's id (the caller's, if sane).", {"type": "string", "minLength": 1}),
    "RetryAfter": ("Seconds to wait.", _INTEGER),
    "RateLimit": ("Requests allowed per window.", _INTEGER),
    "RateRemaining": ("Requests left in this window.", _INTEGER),
    "RateReset": ("Unix time the window resets.", _INTEGER),
    "WWWAuthenticate": ("", {"type": "string"}),
}
_RATE = {f"X-RateLimit-{word}": f"Rate{word}" for word in ("Limit", "Remaining", "Reset")}
_RETRY = {"Retry-After": "RetryAfter"}


def _headers() -> dict[str, Any]:
    return {
        name: ({"description": said} if said else {}) | {"required": True, "schema": schema}
        for name, (said, schema) in _HEADERS.items()
    }


def _response(description: str, media: str, schema: dict | None, **headers: str) -> dict:
    refs = {"X-Request-ID": "RequestId", **headers}
    return {
        "description": description,
        "content": {media: {"schema": schema or {"type": "string"}}},
        "headers": {name: {"$ref": f"#/components/headers/{ref}"} for name, ref in refs.items()},
    }


def _json(description: str, schema: str) -> dict[str, Any]:
    return _response(description, "application/json", _ref(schema))


def _problem(description: str, **headers: str) -> dict:
    return _response(description, PROBLEM_JSON, _ref("Problem"), **headers)


_ASK_REFUSALS = {
    "400": "Bad JSON, a missing or empty question, k out of range, an unknown field or filter, "
    "a malformed filter value.",
    "409": "`reader` is `trained`, but no reader has been trained for this index yet: run "
    "`qa train-reader`, or ask with another reader.",
}
_FEEDBACK_REFUSALS = {
    "400": "Bad JSON, a missing or malformed field, an unknown field.",
    "404": "No such answer: the id is unknown or has expired.",
}
_POSTS = {  # path: operation, summary, request, (status, description, answer), refusals
    "/ask": (
        "ask", "Answer a question from the documents, word for word, with its sources.",
        "AskRequest", ("200", "The answer object of `qa ask --json`; `answer` is null with a "
                       "`reason` when the documents do not answer.", "Answer"), _ASK_REFUSALS,
    ),
    "/feedback": (
        "feedback", "Say whether an answer helped, optionally with the right answer: the next "
        "`qa train-reader` learns from it.", "FeedbackRequest",
        ("201", "Recorded.", "FeedbackRecorded"), _FEEDBACK_REFUSALS,
    ),
}  # a table, one operation per row  # fmt: skip
_GETS = {  # path: summary, description, media, schema
    "/health": ("The process is alive.", "Alive.", "application/json", _ref("Health")),
    "/ready": ("Redis reachable, index present, models loaded.", "Ready.", "application/json",
               _ref("Ready")),
    "/metrics": ("Prometheus metrics.", "Metrics.", "text/plain", None),
    "/openapi.json": ("This document.", "OpenAPI 3.1.", "application/json", {"type": "object"}),
    "/": ("The question page.", "HTML.", "text/html", None),
}  # a table, one path per row  # fmt: skip


def _post(settings: Settings, path: str) -> dict[str, Any]:
    """A POST on the `api` blueprint: the same auth, limits and errors for every one."""
    name, summary, request, (status, said, answer), refusals = _POSTS[path]
    responses = {
        status: _json(said, answer),
        **{status: _problem(said) for status, said in refusals.items()},
        "413": _problem(f"The body is over {settings.max_body_bytes} bytes."),
        "415": _problem("The body is not sent as application/json."),
        "429": _problem(f"Over the rate limit ({settings.rate_limit} per client).", **_RETRY,
                        **_RATE),
        "500": _problem("An unexpected error; quote the request id."),
        "503": _problem("Redis is unreachable, the index is missing, or a model is unavailable.",
                        **_RETRY),
    }  # a table, one status per row  # fmt: skip
    if name == "ask":
        responses["504"] = _problem(f"No answer within {settings.request_timeout_s:g}s.")
    body = {"required": True, "content": {"application/json": {"schema": _ref(request)}}}
    operation = {"operationId": name, "summary": summary, "requestBody": body}
    if settings.api_tokens:
        operation["security"] = [{"bearer": []}]
        responses["401"] = _problem(
            "A missing or wrong API token.", **{"WWW-Authenticate": "WWWAuthenticate"}
        )
    return {"post": operation | {"responses": responses}}


def _get(path: str) -> dict[str, Any]:
    summary, said, media, schema = _GETS[path]
    more = {"503": _problem("Not ready; `detail` says why.", **_RETRY)} if path == "/ready" else {}
    return {
        "get": {"summary": summary, "responses": {"200": _response(said, media, schema), **more}}
    }


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The document served at /openapi.json."""
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "redis-docqa",
            "version": _version(),
            "description": "Extractive question answering over a team's documents. "
            "Every error is application/problem+json (RFC 9457).",
        },
        "paths": {path: _post(settings, path) for path in _POSTS} | {p: _get(p) for p in _GETS},
        "components": {"schemas": component_schemas(settings), "headers": _headers()},
    }
    if settings.api_tokens:
        document["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "QA_API_TOKEN"}
        }
    return document
