"""The OpenAPI 3.1 description of the service, as data built from the live settings.

The request schema states exactly the checks of `bot.http.payload`; tests run schemathesis
against the app with this document, so a change to one without the other fails there.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from bot.http.errors import PROBLEM_JSON
from bot.http.payload import DATE_KEYS, LIST_KEYS, MAX_ANSWER_ID_CHARS
from retrieval.answers.answer import REASONS
from retrieval.choices import MAX_TS, MIN_TS, MODES, READERS
from retrieval.feedback import ANSWER_TTL_S, MAX_CORRECTION_CHARS
from retrieval.query.filters import MAX_VALUE_CHARS, MAX_VALUES
from retrieval.settings import Settings

_REF = "#/components/schemas/"


def _version() -> str:
    try:
        return metadata.version("redis-docqa")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _many(item: dict[str, Any]) -> dict[str, Any]:
    """One value, or a list of 1 to MAX_VALUES of them."""
    return {"anyOf": [item, {"type": "array", "items": item, "minItems": 1,
                             "maxItems": MAX_VALUES}]}  # fmt: skip


def _request_schemas(settings: Settings) -> dict[str, Any]:
    text = {"type": "string", "minLength": 1, "maxLength": MAX_VALUE_CHARS}
    date = {"anyOf": [text, {"type": "number", "minimum": MIN_TS, "maximum": MAX_TS}]}
    filters = {key: _many(text) for key in LIST_KEYS} | {key: _many(date) for key in DATE_KEYS}
    return {
        "AskRequest": {
            "type": "object",
            "required": ["question"],
            "additionalProperties": False,
            "properties": {
                "question": {
                    "type": "string", "minLength": 1, "pattern": r"\S",
                    "maxLength": settings.max_question_chars,
                    "description": "The question; not only whitespace.",
                },
                "k": _nullable({"type": "integer", "minimum": 1, "maximum": settings.max_k,
                                "description": f"Chunks to read (default {settings.top_k})."}),
                "filters": _nullable(_ref("Filters")),
                "reader": _nullable({"type": "string", "enum": list(READERS),
                                     "description": f"Default: {settings.reader}."}),
                "mode": _nullable({"type": "string", "enum": list(MODES),
                                   "description": f"Default: {settings.retrieval_mode}."}),
                "min_confidence": _nullable({
                    "type": "number", "minimum": 0, "maximum": 1,
                    "description": "Refuse answers whose `score` is below this, instead of the "
                    "threshold calibrated for the index (`qa calibrate`).",
                }),
            },
            "example": {"question": "How do I reset my VPN token?", "k": 5,
                        "filters": {"tag": ["it"]}, "reader": "auto"},
        },
        "FeedbackRequest": {
            "type": "object",
            "required": ["answer_id", "helpful"],
            "additionalProperties": False,
            "properties": {
                "answer_id": {"type": "string", "minLength": 1,
                              "maxLength": MAX_ANSWER_ID_CHARS,
                              "description": "The `answer_id` of an /ask response (kept "
                                             f"{ANSWER_TTL_S // 86400} days)."},
                "helpful": {"type": "boolean", "description": "Did the answer help?"},
                "answer": _nullable({
                    "type": "string", "minLength": 1, "pattern": r"\S",
                    "maxLength": MAX_CORRECTION_CHARS,
                    "description": "The right answer, if you know it (kept as plain text; "
                                   "learnt from when it is found word for word in a source).",
                }),
            },
            "example": {"answer_id": "k3Jd8s0aQ1xY2bTc", "helpful": False,
                        "answer": "16 weeks"},
        },
        "Filters": {
            "type": "object",
            "additionalProperties": False,
            "properties": filters,
            "description": (
                "Tags, sources and doc ids match any of the values (a comma also separates "
                "values); not_doc_id leaves those documents out; text terms must all "
                "appear. Dates: 2024, 2024-03, 2024-03-31, an "
                "ISO datetime, unix seconds, with >=, <=, >, < or a range 2024-01..2024-06. "
                "Values that are well-formed here but mean nothing (a date that is not a "
                "date, a range ending before it starts) are refused with 400 bad_filter."
            ),
        },
    }  # fmt: skip


def _answer_schemas() -> dict[str, Any]:
    num, integer, string = {"type": "number"}, {"type": "integer"}, {"type": "string"}
    opt = _nullable
    passage = {  # one passage read from a document: where it is and how it was found
        "key": string,
        "text": string,
        "score": num,
        "rank": {"type": "integer", "description": "Its rank in retrieval, 1 for the best."},
        "heading": string,
        "page": opt(integer),
        "position": integer,
        "chunk_start": integer,
        "chunk_end": integer,
        "start": opt({"type": "integer", "description": "The answer's offset in `text`."}),
        "end": opt(integer),
        "vector_score": opt(num),
        "keyword_score": opt(num),
        "vector_rank": opt(integer),
        "keyword_rank": opt(integer),
    }
    place = {
        "url": {"type": "string", "description": "Its own URL, or the one QA_SOURCE_URLS "
                "maps its folder to; empty if neither."},
        "path": {"type": "string", "description": "A file's path inside the folder that was "
                 "ingested (or its name), never the server's absolute path; a page's URL."},
    }  # fmt: skip
    source = {
        "type": "object",
        "description": "One document: its best passage's fields, its other passages in "
        "`passages`.",
        "required": ["key", "doc_id", "text", "score", "rank", "start", "end"],
        "properties": {
            **passage,
            "doc_id": string,
            "title": string,
            "source": string,
            **place,
            "tags": {"type": "array", "items": string},
            "passages": {
                "type": "array",
                "description": "The document's other passages read for this question, best "
                "first.",
                "items": {"type": "object", "required": ["key", "text", "rank"],
                          "properties": passage},
            },
            "also_in": {
                "type": "array",
                "description": "Other documents holding the same passages or the same page "
                "(a copy, a near copy, an all-in-one page), shown once.",
                "items": {
                    "type": "object",
                    "properties": {"doc_id": string, "title": string, **place},
                },
            },
        },
    }  # fmt: skip
    candidate = {
        "type": "object",
        "required": ["answer", "score", "start", "end", "context", "context_start"],
        "properties": {
            "answer": string,
            "score": num,
            "doc_id": string,
            "title": string,
            "source": string,
            "url": string,
            "page": opt(integer),
            "source_index": opt(
                {
                    "type": "integer",
                    "description": "The entry of `sources` showing its document; null if "
                    "that document is not listed.",
                }
            ),
            "key": {
                "type": "string",
                "description": "The passage it was read from: the entry's own `key` or one "
                "of its `passages` (`start` and `end` are offsets in that passage's `text`), "
                "or a copy listed in `also_in`.",
            },
            "start": integer,
            "end": integer,
            "context": string,
            "context_start": integer,
            "context_end": integer,
        },
    }
    answer = {
        "type": "object",
        "required": [
            "question",
            "answer",
            "score",
            "reader",
            "sources",
            "candidates",
            "timings",
            "reason",
            "explanation",
        ],
        "properties": {
            "question": string,
            "answer": {"type": ["string", "null"], "description": "Verbatim from a source."},
            "score": {
                "type": "number",
                "description": (
                    "On a calibrated index (`qa calibrate`) the confidence, 0..1, that the "
                    "documents answer the question; otherwise the reader's own score. "
                    "`explanation.confidence` says which, with the threshold."
                ),
            },
            "reader": {"type": "string", "enum": [r for r in READERS if r != "auto"]},
            "sources": {"type": "array", "items": source},
            "candidates": {"type": "array", "items": candidate},
            "timings": {
                "type": "object",
                "additionalProperties": num,
                "description": "Milliseconds: embed, retrieve, read, total.",
            },
            "reason": {"type": ["string", "null"], "enum": [*REASONS, None]},
            "explanation": {"type": "object"},
            "context": opt(
                {
                    "type": "object",
                    "required": ["text", "answer_start", "answer_end"],
                    "description": "The sentence (at most two) the answer stands in, as shown, "
                    "and where the answer is inside it.",
                    "properties": {"text": string, "answer_start": integer, "answer_end": integer},
                }
            ),
            "answer_id": opt(
                {
                    "type": "string",
                    "description": "Names this answer to "
                    "POST /feedback (null when it could not be kept).",
                }
            ),
        },
    }
    recorded = {
        "type": "object",
        "required": ["status", "id"],
        "properties": {"status": {"const": "recorded"}, "id": string},
    }
    return {"Answer": answer, "FeedbackRecorded": recorded}  # fmt: skip


def _ops_schemas() -> dict[str, Any]:
    return {
        "Problem": {
            "type": "object",
            "required": ["type", "title", "status", "detail", "code", "request_id"],
            "properties": {
                "type": {"type": "string"}, "title": {"type": "string"},
                "status": {"type": "integer"}, "detail": {"type": "string"},
                "code": {"type": "string"}, "request_id": {"type": "string"},
                "field": {"type": "string", "description": "The request field at fault."},
            },
        },
        "Health": {"type": "object", "required": ["status"],
                   "properties": {"status": {"const": "ok"}}},
        "Ready": {
            "type": "object",
            "required": ["status", "redis", "index", "chunks", "embedder", "reader"],
            "properties": {
                "status": {"const": "ready"}, "redis": {"const": "ok"},
                "index": {"type": "string"}, "chunks": {"type": "integer", "minimum": 0},
                "embedder": {"type": "string"},
                "reader": {"type": "string", "enum": [r for r in READERS if r != "auto"]},
            },
        },
    }  # fmt: skip


def _headers() -> dict[str, Any]:
    integer = {"schema": {"type": "integer"}}
    return {
        "RequestId": {"description": "This request's id (the caller's, if sane).",
                      "required": True, "schema": {"type": "string", "minLength": 1}},
        "RetryAfter": {"description": "Seconds to wait.", "required": True, **integer},
        "RateLimit": {"description": "Requests allowed per window.", "required": True,
                      **integer},
        "RateRemaining": {"description": "Requests left in this window.", "required": True,
                          **integer},
        "RateReset": {"description": "Unix time the window resets.", "required": True,
                      **integer},
        "WWWAuthenticate": {"required": True, "schema": {"type": "string"}},
    }  # fmt: skip


def _response(description: str, media: str, schema: dict | None, **headers: str) -> dict:
    out: dict[str, Any] = {
        "description": description,
        "content": {media: {"schema": schema or {"type": "string"}}},
    }
    out["headers"] = {"X-Request-ID": {"$ref": "#/components/headers/RequestId"}}
    out["headers"] |= {
        name: {"$ref": f"#/components/headers/{ref}"} for name, ref in headers.items()
    }
    return out  # fmt: skip


def _problem(description: str, **headers: str) -> dict:
    return _response(description, PROBLEM_JSON, _ref("Problem"), **headers)


def _operation(
    settings: Settings, name: str, summary: str, request: str, ok: tuple[str, dict],
    **specific: dict,
) -> dict[str, Any]:  # fmt: skip
    """A POST on the `api` blueprint: the same auth, limits and errors for every one."""
    limits = {"X-RateLimit-Limit": "RateLimit", "X-RateLimit-Remaining": "RateRemaining",
              "X-RateLimit-Reset": "RateReset"}  # fmt: skip
    responses = {
        ok[0]: ok[1],
        **specific,
        "413": _problem(f"The body is over {settings.max_body_bytes} bytes."),
        "415": _problem("The body is not sent as application/json."),
        "429": _problem(f"Over the rate limit ({settings.rate_limit} per client).",
                        **{"Retry-After": "RetryAfter"}, **limits),
        "500": _problem("An unexpected error; quote the request id."),
        "503": _problem("Redis is unreachable, the index is missing, or a model is "
                        "unavailable.", **{"Retry-After": "RetryAfter"}),
    }  # fmt: skip
    operation: dict[str, Any] = {
        "operationId": name,
        "summary": summary,
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": _ref(request)}}},
        "responses": responses,
    }  # fmt: skip
    if settings.api_tokens:
        operation["security"] = [{"bearer": []}]
        responses["401"] = _problem("A missing or wrong API token.",
                                    **{"WWW-Authenticate": "WWWAuthenticate"})  # fmt: skip
    return operation


def _ask_operation(settings: Settings) -> dict[str, Any]:
    return _operation(
        settings, "ask", "Answer a question from the documents, word for word, with its "
        "sources.", "AskRequest",
        ("200", _response("The answer object of `qa ask --json`; `answer` is null with a "
                          "`reason` when the documents do not answer.", "application/json",
                          _ref("Answer"))),
        **{"400": _problem("Bad JSON, a missing or empty question, k out of range, an unknown "
                           "field or filter, a malformed filter value."),
           "409": _problem("`reader` is `trained`, but no reader has been trained for this "
                           "index yet: run `qa train-reader`, or ask with another reader."),
           "504": _problem(f"No answer within {settings.request_timeout_s:g}s.")},
    )  # fmt: skip


def _feedback_operation(settings: Settings) -> dict[str, Any]:
    return _operation(
        settings, "feedback", "Say whether an answer helped, optionally with the right answer: "
        "the next `qa train-reader` learns from it.", "FeedbackRequest",
        ("201", _response("Recorded.", "application/json", _ref("FeedbackRecorded"))),
        **{"400": _problem("Bad JSON, a missing or malformed field, an unknown field."),
           "404": _problem("No such answer: the id is unknown or has expired.")},
    )  # fmt: skip


def _get(summary: str, ok: dict[str, Any], **more: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": {"200": ok, **more}}}


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The document served at /openapi.json."""
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "redis-docqa", "version": _version(),
                 "description": "Extractive question answering over a team's documents. "
                                "Every error is application/problem+json (RFC 9457)."},
        "paths": {
            "/ask": {"post": _ask_operation(settings)},
            "/feedback": {"post": _feedback_operation(settings)},
            "/health": _get("The process is alive.",
                            _response("Alive.", "application/json", _ref("Health"))),
            "/ready": _get("Redis reachable, index present, models loaded.",
                           _response("Ready.", "application/json", _ref("Ready")),
                           **{"503": _problem("Not ready; `detail` says why.",
                                              **{"Retry-After": "RetryAfter"})}),
            "/metrics": _get("Prometheus metrics.", _response("Metrics.", "text/plain", None)),
            "/openapi.json": _get("This document.", _response("OpenAPI 3.1.", "application/json",
                                                              {"type": "object"})),
            "/": _get("The question page.", _response("HTML.", "text/html", None)),
        },
        "components": {
            "schemas": _request_schemas(settings) | _answer_schemas() | _ops_schemas(),
            "headers": _headers(),
        },
    }  # fmt: skip
    if settings.api_tokens:
        document["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "QA_API_TOKEN"}
        }
    return document
