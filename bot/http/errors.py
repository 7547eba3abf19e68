"""Every error as `application/problem+json` (RFC 9457), never an HTML page."""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Flask, Response, current_app, json
from werkzeug.exceptions import HTTPException

from bot.http.observability import request_id
from bot.http.response_models import Problem, dumped
from retrieval.errors import QAError

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "tag:redis-docqa,2024:problem:"  # a name, not a page: RFC 9457 section 3.1.1
REDIS_RETRY_AFTER_S = 5
log = logging.getLogger("qa.http")


class InvalidRequest(QAError):
    """The body is JSON but not a valid question request; `field` names the culprit."""

    code = "invalid_request"
    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class BadJSON(QAError):
    code = "bad_json"
    status = 400


class UnsupportedMediaType(QAError):
    code = "unsupported_media_type"
    status = 415


class Unauthorized(QAError):
    code = "unauthorized"
    status = 401


class UnknownAnswer(QAError):
    code = "unknown_answer"
    status = 404


class AnswerTimeout(QAError):
    code = "timeout"
    status = 504


def problem(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem details response; `code` is also the last part of its `type`."""
    body = dumped(
        Problem,
        type=TYPE_PREFIX + code if code else "about:blank",
        title=title or _reason(status),
        status=status,
        detail=detail,
        code=code or _reason(status).lower().replace(" ", "_"),
        request_id=request_id(),
        **extra,
    )
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _qa_error(e: QAError) -> Response:
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if getattr(e, "field", None):
        extra["field"] = e.field
    if isinstance(e, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="qa"'
    if e.status == 503:
        headers["Retry-After"] = str(REDIS_RETRY_AFTER_S)
    if e.status >= 500:
        log.warning("%s: %s", e.code, e, extra={"code": e.code})
    return problem(e.status, str(e), code=e.code, headers=headers, **extra)


def _http_error(e: HTTPException) -> Response:
    if e.response is not None and e.response.mimetype == PROBLEM_JSON:
        return e.response  # already a problem (the rate limiter's 429)
    status = e.code or 500
    keep = {k: v for k, v in e.get_headers() if k.lower() != "content-type"}
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        detail = f"the request body is larger than the limit of {limit} bytes"
    else:
        detail = e.description or _reason(status)
    return problem(status, detail, headers=keep)


def _redis_down(e: Exception) -> Response:
    log.warning("redis unreachable: %s", e)
    return problem(
        503,
        "Redis is unreachable; try again shortly.",
        code="redis_unavailable",
        headers={"Retry-After": str(REDIS_RETRY_AFTER_S)},
    )


def _unexpected(e: Exception) -> Response:
    log.exception("unexpected error")
    return problem(500, "an unexpected error occurred; quote the request id when reporting it")


def init_app(app: Flask) -> None:
    app.register_error_handler(QAError, _qa_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(redis.exceptions.ConnectionError, _redis_down)
    app.register_error_handler(redis.exceptions.TimeoutError, _redis_down)
    app.register_error_handler(Exception, _unexpected)
