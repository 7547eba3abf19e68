"""Connecting to Redis: the server at REDIS_URL, or the embedded one."""

from __future__ import annotations

import redis

from retrieval.errors import RedisUnavailable, SearchModuleMissing
from retrieval.redis.server import EmbeddedRedis
from retrieval.settings import Settings


def embedded_server(settings: Settings) -> EmbeddedRedis:
    return EmbeddedRedis(settings.data_dir / "redis")


def connect(settings: Settings) -> redis.Redis:
    """A client for REDIS_URL, or for the embedded server (started if needed)."""
    timeout = settings.redis_timeout_s
    if settings.redis_url:
        client = redis.Redis.from_url(
            settings.redis_url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
            protocol=2,  # the replies are parsed as RESP2 lists
        )
        where = settings.redis_url
    else:
        server = embedded_server(settings).ensure()
        client = server.client(timeout=timeout)
        where = f"the embedded server in {server.data_dir}"
    check_search_module(client, where)
    return client


def check_search_module(client: redis.Redis, where: str) -> None:
    try:
        client.execute_command("FT._LIST")
    except redis.ConnectionError as e:
        raise RedisUnavailable(
            f"cannot reach Redis at {where} ({e}); is it running? Check REDIS_URL."
        ) from e
    except redis.ResponseError as e:
        if "unknown command" in str(e).lower():
            raise SearchModuleMissing(
                f"Redis at {where} has no search module (RediSearch). Use Redis 8, Redis Stack "
                "7.2+ or Redis Cloud with the Query Engine, or unset REDIS_URL to use the "
                "embedded server."
            ) from e
        raise
