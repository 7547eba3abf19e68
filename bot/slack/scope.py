"""Channel scopes: the default filters of a channel's questions (`/ask-scope source:hr`).

A scope is stored in Redis as the filter language's own JSON form and read back through
`parse_filters`, so a value is always a value: whatever it holds is escaped when compiled.
Questions that set their own filters ignore the scope; DMs share one workspace default.
Only workspace admins and owners, or members of QA_SLACK_SCOPE_ADMINS (a user group), change it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import redis
from slack_sdk import WebClient

from bot.slack import delivery
from bot.slack.text import escape
from retrieval.errors import FilterError, QAError
from retrieval.query.filters import Filters, parse_filters, split_inline_filters
from retrieval.settings import Settings

log = logging.getLogger(__name__)

DM_SCOPE = "dm"  # where the workspace default for DMs is stored
CLEAR_WORDS = ("clear", "none", "off", "everything")
USAGE = (
    "Set this channel's default filters with `/ask-scope source:hr tag:policy`; "
    "`/ask-scope clear` searches everything again."
)


class ChannelScopes:
    """Read and write scopes under `{prefix}:slack:scope:`; `client` is called lazily."""

    def __init__(self, client: Callable[[], redis.Redis], settings: Settings) -> None:
        self._client = client
        self.prefix = settings.key_prefix
        self.dm_default = settings.slack_dm_scope
        self.admin_group = settings.slack_scope_admins
        self.enabled = settings.slack_scopes

    def get(self, channel: str) -> Filters:
        """The channel's scope (DMs: the workspace default); raises if Redis is down."""
        if not self.enabled:
            return Filters()
        where = _where(channel)
        raw = self._client().get(self._key(where))
        if raw is not None:
            return parse_filters(json.loads(raw))
        if where == DM_SCOPE and self.dm_default:
            return split_inline_filters(self.dm_default)[1]
        return Filters()

    def set(self, channel: str, filters: Filters) -> None:
        key = self._key(_where(channel))
        if filters.is_empty():
            self._client().delete(key)
        else:
            self._client().set(key, json.dumps(filters.to_dict(), ensure_ascii=False))

    def may_change(self, client: WebClient, user: str) -> bool:
        """Workspace admins and owners (users.info), and the configured user group's members."""
        profile = client.users_info(user=user)["user"]
        if profile.get("is_admin") or profile.get("is_owner") or profile.get("is_primary_owner"):
            return True
        if self.admin_group:
            members = client.usergroups_users_list(usergroup=self.admin_group)["users"]
            return user in members
        return False

    def command(self, command: dict[str, Any], respond: Any, client: WebClient) -> None:
        """`/ask-scope`: show the scope, or set it (admins only)."""
        channel, user = command["channel_id"], command["user_id"]
        text = (command.get("text") or "").strip()
        try:
            reply = self._handle(text, channel, user, client)
        except (QAError, redis.RedisError) as e:
            log.warning("slack: /ask-scope failed in %s: %s", channel, e)
            reply = ":warning: Sorry, I couldn't read or save the scope now. Try again later."
        except Exception as e:  # noqa: BLE001 - every failure must become a visible reply
            log.warning("slack: /ask-scope failed in %s: %s", channel, delivery.describe(e))
            reply = ":warning: Sorry, I couldn't check who may change the scope. Try again later."
        delivery.tell(respond, client, reply, channel=channel, user=user)

    def _handle(self, text: str, channel: str, user: str, client: WebClient) -> str:
        here = "DMs with me" if _where(channel) == DM_SCOPE else "this channel"
        if not self.enabled:
            return "Channel scopes are turned off here (QA_SLACK_SCOPES)."
        if not text:
            return f"Questions in {here} search: {describe(self.get(channel))}. {USAGE}"
        try:
            filters = _parse_scope(text)
        except FilterError as e:
            return f":warning: {escape(str(e))}. {USAGE}"
        if not self.may_change(client, user):
            return (
                ":no_entry: Only workspace admins (or the scope admins group) may change the "
                f"scope. Questions in {here} search: {describe(self.get(channel))}."
            )
        self.set(channel, filters)
        log.info("slack: %s set the scope of %s to %s", user, channel, filters.to_dict())
        return f":white_check_mark: Questions in {here} now search: {describe(filters)}."

    def _key(self, where: str) -> str:
        return f"{self.prefix}:slack:scope:{where}"


def _parse_scope(text: str) -> Filters:
    if text.lower() in CLEAR_WORDS:
        return Filters()
    rest, filters = split_inline_filters(text)
    if rest or filters.is_empty():
        shown = rest or text
        raise FilterError(f"'{shown[:80]}' is not a filter: write key:value pairs")
    return filters


def _where(channel: str) -> str:
    return DM_SCOPE if channel.startswith("D") else channel


def describe(filters: Filters) -> str:
    """`source hr, tag policy` (mrkdwn-escaped), or `everything`."""
    parts = []
    for key, value in filters.to_dict().items():
        values = value if isinstance(value, list) else [value]
        joiner = " " if key in ("created", "modified") else " or "
        parts.append(f"{key} " + joiner.join(escape(str(v)) for v in values))
    return ", ".join(parts) or "everything"
