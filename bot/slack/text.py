"""Slack's text formats: reading a message as plain text, writing safe mrkdwn and deep links."""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_WORD = re.compile(r"\S+")
FRAGMENT_WORDS = 4  # a long quote is matched by its first and last few words
FRAGMENT_MAX_CHARS = 80


def plain_question(text: str, bot_user_id: str | None = None) -> str:
    """A message as the user typed it: without the bot's mention, links and entities unwrapped."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    text = _MENTION.sub(lambda m: "@" + m[1], text)
    text = _LINK.sub(_unwrap_link, text)
    return " ".join(html.unescape(text).split())


def _unwrap_link(m: re.Match) -> str:
    target, label = m[1], m[2]
    if target.startswith(("#C", "#G")):  # <#C123|general>
        return "#" + (label or target[1:])
    if target.startswith("!"):  # <!here>, <!subteam^S1|@team>
        return label or "@" + target[1:].split("^")[0]
    return label or target.removeprefix("mailto:")


def escape(text: str) -> str:
    """Text shown literally inside mrkdwn (Slack only needs &, < and > escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int, ellipsis: str = "…") -> str:
    """At most `limit` characters, cut at a word boundary when there is one nearby."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(ellipsis), 0)]
    space = cut.rfind(" ")
    if space >= len(cut) * 0.8:
        cut = cut[:space]
    return cut.rstrip() + ellipsis


def clip_mrkdwn(text: str, limit: int) -> str:
    """A last-resort cut of finished mrkdwn that never leaves half an entity or link behind."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp, semi = cut.rfind("&"), cut.rfind(";")
    if amp > semi:
        cut = cut[:amp]
    opened, closed = cut.rfind("<"), cut.rfind(">")
    if opened > closed:
        cut = cut[:opened]
    return cut + "…"


def bold(text: str) -> str:
    """`*text*`, with the whitespace Slack will not bold moved outside the markers."""
    core = text.strip()
    if not core:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    return f"{lead}*{core.replace('*', '∗')}*{trail}"


def link(url: str | None, label: str) -> str:
    """`<url|label>` for an http(s) URL, else the escaped label alone."""
    if not url or urlsplit(url).scheme not in ("http", "https"):
        return escape(label)
    safe_url = re.sub(r"[\s|<>]", lambda m: quote(m[0]), url)
    return f"<{safe_url}|{escape(label.replace('|', '¦'))}>"


def deep_link(
    url: str | None,
    *,
    page: int | None = None,
    quote_text: str | None = None,
    path: str | None = None,
) -> str | None:
    """A link to the exact spot: `#page=N` in a PDF, a text fragment (`#:~:text=`) in a page."""
    if not url or urlsplit(url).scheme not in ("http", "https"):
        return None
    if _is_pdf(url, path):
        return url.split("#", 1)[0] + f"#page={page}" if page else url
    fragment = text_fragment(quote_text or "")
    if not fragment:
        return url
    return url + fragment[1:] if "#" in url else url + fragment


def _is_pdf(url: str, path: str | None) -> bool:
    return urlsplit(url).path.lower().endswith(".pdf") or (path or "").lower().endswith(".pdf")


def text_fragment(quote_text: str) -> str:
    """`#:~:text=...` that highlights `quote_text` in a browser; long quotes as `start,end`."""
    words = _WORD.findall(quote_text)
    if not words:
        return ""
    whole = " ".join(words)
    if len(whole) <= FRAGMENT_MAX_CHARS or len(words) <= 2 * FRAGMENT_WORDS:
        return "#:~:text=" + _fragment_part(whole)
    start = " ".join(words[:FRAGMENT_WORDS])
    end = " ".join(words[-FRAGMENT_WORDS:])
    return f"#:~:text={_fragment_part(start)},{_fragment_part(end)}"


def _fragment_part(text: str) -> str:
    # '-', ',' and '&' are syntax in a text directive; quote() leaves '-' alone.
    return quote(text, safe="").replace("-", "%2D")
