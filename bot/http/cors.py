"""Cross-origin access: off unless QA_CORS_ORIGINS lists origins (or `*`)."""

from __future__ import annotations

from flask import Flask, Response, request

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, X-Request-ID"
EXPOSE_HEADERS = (
    "X-Request-ID, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
)
MAX_AGE_S = "600"


def init_app(app: Flask, origins: tuple[str, ...]) -> None:
    """Answer preflights and label responses for the listed origins; nothing when none."""
    if not origins:
        return
    allowed = {o.rstrip("/") for o in origins}

    def allowed_origin() -> str | None:
        origin = request.headers.get("Origin")
        if origin and ("*" in allowed or origin in allowed):
            return origin
        return None

    @app.before_request
    def _preflight() -> Response | None:
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        response = Response(status=204)
        if allowed_origin():
            response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            response.headers["Access-Control-Max-Age"] = MAX_AGE_S
        return response

    @app.after_request
    def _label(response: Response) -> Response:
        response.vary.add("Origin")
        if origin := allowed_origin():
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        return response
