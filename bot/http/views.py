"""The routes: POST /ask (the `api` blueprint), probes, metrics, OpenAPI and the page (`ops`)."""

from __future__ import annotations

from typing import Any

import redis
from flask import Blueprint, Response, current_app, jsonify, request

from bot.http.errors import UnknownAnswer, problem
from bot.http.openapi import openapi_document
from bot.http.payload import parse_ask, parse_feedback
from bot.http.response_models import Answer, FeedbackRecorded, Health, Ready, dumped
from bot.http.services import services
from retrieval.errors import QAError
from retrieval.feedback import ANSWER_TTL_S

api = Blueprint("api", __name__)
ops = Blueprint("ops", __name__)

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@api.before_request
def _authenticate() -> None:
    services().tokens.require()


@api.post("/ask")
def ask() -> Response:
    """Answer a question from the indexed documents: the answer object of `qa ask --json`."""
    svc = services()
    asked = parse_ask(request, svc.settings)
    answer = svc.deadline.run(
        svc.engine.ask,
        asked.question,
        k=asked.k,
        filters=asked.query,
        reader=asked.reader,
        mode=asked.mode,
        min_confidence=asked.min_confidence,
    )
    svc.metrics.observe_answer(answer)
    return jsonify(Answer.body(answer, svc.keep(answer)))


@api.post("/feedback")
def feedback() -> tuple[Response, int]:
    """Say whether an answer helped (optionally with the right answer): the next
    `qa train-reader` learns from it, and the refusal calibration counts it."""
    svc = services()
    given = parse_feedback(request)
    loaded = svc.answers().load(given.answer_id)
    if loaded is None:
        raise UnknownAnswer(
            f"no answer {given.answer_id!r}: it is unknown or older than "
            f"{ANSWER_TTL_S // 86400} days; ask again and rate the new answer"
        )
    answer, _ = loaded
    entry = svc.feedback().record(
        question=answer.question,
        answer=answer.answer,
        sources=answer.sources,
        vote="up" if given.helpful else "down",
        user=svc.tokens.client_key(),
        correction=given.answer,
        origin="http",
        extra={"answer_id": given.answer_id, "reader": answer.reader, "score": answer.score},
    )
    return jsonify(dumped(FeedbackRecorded, status="recorded", id=entry)), 201


@ops.get("/health")
def health() -> Response:
    """The process is alive (and says nothing about Redis or models)."""
    return jsonify(dumped(Health, status="ok"))


@ops.get("/ready")
def ready() -> Response:
    """Redis answers, the index exists and the models are loaded; 503 with the reason if not."""
    try:
        status: dict[str, Any] = services().engine.ready()
    except QAError as e:
        return problem(
            e.status if e.status >= 500 else 503, str(e), code=e.code, headers={"Retry-After": "5"}
        )
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as e:
        return problem(
            503,
            f"Redis is unreachable ({e})",
            code="redis_unavailable",
            headers={"Retry-After": "5"},
        )
    return jsonify(dumped(Ready, status="ready", **status))


@ops.get("/metrics")
def metrics() -> Response:
    """Prometheus text format: request counts, latencies and per-stage timings."""
    return services().metrics.exposition()


@ops.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(services().settings))


@ops.get("/")
def page() -> Response:
    """The question page: a box, the answer and its highlighted source."""
    response = current_app.send_static_file("index.html")
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["Cache-Control"] = "no-cache"
    return response
