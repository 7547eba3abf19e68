"""Every multi-key command and every transaction the product sends stays in one cluster slot.

A sharded Redis (Redis Cloud / Software behind one endpoint, or an OSS cluster) refuses a
command or a MULTI/WATCH transaction whose keys hash to different slots (CROSSSLOT). The
flow below records every command redis-py sends to the real server while documents are
ingested, re-ingested, asked about over HTTP, voted on, deleted and dropped and while a
training lock is held; the server itself says which arguments are keys (COMMAND GETKEYS).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
import redis
from redis.connection import AbstractConnection
from redis.crc import key_slot

from bot.http import create_app
from ingest.pipeline import IngestPipeline
from retrieval.engine import QAEngine
from retrieval.index.chunks import ChunkIndex
from retrieval.settings import Settings
from retrieval.training.lock import TrainingLock
from tests.bot.http.conftest import DOCUMENTS, KEY_QUESTION


@dataclass
class Recorder:
    """(connection, command) of everything sent, in order: single commands and pipelines."""

    sent: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        send_command = AbstractConnection.send_command
        pack_commands = AbstractConnection.pack_commands

        def one(conn: AbstractConnection, *args: Any, **kwargs: Any) -> Any:
            self.sent.append((id(conn), args))
            return send_command(conn, *args, **kwargs)

        def many(conn: AbstractConnection, commands: Any) -> Any:
            commands = list(commands)
            self.sent.extend((id(conn), tuple(c)) for c in commands)
            return pack_commands(conn, commands)

        monkeypatch.setattr(AbstractConnection, "send_command", one)
        monkeypatch.setattr(AbstractConnection, "pack_commands", many)


def _name(args: tuple[Any, ...]) -> str:
    first = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
    return first.split()[0].upper()  # redis-py sends some commands as "COMMAND SUB"


def _keys(client: redis.Redis, args: tuple[Any, ...]) -> list[bytes]:
    parts = [p for a in args for p in (a.split() if isinstance(a, str) and a is args[0] else [a])]
    try:
        return [k if isinstance(k, bytes) else k.encode() for k in client.command_getkeys(*parts)]
    except redis.ResponseError:  # "no key arguments" (PING, SCAN, FT.SEARCH on some servers)
        return []


def _groups(client: redis.Redis, sent: list[tuple[int, tuple[Any, ...]]]) -> Iterator[tuple]:
    """(what, keys) per multi-key command and per WATCH/MULTI..EXEC block of one connection."""
    open_blocks: dict[int, list[bytes]] = defaultdict(list)
    in_block: dict[int, list[str]] = defaultdict(list)
    for conn, args in sent:
        name = _name(args)
        if name in ("EXEC", "DISCARD", "UNWATCH", "RESET"):
            if in_block[conn]:
                yield " ".join(in_block.pop(conn)), open_blocks.pop(conn, [])
            continue
        if name == "MULTI":
            in_block[conn].append("MULTI")
            continue
        keys = _keys(client, args)
        if len(set(keys)) > 1:
            yield name, keys
        if name == "WATCH" or in_block[conn]:
            in_block[conn].append(name)
            open_blocks[conn] += keys


def test_every_multi_key_command_and_transaction_stays_in_one_slot(
    settings: Settings, engine: QAEngine, index: ChunkIndex, pipeline: IngestPipeline,
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    recorder = Recorder()
    recorder.install(monkeypatch)
    pipeline.ingest(DOCUMENTS)
    changed = replace(DOCUMENTS[0], text=DOCUMENTS[0].text + "\n\nKeys are rotated yearly.")
    pipeline.ingest([changed])  # the switch: new chunks, record, old chunks deleted
    client = create_app(settings, engine).test_client()
    asked = client.post("/ask", json={"question": KEY_QUESTION}).get_json()
    voted = client.post("/feedback", json={"answer_id": asked["answer_id"], "helpful": True})
    assert voted.status_code == 201
    with TrainingLock(redis_client, index.schema.training_lock_key, "qa train"):
        pass
    index.delete(DOCUMENTS[1].meta.doc_id)
    index.drop()
    monkeypatch.undo()

    checked = list(_groups(redis_client, recorder.sent))
    crossing = [(what, sorted({key_slot(k) for k in keys}), keys[:4]) for what, keys in checked
                if len({key_slot(k) for k in keys}) > 1]  # fmt: skip
    assert not crossing, f"commands whose keys span cluster slots: {crossing}"
    # Not vacuous: the flow did send multi-key deletes and transactions.
    assert any(what == "DEL" for what, _ in checked)
    assert any(what.startswith(("WATCH", "MULTI")) and keys for what, keys in checked)
