"""The Bolt app factory, shared by Socket Mode (`qa slack`) and HTTP mode (`/slack/events`)."""

from __future__ import annotations

import logging
import os
from concurrent.futures import Executor, ThreadPoolExecutor

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.slack.listeners import register_listeners
from bot.slack.responder import Responder
from retrieval.engine import QAEngine
from retrieval.errors import ConfigError
from retrieval.settings import Settings

# Bolt runs ack functions and lazy functions on the same pool: keep it large enough that
# slow answers never queue an ack past Slack's 3 seconds.
LISTENER_THREADS = 32
SLACK_TIMEOUT_S = 10


def web_client(settings: Settings) -> WebClient:
    """The Web API client: SLACK_BOT_TOKEN, SLACK_API_URL (tests), retries on rate limits."""
    if not settings.slack_bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your "
            "Slack app's OAuth & Permissions page (see docs/slack.md)."
        )
    client = WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url or WebClient.BASE_URL,
        timeout=SLACK_TIMEOUT_S,
    )
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def build_slack_app(
    settings: Settings,
    engine: QAEngine,
    client: WebClient | None = None,
    *,
    socket_mode: bool = False,
    verify_token: bool | None = None,
    executor: Executor | None = None,
) -> App:
    """A Bolt app answering with `engine`.

    HTTP mode verifies every request's signature with SLACK_SIGNING_SECRET; Socket Mode needs
    no secret (Slack's WebSocket is authenticated by the app token). `verify_token` checks the
    bot token with auth.test now (default: in Socket Mode only, so a web server still starts
    while Slack is unreachable; HTTP mode checks it on the first request).
    """
    if not socket_mode and not settings.slack_signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: copy the Signing Secret from your Slack app's "
            "Basic Information page (see docs/slack.md)."
        )
    if all(os.environ.get(v) is not None for v in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")):
        # Bolt reads these two itself and then authorises from an OAuth installation store.
        raise ConfigError(
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set, so Bolt would switch to its "
            "multi-workspace OAuth install flow and ignore SLACK_BOT_TOKEN. This bot serves one "
            "workspace with SLACK_BOT_TOKEN: unset both (see docs/slack.md)."
        )
    try:
        app = App(
            name="qa-slack",
            client=client or web_client(settings),
            signing_secret=settings.slack_signing_secret or "",
            request_verification_enabled=not socket_mode,
            token_verification_enabled=socket_mode if verify_token is None else verify_token,
            process_before_response=False,
            listener_executor=executor or _executor(),
            logger=logging.getLogger("bot.slack.bolt"),
        )
    except BoltError as e:
        raise ConfigError(f"Slack refused the bot token ({e}); check SLACK_BOT_TOKEN.") from e
    register_listeners(app, Responder(engine, settings))
    return app


def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="slack-listener")
