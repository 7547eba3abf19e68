"""Chunks restricted to a channel (private Slack captures): the `channel` field, the filter
that hides them from questions asked elsewhere, and older indexes that lack the field."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest
import redis

from retrieval.index.chunks import ChunkIndex
from retrieval.index.fields import CHANNEL_FIELD
from retrieval.index.schema import IndexSchema
from retrieval.query.filters import Filters, compile_filters, parse_filters, split_inline_filters
from retrieval.settings import Settings
from retrieval.types import Chunk, DocMeta


@pytest.mark.parametrize(
    ("visible_in", "expected"),
    [
        (None, "(@source:{hr})"),
        ("", "(@source:{hr} (ismissing(@channel)))"),
        ("C0000061", "(@source:{hr} (ismissing(@channel) | @channel:{C0000061}))"),
        (
            "C1} | @channel:{C2",
            r"(@source:{hr} (ismissing(@channel) | @channel:{C1\}\ \|\ \@channel\:\{C2}))",
        ),
    ],
)
def test_visibility_compiles_to_a_clause_with_the_channel_escaped(visible_in, expected):
    filters = replace(parse_filters({"source": "hr"}), visible_in=visible_in)

    assert compile_filters(filters) == expected


def test_no_filter_text_can_set_the_channel():
    question, filters = split_inline_filters("what is it? channel:C0000061 visible_in:C0000061")

    assert filters.visible_in is None and filters.is_empty()
    assert "channel:C0000061" in question
    assert replace(Filters(), visible_in="C1").merged(Filters()).visible_in is None


@pytest.fixture()
def old_index(redis_client: redis.Redis, settings: Settings) -> ChunkIndex:
    """An index created before the channel field existed, holding one private chunk."""
    index = ChunkIndex(redis_client, IndexSchema(settings.index_name, settings.key_prefix, 4, "m"))
    args = index.schema.create_args()
    at = args.index(CHANNEL_FIELD[0])
    index._call("FT.CREATE", *args[:at], *args[at + len(CHANNEL_FIELD) :])
    vectors = np.ones((1, 4), dtype=np.float32)
    for doc_id, channel in (("public", ""), ("private", "C0000061")):
        meta = DocMeta(doc_id, title=doc_id, channel=channel)
        index.replace(meta, doc_id, [Chunk(doc_id, 0, "parking permits", 0, 15)], vectors)
    return index


def visible(index: ChunkIndex, channel: str | None) -> list[str]:
    where = compile_filters(Filters(visible_in=channel))
    reply = index._call("FT.SEARCH", index.schema.name, where, "RETURN", 1, "doc_id", "DIALECT", 2)
    return sorted(fields[1].decode() for fields in reply[2::2])


def test_an_older_index_gets_the_channel_field_and_hides_private_chunks(old_index: ChunkIndex):
    old_index.ensure()
    old_index.ensure()  # once is enough; a second run changes nothing
    deadline = time.monotonic() + 10
    while old_index.info().get("indexing") not in (0, "0") and time.monotonic() < deadline:
        time.sleep(0.05)  # FT.ALTER re-reads the existing chunks in the background

    assert visible(old_index, "C0000061") == ["private", "public"]
    assert visible(old_index, "C0000099") == ["public"]
    assert visible(old_index, "") == ["public"]
    assert visible(old_index, None) == ["private", "public"]


def test_http_cli_and_other_channels_never_see_a_private_capture(engine, pipeline, cli_env):
    from click.testing import CliRunner

    from bot.cli import cli
    from ingest.document import Document

    text = "The private parking permit code for the north garage is PX-4471."
    pipeline.ingest([
        Document(DocMeta("private", title="Garage", channel="C0000061"), text),
        Document(DocMeta("public", title="Lunch"), "Lunch is served at noon in the canteen."),
    ])  # fmt: skip
    question = "What is the parking permit code for the north garage?"

    def sources(answer) -> set[str]:  # type: ignore[no-untyped-def]
        return {s["doc_id"] for s in answer.sources}

    assert "private" not in sources(engine.ask(question))  # HTTP and the CLI ask like this
    assert "private" not in sources(engine.ask(question, filters={"doc_id": "private"}))
    elsewhere = replace(Filters(), visible_in="C0000099")
    assert "private" not in sources(engine.ask(question, filters=elsewhere))
    here = replace(Filters(), visible_in="C0000061")
    assert "PX-4471" in (engine.ask(question, filters=here).answer or "")
    result = CliRunner().invoke(cli, ["ask", "--json", question], env=cli_env)
    assert result.exit_code == 0 and "PX-4471" not in result.output


def test_the_visibility_clause_appears_only_once_the_index_holds_a_private_capture(
    engine, pipeline
):
    from ingest.document import Document

    pipeline.ingest([Document(DocMeta("public", title="Lunch"), "Lunch is served at noon.")])
    assert engine.retrieve("When is lunch?").query == "*"  # ranking exactly as without Slack
    slack = replace(Filters(), visible_in="C0000061")
    assert engine.retrieve("When is lunch?", filters=slack).query == "*"

    private = DocMeta("private", title="Garage", channel="C0000061")
    pipeline.ingest([Document(private, "The garage code is PX-4471.")])
    assert engine.retrieve("When is lunch?").query == "((ismissing(@channel)))"
