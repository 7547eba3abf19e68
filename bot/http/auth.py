"""Optional bearer tokens for /ask, and rate limits per client kept in Redis."""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import Blueprint, Flask, Response, request
from flask_limiter import Limiter, RequestLimit

from bot.http.errors import Unauthorized, problem
from retrieval.settings import Settings

_DENIED = "this endpoint needs a valid API token: send the header 'Authorization: Bearer <token>'"


class TokenCheck:
    """Compares a presented token with every configured one in constant time."""

    def __init__(self, tokens: tuple[str, ...]) -> None:
        self._digests = [_digest(t) for t in tokens]

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def valid(self, token: str | None) -> bool:
        given = _digest(token or "")
        ok = False
        for digest in self._digests:  # no early exit: the time says nothing about which failed
            ok |= hmac.compare_digest(given, digest)
        return ok and token is not None

    def require(self) -> None:
        """Raise 401 unless the request carries a valid token (a no-op when auth is off)."""
        if self.enabled and request.method != "OPTIONS" and not self.valid(bearer_token()):
            raise Unauthorized(_DENIED)

    def client_key(self) -> str:
        """Rate-limit key: a valid token's hash (one budget per token), else the address."""
        token = bearer_token()
        if token is not None and self.valid(token):
            return "token:" + _digest(token).hex()[:16]
        return "addr:" + (request.remote_addr or "unknown")


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def limiter_storage_uri(redis_url: str) -> str:
    """Flask-Limiter's name for the same Redis: unix sockets are spelled redis+unix://."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def init_limiter(app: Flask, settings: Settings, api: Blueprint, tokens: TokenCheck) -> Limiter:
    """Rate limits for POST on `api`, kept in Redis; a Redis outage falls back to memory."""
    limiter = Limiter(
        tokens.client_key,
        app=app,
        storage_uri=limiter_storage_uri(settings.redis_url or "memory://"),
        storage_options={
            "socket_timeout": settings.redis_timeout_s,
            "socket_connect_timeout": settings.redis_timeout_s,
            "key_prefix": f"{settings.key_prefix}:ratelimit",
        },
        strategy="moving-window",
        headers_enabled=False,  # on 429s only (see _too_many): no extra Redis round trip
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        on_breach=_too_many,
    )
    limiter.limit(settings.rate_limit, methods=["POST"])(api)
    return limiter


def _too_many(limit: RequestLimit) -> Response:
    reset_at = limit.reset_at
    retry_after = max(1, int(reset_at - time.time()))
    return problem(
        429,
        f"rate limit of {limit.limit} exceeded; retry in {retry_after}s",
        code="rate_limited",
        headers={
            "Retry-After": str(retry_after),
            "X-RateLimit-Limit": str(limit.limit.amount),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(reset_at),
        },
    )
