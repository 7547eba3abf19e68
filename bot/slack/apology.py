"""What the asker reads when answering failed: short, with a reference into the full log."""

from __future__ import annotations

import logging
import secrets

from bot.slack.text import escape
from retrieval.errors import FilterError, InvalidQuestion, QAError

log = logging.getLogger("bot.slack.responder")

_TROUBLE = {
    "redis_unavailable": "the document store (Redis) can't be reached",
    "search_module_missing": "the document store has no search module",
    "index_missing": "the document index doesn't exist yet",
    "index_schema_mismatch": "the document index was built with different settings",
    "model_unavailable": "the answering model isn't available",
    "bad_configuration": "the bot is misconfigured",
}


def apology(
    error: Exception, *, text: str, user: str, channel: str | None, doing: str = "answer"
) -> str:
    """The visible reply; the log gets the details and the same reference."""
    if isinstance(error, InvalidQuestion | FilterError):
        log.info("slack: rejected question from %s: %s", user, error)
        return f":warning: {escape(str(error))}"
    ref = secrets.token_hex(4)
    log.error(
        "slack: could not %s for %s in %s [ref %s] (message %r): %s: %s",
        doing,
        user,
        channel,
        ref,
        text,
        type(error).__name__,
        error,
        exc_info=error,
    )
    code = error.code if isinstance(error, QAError) else ""
    trouble = _TROUBLE.get(code, "something went wrong on my side")
    return (
        f":warning: Sorry, I couldn't {doing}: {trouble}. Try again in a few minutes; "
        f"if it keeps failing, tell whoever runs this bot (ref `{ref}`)."
    )
