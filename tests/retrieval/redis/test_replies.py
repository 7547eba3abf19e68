from __future__ import annotations

import pytest
import redis

from retrieval.errors import RedisUnavailable
from retrieval.redis.replies import pairs, parse_search, reachable, text


def test_a_search_reply_with_scores_and_fields_parses_in_order() -> None:
    reply = [5, b"k1", b"1.5", [b"text", b"caf\xc3\xa9"], b"k2", b"0.5", [b"text", b"b"]]
    parsed = parse_search(reply, scores=True, content=True)
    assert parsed.total == 5
    assert [(f.key, f.score, f.fields) for f in parsed.docs] == [
        ("k1", 1.5, {"text": "café"}),
        ("k2", 0.5, {"text": "b"}),
    ]


def test_a_nocontent_reply_gives_keys_only() -> None:
    parsed = parse_search([2, b"a", b"b"], scores=False, content=False)
    assert parsed.total == 2 and [f.key for f in parsed.docs] == ["a", "b"]
    assert all(f.fields == {} and f.score is None for f in parsed.docs)


def test_undecodable_bytes_are_replaced_not_raised() -> None:
    assert text(b"\xff ok") == "\ufffd ok"
    assert pairs([b"num_docs", b"3", b"attributes", []]) == {"num_docs": "3", "attributes": []}


def test_a_lost_connection_becomes_redis_unavailable_naming_the_action() -> None:
    expected = pytest.raises(RedisUnavailable, match="cannot store feedback: Redis is unreachable")
    with expected, reachable("cannot store feedback"):
        raise redis.ConnectionError("refused")
