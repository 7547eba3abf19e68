"""Captured answers: a thread's question and a chosen reply become a searchable document.

Two ways in: the "Add to knowledge" message shortcut on a reply (by anyone), or a ✅ reaction
on a reply by the person who asked the thread's question. The document goes through the
real ingest pipeline: source `slack`, the reply's permalink as its URL, the channel as a tag,
the reply's author and time in its metadata, id `slack-CHANNEL-TS` (`qa delete` removes it).
A capture from a private channel, a group DM or a DM also stores the channel's id in the
chunk's `channel` field, and every Slack question filters on it, so it is only ever answered
in that channel. The channel always comes from Slack's signed payload, never from text.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Any

import redis
from slack_bolt import Respond
from slack_sdk import WebClient

from bot.slack import delivery
from bot.slack.apology import apology
from bot.slack.text import clip, escape, plain_question
from ingest.chunker import Chunker
from ingest.document import Document
from ingest.pipeline import IngestPipeline
from retrieval.errors import FilterError, QAError
from retrieval.query.filters import split_inline_filters
from retrieval.sentences import sentence_spans
from retrieval.types import DocMeta

if TYPE_CHECKING:
    from bot.slack.responder import Responder

log = logging.getLogger(__name__)

CAPTURE_CALLBACK = "qa_add_to_knowledge"
CHECKMARK = "white_check_mark"
SOURCE = "slack"
MAX_LABEL_CHARS = 300  # a captured reply's first sentence, as the span a reader should find


class CaptureRefused(Exception):
    """Why this message cannot be captured, in words for the person who tried."""


class Capturer:
    """The lazy listeners of the shortcut and the ✅ reaction."""

    def __init__(self, responder: Responder) -> None:
        self.engine = responder.engine
        self.settings = responder.settings
        self.state = responder.state
        self._pipeline: IngestPipeline | None = None
        self._lock = threading.Lock()

    def capture_shortcut(
        self, shortcut: dict, context: dict, respond: Respond, client: WebClient
    ) -> None:
        """ "Add to knowledge" on a thread reply: anyone may capture it."""
        channel, user = shortcut["channel"]["id"], shortcut["user"]["id"]
        ts = (shortcut.get("message") or {}).get("ts") or shortcut.get("message_ts") or ""
        reply = self._try(client, channel, ts, user, context.get("bot_user_id"), asker_only=False)
        delivery.tell(respond, client, reply or "", channel=channel, user=user)

    def capture_reaction(self, event: dict, context: dict, client: WebClient) -> None:
        """✅ on a thread reply: captured when the thread's asker reacted (others are ignored)."""
        item, user = event["item"], event["user"]
        channel, ts = item["channel"], item["ts"]
        reply = self._try(client, channel, ts, user, context.get("bot_user_id"), asker_only=True)
        if reply:
            delivery.post(
                client,
                {"text": reply},
                channel=channel,
                user=user,
                ephemeral=True,
                thread_ts=ts,
            )

    def _try(
        self, client: WebClient, channel: str, ts: str, user: str, bot: str | None, asker_only: bool
    ) -> str | None:
        """The reply for the person who captured; None when a ✅ is silently not a capture."""
        if not self.settings.slack_capture:
            return None if asker_only else "Capturing answers is turned off (QA_SLACK_CAPTURE)."
        try:
            question, chosen = self._thread(client, channel, ts)
            if asker_only and question.get("user") != user:
                return None  # only the asker's ✅ picks the answer
            if self.state.claim(f"capture:{channel}:{ts}", ttl_s=60) is False:
                raise CaptureRefused("that reply is being added already")  # a double click
            doc = self._document(client, channel, question, chosen, bot)
            report = self.pipeline().ingest([doc])
            if report.failed:
                raise RuntimeError(f"ingest failed: {report.failed[0][1]}")
            self._label(doc, user)
        except CaptureRefused as e:
            return None if asker_only else f":warning: {e}"
        except Exception as e:  # noqa: BLE001 - every failure must become a visible reply
            return apology(e, text=ts, user=user, channel=channel, doing="add that to knowledge")
        log.info("slack: %s captured %s from %s", user, doc.doc_id, channel)
        return (
            f":white_check_mark: Added to knowledge: “{escape(clip(doc.meta.title, 150))}”, "
            f"answered by <@{chosen.get('user')}>. Remove it with `qa delete {doc.doc_id}`."
        )

    def _label(self, doc: Document, user: str) -> None:
        """The capture is also a labelled answer for `qa train-reader`: the question, and the
        reply's first sentence as its answer. Lost with a log line if Redis is down."""
        first = sentence_spans(doc.text)
        answer = doc.text[first[0][0] : first[0][1]] if first else doc.text
        source = {
            "text": doc.text,
            "doc_id": doc.doc_id,
            "title": doc.meta.title,
            "url": doc.meta.url,
            "source": SOURCE,
        }
        try:
            self.state.feedback().record(
                question=doc.meta.title,
                answer=clip(answer, MAX_LABEL_CHARS, ellipsis=""),
                sources=[source],
                vote="capture",
                user=user,
                origin="capture",
            )
        except (QAError, redis.RedisError) as e:
            log.warning("slack: captured %s but could not keep it as a label (%s)", doc.doc_id, e)

    def _thread(self, client: WebClient, channel: str, ts: str) -> tuple[dict, dict]:
        """(the thread's first message, the chosen reply), as Slack has them."""
        found = client.conversations_replies(channel=channel, ts=ts, limit=200)["messages"]
        chosen = next((m for m in found if m.get("ts") == ts), None)
        root = (chosen or {}).get("thread_ts")
        if chosen is None or not root or root == ts:
            raise CaptureRefused(
                "use it on a reply in a thread: the thread's start is the question"
            )
        if chosen.get("bot_id") or not chosen.get("user"):
            raise CaptureRefused("pick a person's reply, not a bot's")
        if not found or found[0].get("ts") != root:
            found = client.conversations_replies(channel=channel, ts=root, limit=1)["messages"]
        return found[0], chosen

    def _document(
        self, client: WebClient, channel: str, question: dict, chosen: dict, bot: str | None
    ) -> Document:
        asked = plain_question(question.get("text") or "", bot)
        with contextlib.suppress(FilterError):
            asked = split_inline_filters(asked)[0] or asked
        answer = plain_question(chosen.get("text") or "", bot)
        if not asked or not answer:
            raise CaptureRefused("the question or the reply has no text to keep")
        private, name = _channel_kind(client, channel)
        if private and not self._can_keep_private():
            raise CaptureRefused(
                "this Redis cannot keep a private channel's capture inside the channel "
                "(it needs RediSearch 2.10 or later: Redis 8, Redis Stack 7.4)"
            )
        permalink = client.chat_getPermalink(channel=channel, message_ts=chosen["ts"])["permalink"]
        meta = DocMeta(
            doc_id=f"slack-{channel}-{chosen['ts']}",
            title=clip(asked, 300),
            source=SOURCE,
            tags=(channel if private else name,),
            url=str(permalink),
            created=float(chosen["ts"]),
            channel=channel if private else "",
            author=str(chosen.get("user") or ""),
        )
        return Document(meta, answer)

    def _can_keep_private(self) -> bool:
        index = self.engine.index
        index.ensure()
        return index.add_channel_field()

    def pipeline(self) -> IngestPipeline:
        """The real ingest pipeline over the engine's index and model, built on first use."""
        with self._lock:
            if self._pipeline is None:
                s, embedder = self.settings, self.engine.embedder
                chunker = Chunker(
                    s.chunk_tokens,
                    s.chunk_overlap_tokens,
                    embedder.max_tokens,
                    embedder.count_tokens,
                )
                self._pipeline = IngestPipeline(self.engine.index, embedder, chunker)
            return self._pipeline


def _channel_kind(client: WebClient, channel: str) -> tuple[bool, str]:
    """(private?, name). Anything not known to be a public channel counts as private."""
    if channel.startswith("D"):
        return True, channel
    try:
        info: dict[str, Any] = client.conversations_info(channel=channel)["channel"]
    except Exception as e:  # noqa: BLE001 - unknown: keep the capture inside its channel
        log.warning("slack: cannot tell whether %s is private (%s)", channel, delivery.describe(e))
        return True, channel
    private = bool(info.get("is_private") or info.get("is_im") or info.get("is_mpim"))
    return private, str(info.get("name") or channel)
