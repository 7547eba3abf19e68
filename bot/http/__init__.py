"""The HTTP service: POST /ask, probes, metrics, OpenAPI and a question page, as a Flask app.

`create_app()` builds everything from settings. gunicorn calls it once in the master
(`--preload`, see bot/wsgi.py) with `warm=False`: each worker then loads the models itself
before it serves (gunicorn.conf.py).
"""

from __future__ import annotations

import functools

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.http import auth, cors, errors, observability
from bot.http.services import EXTENSION, Services
from bot.http.views import api, ops
from ingest.sync_metrics import SyncCollector
from retrieval.engine import QAEngine
from retrieval.redis.connection import connect, embedded_server
from retrieval.settings import Settings

__all__ = ["create_app", "engine_of"]


def create_app(
    settings: Settings | None = None, engine: QAEngine | None = None, warm: bool = True
) -> Flask:
    """The app for these settings (default: the environment) and engine (default: built here).

    `warm=False` leaves loading the models to the caller (`engine_of(app).warm_up()`).
    """
    settings = settings or (engine.settings if engine else Settings.from_env())
    settings = with_redis_url(settings)
    engine = engine or QAEngine(settings)
    if warm:
        engine.warm_up()

    observability.configure_logging()
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
    tokens = auth.TokenCheck(settings.api_tokens)
    svc = Services(settings, engine, tokens)
    app.extensions[EXTENSION] = svc
    sync_client = functools.cache(lambda: connect(settings))  # REDIS_URL is set by now
    svc.metrics.add_collector(SyncCollector(sync_client, settings.key_prefix))
    # Order matters: request id first, so every later error response carries one.
    observability.init_app(app, svc.metrics)
    errors.init_app(app)
    cors.init_app(app, settings.cors_origins)
    auth.init_limiter(app, settings, api, tokens)
    app.register_blueprint(api)
    app.register_blueprint(ops)
    if settings.slack_signing_secret and settings.slack_bot_token:
        from bot.slack.http_mode import mount_slack

        mount_slack(app, settings, engine)
    return app


def engine_of(app: Flask) -> QAEngine:
    return app.extensions[EXTENSION].engine


def with_redis_url(settings: Settings) -> Settings:
    """Without REDIS_URL, start (or reuse) the embedded Redis and point everything at it."""
    if settings.redis_url:
        return settings
    server = embedded_server(settings).ensure()
    return settings.with_(redis_url=server.url)
