"""The filter language: parsing, compiling, escaping, and what a real RediSearch does with it."""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import redis
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from retrieval.errors import FilterError
from retrieval.query.filters import (
    KEYS,
    Filters,
    Range,
    compile_filters,
    escape_tag,
    escape_text,
    parse_filter_args,
    parse_filters,
    split_inline_filters,
)

JAN_1_2024 = 1704067200
JUL_1_2024 = 1719792000
DAY = 86400
WHITESPACE = " \t\n\r\v\f"
CONTROL_CHARS = [chr(c) for c in range(32)] + ["\x7f"]
HOSTILE_ASCII = list(" {}|@-*$\\()~%:\"'[];!.=<>^&#`+?/")
HOSTILE_UNICODE = ["é", "日", "🚀", "ש", "\u200f", "\u0301", "\u00a0", "\u3000", "İ", "ß", "Ω"]


# --- compile_filters: input mapping -> exact query ---------------------------------------------

COMPILED = [
    (None, "*"),
    ({}, "*"),
    ({"tag": "hr"}, "(@tags:{hr})"),
    ({"tag": "hr,it"}, "(@tags:{hr | it})"),
    ({"tag": ["hr", "it"]}, "(@tags:{hr | it})"),
    ({"Tags": " hr , it ,"}, "(@tags:{hr | it})"),
    ({"TAG": ["hr", "hr", "it,hr"]}, "(@tags:{hr | it})"),
    ({"source": "team handbook"}, r"(@source:{team\ handbook})"),
    ({"sources": ("a", "b c")}, r"(@source:{a | b\ c})"),
    ({"doc": "doc-42"}, r"(@doc_id:{doc\-42})"),
    ({"doc_ids": 42}, "(@doc_id:{42})"),
    ({"doc_id": "a_b"}, r"(@doc_id:{a\_b})"),
    ({"doc_id": "_"}, r"(@doc_id:{\_})"),
    # excluding documents: none of the values, every value escaped like a tag
    ({"not_doc_id": "doc-42"}, r"(-@doc_id:{doc\-42})"),
    ({"not_doc_id": ["a", "b c"]}, r"(-@doc_id:{a | b\ c})"),
    ({"NOT_DOC": "a,b"}, r"(-@doc_id:{a | b})"),
    ({"not_doc_id": "x", "tag": "hr"}, r"(@tags:{hr} -@doc_id:{x})"),
    ({"not_doc_id": "x", "doc_id": "y"}, r"(@doc_id:{y} -@doc_id:{x})"),
    ({"not_doc_id": "} | *"}, r"(-@doc_id:{\}\ \|\ \*})"),
    ({"not_doc_id": "-@doc_id:{x}"}, r"(-@doc_id:{\-\@doc\_id\:\{x\}})"),
    ({"not_doc_id": "!abc"}, r"(-@doc_id:{\!abc})"),
    ({"not_doc_id": 'say "hi"'}, r"(-@doc_id:{say\ \"hi\"})"),
    ({"not_doc_id": "日本"}, "(-@doc_id:{日本})"),
    # hostile tag values: every ASCII non-word character is backslashed
    ({"source": "} | @source:{x"}, r"(@source:{\}\ \|\ \@source\:\{x})"),
    ({"tag": "\\"}, r"(@tags:{\\})"),
    ({"tag": "*"}, r"(@tags:{\*})"),
    ({"tag": "-hr"}, r"(@tags:{\-hr})"),
    ({"tag": "@tags:{x}"}, r"(@tags:{\@tags\:\{x\}})"),
    ({"source": 'say "hi"'}, r"(@source:{say\ \"hi\"})"),
    ({"source": "it's"}, r"(@source:{it\'s})"),
    ({"source": "$param"}, r"(@source:{\$param})"),
    ({"source": "(a)~%b%"}, r"(@source:{\(a\)\~\%b\%})"),
    ({"source": "a=>{$weight: 2}"}, r"(@source:{a\=\>\{\$weight\:\ 2\}})"),
    ({"tag": "x]) | *"}, r"(@tags:{x\]\)\ \|\ \*})"),
    ({"tag": "a\\}b"}, r"(@tags:{a\\\}b})"),
    # non-ASCII goes raw: a backslash before it would stop it matching
    ({"tag": "naïve café"}, r"(@tags:{naïve\ café})"),
    ({"tag": "🚀launch"}, "(@tags:{🚀launch})"),
    ({"source": "שלום עולם"}, r"(@source:{שלום\ עולם})"),
    ({"source": "\u200fمرحبا"}, "(@source:{\u200fمرحبا})"),
    ({"tag": "x\u00a0"}, "(@tags:{x\u00a0})"),
    ({"tag": "t" * 200}, "(@tags:{" + "t" * 200 + "})"),
    # dates: a day, month or year is the whole span; the end bound is exclusive
    ({"created": "2024-01-01..2024-06-30"}, f"(@created:[{JAN_1_2024} ({JUL_1_2024}])"),
    ({"created": " 2024-01-01 .. 2024-06-30 "}, f"(@created:[{JAN_1_2024} ({JUL_1_2024}])"),
    ({"created": "2024"}, f"(@created:[{JAN_1_2024} (1735689600])"),
    ({"modified": "2024-03"}, "(@modified:[1709251200 (1711929600])"),
    ({"modified": "2024-02"}, "(@modified:[1706745600 (1709251200])"),
    ({"modified": "2024-12"}, "(@modified:[1733011200 (1735689600])"),
    ({"created": "2024-01-01"}, f"(@created:[{JAN_1_2024} ({JAN_1_2024 + DAY}])"),
    ({"created": "=2024-01-01"}, f"(@created:[{JAN_1_2024} ({JAN_1_2024 + DAY}])"),
    ({"created": "2024-01-01..2024-01-01"}, f"(@created:[{JAN_1_2024} ({JAN_1_2024 + DAY}])"),
    ({"created": ">=2024-01-01"}, f"(@created:[{JAN_1_2024} +inf])"),
    ({"created": ">2024-01-01"}, f"(@created:[{JAN_1_2024 + DAY} +inf])"),
    ({"created": "<2024-01-01"}, f"(@created:[-inf ({JAN_1_2024}])"),
    ({"created": "<=2024-01-01"}, f"(@created:[-inf ({JAN_1_2024 + DAY}])"),
    ({"created": "2024.."}, f"(@created:[{JAN_1_2024} +inf])"),
    ({"created": "..2024"}, "(@created:[-inf (1735689600])"),
    ({"created": JAN_1_2024}, f"(@created:[{JAN_1_2024} {JAN_1_2024}])"),
    ({"created": 2024}, "(@created:[2024 2024])"),  # a JSON number is unix seconds
    ({"created": "1704067200.5"}, "(@created:[1704067200.5 1704067200.5])"),
    ({"created": ">1704067200"}, f"(@created:[({JAN_1_2024} +inf])"),
    ({"created": "<=1704067200"}, f"(@created:[-inf {JAN_1_2024}])"),
    ({"created": "2024-01-01T12:00:00+02:00"}, "(@created:[1704103200 1704103200])"),
    ({"created": "2024-01-01T12:00:00"}, "(@created:[1704110400 1704110400])"),
    ({"created": "2024-01-01T12:00Z..2024-01-02"}, "(@created:[1704110400 (1704240000])"),
    ({"created": "1969-12-31"}, f"(@created:[{-DAY} (0])"),
    ({"created": ["2024", "<2024-07"]}, f"(@created:[{JAN_1_2024} ({JUL_1_2024}])"),
    # text: split like the indexer, stopwords dropped, words in order
    ({"text": "vpn"}, "(@text|title:(vpn))"),
    ({"terms": "covid-19"}, "(@text|title:(covid 19))"),
    ({"text": "state-of-the-art"}, "(@text|title:(state art))"),
    ({"text": "b-b B"}, "(@text|title:(b B))"),
    ({"text": "the"}, "*"),
    ({"text": "THE a"}, "*"),
    ({"text": ["the", "vpn"]}, "(@text|title:(vpn))"),
    ({"text": ["vpn", "reset"]}, "(@text|title:(vpn) @text|title:(reset))"),
    ({"text": "naïve"}, "(@text|title:(naïve))"),
    ({"text": "日本語"}, "(@text|title:(日本語))"),
    ({"text": "foo_bar"}, r"(@text|title:(foo\_bar))"),
    ({"text": "_"}, r"(@text|title:(\_))"),
    ({"text": "@title:(x) | -y"}, "(@text|title:(title x y))"),
    ({"text": "*"}, "*"),
    ({"text": "%vpn%"}, "(@text|title:(vpn))"),
    ({"text": "$param"}, "(@text|title:(param))"),
    ({"text": "C:\\Users\\foo"}, "(@text|title:(C Usersfoo))"),
    ({"text": "a\\-b"}, r"(@text|title:(a\-b))"),
    ({"text": "x\\\\y z"}, "(@text|title:(z))"),  # a literal backslash: left out
    ({"text": "\\\\"}, "*"),
    # everything together, always in the same order
    (
        {
            "text": "vpn",
            "modified": ">=2024-03",
            "created": "2024",
            "doc_id": "d1",
            "source": "wiki",
            "tag": ["hr", "it"],
        },
        "(@tags:{hr | it} @source:{wiki} @doc_id:{d1} @created:[1704067200 (1735689600]"
        " @modified:[1709251200 +inf] @text|title:(vpn))",
    ),
]


@pytest.mark.parametrize(("mapping", "expected"), COMPILED)
def test_filters_compile_to_the_expected_query(mapping, expected):
    assert compile_filters(parse_filters(mapping)) == expected


CLI = [
    ([], Filters()),
    (["tag=hr", "tag=it"], Filters(tags=("hr", "it"))),
    (["TAG=hr,it", "source=team handbook"], Filters(tags=("hr", "it"), sources=("team handbook",))),
    (["doc=doc-1", "doc_ids=doc-2"], Filters(doc_ids=("doc-1", "doc-2"))),
    (["created=>=2024-01-01"], Filters(created=Range(low=JAN_1_2024))),
    (["created==2024-01-01"], Filters(created=Range(JAN_1_2024, JAN_1_2024 + DAY, True, False))),
    (
        ["created=2024", "created=<2024-07"],
        Filters(created=Range(JAN_1_2024, JUL_1_2024, True, False)),
    ),
    (["text=a=b", "terms=vpn"], Filters(text=("a=b", "vpn"))),
    ([" tag = hr "], Filters(tags=("hr",))),
]


@pytest.mark.parametrize(("args", "expected"), CLI)
def test_cli_arguments_parse_into_filters(args, expected):
    assert parse_filter_args(args) == expected


INLINE = [
    (
        "source:handbook tag:hr how do I reset my VPN?",
        "how do I reset my VPN?",
        Filters(tags=("hr",), sources=("handbook",)),
    ),
    (
        'source:"team handbook" what is  the\nleave policy',
        "what is the leave policy",
        Filters(sources=("team handbook",)),
    ),
    ("source:“team handbook” q", "q", Filters(sources=("team handbook",))),
    ("Tag:HR tag:it where is it", "where is it", Filters(tags=("HR", "it"))),
    ("see http://x and ratio 3:1 note: hi", "see http://x and ratio 3:1 note: hi", Filters()),
    ("what does text: mean", "what does text: mean", Filters()),
    ("foo:bar baz", "foo:bar baz", Filters()),
    ("(tag:hr) x", "(tag:hr) x", Filters()),
    ("tag:? x", "tag:? x", Filters()),
    ("how do I reset vpn tag:it?", "how do I reset vpn", Filters(tags=("it",))),
    (
        "created:2024-01..2024-03 what changed",
        "what changed",
        Filters(created=Range(JAN_1_2024, 1711929600, True, False)),
    ),
    ("doc:doc-42 summary", "summary", Filters(doc_ids=("doc-42",))),
    ('terms:covid-19 text:"sick leave" rules', "rules", Filters(text=("covid-19", "sick leave"))),
    ("", "", Filters()),
]


@pytest.mark.parametrize(("message", "question", "filters"), INLINE)
def test_inline_filters_are_taken_out_of_the_message(message, question, filters):
    assert split_inline_filters(message) == (question, filters)


# --- errors --------------------------------------------------------------------------------------

UNKNOWN = (
    "unknown filter field 'foo'; use one of: tag, source, doc_id, not_doc_id, created, modified, "
    "text"
)

ERRORS = [
    (parse_filters, {"foo": "x"}, UNKNOWN),
    (parse_filters, {"FOO ": "x"}, "unknown filter field 'FOO'"),
    (parse_filter_args, ["foo=x"], UNKNOWN),
    (parse_filter_args, ["=x"], "unknown filter field ''"),
    (parse_filter_args, ["tag"], "filter 'tag' has no '='"),
    (parse_filter_args, ["tag=hr", "source"], "filter 'source' has no '='"),
    (parse_filter_args, ["tag="], "filter 'tag' is empty"),
    (parse_filters, {"tag": ""}, "filter 'tag' is empty"),
    (parse_filters, {"tag": "  "}, "filter 'tag' is empty"),
    (parse_filters, {"tag": " , ,"}, "filter 'tag' is empty"),
    (parse_filters, {"tag": []}, "filter 'tag' is empty"),
    (parse_filters, {"source": ["a", ""]}, "filter 'source' is empty"),
    (parse_filters, {"doc_id": None}, "filter 'doc_id' is empty"),
    (parse_filters, {"text": " "}, "filter 'text' is empty"),
    (parse_filters, {"created": ""}, "filter 'created' is empty"),
    (parse_filters, {"tag": "x" * 201}, "filter 'tag' value 'xxxx"),
    (parse_filters, {"text": "y" * 201}, "too long"),
    (parse_filters, {"tag": "a\x00b"}, "filter 'tag' value 'a\\x00b' contains a control character"),
    (parse_filters, {"text": "a\nb"}, "filter 'text' value 'a\\nb' contains a control character"),
    (parse_filters, {"source": "a\x7fb"}, "control character"),
    (parse_filters, {"tag": "\ud800"}, "filter 'tag' value '\\ud800' is not valid unicode"),
    (parse_filters, {"tag": True}, "filter 'tag' must be text or a list of texts, not bool"),
    (parse_filters, {"tag": {"a": 1}}, "not dict"),
    (parse_filters, {"tag": [["hr"]]}, "not list"),
    (parse_filters, ["tag"], "filters must be an object"),
    (parse_filters, {"tag": [f"t{i}" for i in range(101)]}, "filter 'tag' has 101 values"),
    (parse_filters, {"created": "2024-13"}, "filter 'created' cannot read '2024-13' as a date"),
    (parse_filters, {"created": "2024-02-30"}, "cannot read '2024-02-30' as a date"),
    (parse_filters, {"created": "yesterday"}, "filter 'created' cannot read 'yesterday'"),
    (parse_filters, {"modified": "2024/01/01"}, "filter 'modified' cannot read '2024/01/01'"),
    (parse_filters, {"created": ">=2024..2025"}, "cannot read '>=2024' as a date"),
    (parse_filters, {"created": "2024...2025"}, "filter 'created' range '2024...2025' is empty"),
    (parse_filters, {"created": "nan"}, "cannot read 'nan'"),
    (parse_filters, {"created": float("nan")}, "cannot read 'nan'"),
    (parse_filters, {"created": float("inf")}, "cannot read 'inf'"),
    (parse_filters, {"created": "1e20"}, "filter 'created' date '1e20' is out of range"),
    (parse_filters, {"created": ".."}, "filter 'created' value '..' has no dates"),
    (
        parse_filters,
        {"modified": "2024-06-30..2024-01-01"},
        "filter 'modified' range '2024-06-30..2024-01-01' is empty: its end is before its start",
    ),
    (parse_filters, {"created": "2024-01-02..2024-01-01T12:00"}, "is empty"),
    (parse_filters, {"created": "1704067201..1704067200"}, "is empty"),
    (parse_filters, {"created": ["2024", "2023"]}, "filter 'created' ranges"),
    (parse_filter_args, ["created=2024", "created=<2023"], "have no time in common"),
    (split_inline_filters, 'source:"team handbook', "filter 'source' has an unmatched quote"),
    (split_inline_filters, 'source:"a b"c', "unmatched quote"),
    (split_inline_filters, 'tag:"" hi', "filter 'tag' is empty"),
    (split_inline_filters, "note: x foo:bar tag:hr created:soon", "cannot read 'soon'"),
    (compile_filters, Filters(tags=("",)), "filter 'tag' is empty"),
    (compile_filters, Filters(sources=("a\x00",)), "control character"),
    (compile_filters, Filters(text=("z" * 300,)), "too long"),
    (compile_filters, Filters(created=Range(5, 1)), "filter 'created' range"),
    (compile_filters, Filters(modified=Range(5, 5, False)), "is empty"),
    (compile_filters, Filters(created=Range(float("nan"))), "not a finite number"),
]


@pytest.mark.parametrize(("function", "argument", "message"), ERRORS)
def test_bad_filters_raise_a_filter_error_that_says_what_is_wrong(function, argument, message):
    with pytest.raises(FilterError) as caught:
        function(argument)
    assert message in str(caught.value)
    assert caught.value.status == 400


# --- the Filters value ---------------------------------------------------------------------------


def test_filters_know_when_they_are_empty():
    assert Filters().is_empty()
    assert parse_filters({}).is_empty()
    assert not Filters(tags=("hr",)).is_empty()
    assert not Filters(created=Range(low=0)).is_empty()
    assert not Filters(text=("the",)).is_empty()


def test_to_dict_is_json_friendly_and_readable():
    filters = parse_filters(
        {"tag": "hr,it", "created": "2024-01-01..2024-06-30", "modified": 1704067200.5}
    )
    assert filters.to_dict() == {
        "tag": ["hr", "it"],
        "created": [">=2024-01-01", "<2024-07-01"],
        "modified": "1704067200.5",
    }
    assert parse_filters({"created": ">2024-01-01T10:00"}).to_dict() == {
        "created": ">2024-01-01T10:00:00Z"
    }
    assert Filters().to_dict() == {}


def test_merged_joins_any_of_lists_and_intersects_dates():
    a = parse_filters({"tag": "hr", "created": "2024", "text": "vpn"})
    b = parse_filters({"tag": ["it", "hr"], "source": "wiki", "created": "<2024-07"})
    assert a.merged(b) == Filters(
        tags=("hr", "it"),
        sources=("wiki",),
        created=Range(JAN_1_2024, JUL_1_2024, True, False),
        text=("vpn",),
    )
    assert a.merged(Filters()) == a
    assert Filters().merged(a) == a
    with pytest.raises(FilterError, match="created"):
        a.merged(parse_filters({"created": "2023"}))


def test_keys_and_aliases_are_case_insensitive():
    expected = Filters(tags=("a",), sources=("b",), doc_ids=("c",), text=("d",))
    assert parse_filters({"TAGS": "a", "Sources": "b", "DOC": "c", "Terms": "d"}) == expected
    assert KEYS == ("tag", "source", "doc_id", "not_doc_id", "created", "modified", "text")


# --- properties of the pure functions ------------------------------------------------------------

UNESCAPE = re.compile(r"\\(.)", re.S)


def unescape(query_text: str) -> str:
    return UNESCAPE.sub(r"\1", query_text)


def assert_every_ascii_symbol_is_escaped(escaped: str) -> None:
    chars = iter(escaped)
    for ch in chars:
        if ch == "\\":
            assert next(chars, None) is not None, "a dangling backslash"
        else:
            assert not ch.isascii() or ch.isalnum(), repr(ch)


def split_alternatives(body: str) -> list[str]:
    """Split `a | b\\ c` on the unescaped ` | ` separators."""
    tokens, parts, current, i = re.findall(r"\\.|.", body, re.S), [], "", 0
    while i < len(tokens):
        if tokens[i : i + 3] == [" ", "|", " "]:
            parts, current, i = [*parts, current], "", i + 3
        else:
            current, i = current + tokens[i], i + 1
    return [*parts, current]


def is_valid(key: str, value: str) -> bool:
    text = value.strip(WHITESPACE)
    if not text or len(text) > 200 or any(c in text for c in CONTROL_CHARS):
        return False
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):  # a lone surrogate is not UTF-8
        return False
    return key == "text" or any(part.strip(WHITESPACE) for part in text.split(","))


@settings(max_examples=200)
@given(key=st.sampled_from(["tag", "source", "doc_id", "text"]), value=st.text(max_size=260))
def test_any_text_value_compiles_or_is_rejected_with_a_filter_error(key, value):
    try:
        query = compile_filters(parse_filters({key: value}))
    except FilterError:
        assert not is_valid(key, value)
    else:
        assert is_valid(key, value)
        assert query == "*" or (query.startswith("(@") and query.endswith(")"))


hostile_text = st.text(
    st.one_of(st.characters(), st.sampled_from(HOSTILE_ASCII + HOSTILE_UNICODE)), max_size=60
)


@given(hostile_text)
def test_escaped_values_round_trip_and_leave_no_ascii_symbol_bare(value):
    for escape in (escape_tag, escape_text):
        escaped = escape(value)
        assert unescape(escaped) == value
        assert_every_ascii_symbol_is_escaped(escaped)


@given(st.lists(hostile_text.filter(lambda v: is_valid("tag", v)), min_size=1, max_size=4))
def test_a_compiled_tag_clause_holds_exactly_the_given_values(values):
    query = compile_filters(parse_filters({"tag": values}))
    assert query.startswith("(@tags:{") and query.endswith("})")
    parts = split_alternatives(query[len("(@tags:{") : -2])
    expected = [v.strip(WHITESPACE) for value in values for v in value.split(",")]
    assert [unescape(p) for p in parts] == list(dict.fromkeys(v for v in expected if v))


moments = st.one_of(
    st.integers(-2_000_000_000, 4_000_000_000).map(str),
    st.floats(-2e9, 4e9, allow_nan=False).map(repr),
    st.integers(1900, 2100).map(str),
    st.dates(date(1900, 1, 1), date(2100, 1, 1)).map(date.isoformat),
    st.dates(date(1900, 1, 1), date(2100, 1, 1)).map(lambda d: d.isoformat()[:7]),
    st.datetimes(datetime(1900, 1, 1), datetime(2100, 1, 1)).map(datetime.isoformat),
    st.datetimes(datetime(1900, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)).map(
        datetime.isoformat
    ),
)
range_texts = st.one_of(
    st.tuples(st.sampled_from([">=", ">", "<=", "<", "=", ""]), moments).map("".join),
    st.tuples(moments | st.just(""), moments | st.just("")).map("..".join),
)
word = st.text(
    st.sampled_from(list(string.ascii_letters) + HOSTILE_ASCII + HOSTILE_UNICODE + [","]),
    min_size=1,
    max_size=12,
)
mappings = st.fixed_dictionaries(
    {},
    optional={
        "tag": st.lists(word, max_size=3) | word,
        "source": word,
        "doc_id": st.lists(word, max_size=2),
        "not_doc_id": st.lists(word, max_size=2),
        "created": range_texts | st.lists(range_texts, min_size=1, max_size=2),
        "modified": range_texts | st.integers(0, 4_000_000_000),
        "text": st.lists(word, max_size=3),
    },
)


@settings(max_examples=200)
@given(mappings)
def test_to_dict_round_trips_through_parse_filters(mapping):
    try:
        filters = parse_filters(mapping)
    except FilterError:
        reject()
    assert parse_filters(filters.to_dict()) == filters
    assert compile_filters(parse_filters(filters.to_dict())) == compile_filters(filters)


@given(range_texts)
def test_a_parsed_date_range_is_never_empty_and_compiles_to_numbers(text):
    try:
        rng = parse_filters({"created": text}).created
    except FilterError:
        reject()
    assert rng is not None and not rng.is_empty()
    number = r"\(?-?\d+(?:\.\d+)?(?:e[+-]\d+)?"
    assert re.fullmatch(rf"\[(-inf|{number}) (\+inf|{number})\]", rng.to_query())


# --- against a real RediSearch -------------------------------------------------------------------


@pytest.fixture(scope="module")
def search_redis(redis_server) -> redis.Redis:
    """A client of the shared embedded Redis with RediSearch (tests/conftest.py `redis_server`)."""
    return redis_server.client()


SCHEMA = ["tags", "TAG", "SEPARATOR", ",", "source", "TAG", "doc_id", "TAG"]
SCHEMA += ["created", "NUMERIC", "modified", "NUMERIC", "text", "TEXT", "title", "TEXT"]


FILTER_INDEXES = ("fidx", "fidx_nostop", "pidx", "pidx_nostop")


@pytest.fixture(scope="module")
def filter_index(search_redis) -> Iterator[redis.Redis]:
    """Indexes with default stopwords ("fidx") and none ("fidx_nostop") over the table's `fdoc:`
    hashes, and the same pair ("pidx", "pidx_nostop") over the property tests' `pdoc:` hashes."""
    for name in FILTER_INDEXES:
        prefix = "fdoc:" if name.startswith("f") else "pdoc:"
        stopwords = ["STOPWORDS", "0"] if name.endswith("_nostop") else []
        search_redis.execute_command(
            "FT.CREATE", name, "ON", "HASH", "PREFIX", "1", prefix, *stopwords, "SCHEMA", *SCHEMA
        )
    yield search_redis
    for name in FILTER_INDEXES:
        search_redis.execute_command("FT.DROPINDEX", name)


def search(client: redis.Redis, query: str, index_name: str = "fidx") -> set[str]:
    reply = client.execute_command(
        "FT.SEARCH", index_name, query, "DIALECT", "2", "NOCONTENT", "LIMIT", "0", "100"
    )
    if isinstance(reply, dict):  # RESP3
        return {row[b"id"].decode() for row in reply[b"results"]}
    return {key.decode() for key in reply[1:]}


DOCS = {
    "fdoc:1": {
        "tags": "hr,it",
        "source": "team handbook",
        "doc_id": "doc-1",
        "created": JAN_1_2024 + 14 * DAY,
        "text": "Covid-19 policy for the office",
        "title": "Remote work",
    },
    "fdoc:2": {
        "tags": "} | @tags:{x",
        "source": "*",
        "doc_id": "-hr",
        "created": JUL_1_2024,
        "text": "naïve café 日本語 state-of-the-art",
        "title": "Ünïcödé",
    },
    "fdoc:3": {
        "tags": "-hr,$param",
        "source": "\\",
        "doc_id": "@tags:{x}",
        "created": JAN_1_2024 - 1,
        "text": "C:\\Users\\foo and foo_bar",
        "title": "Paths",
    },
    "fdoc:4": {
        "tags": "🚀launch,naïve café",
        "source": "שלום עולם",
        "doc_id": 'say "hi"',
        "created": JUL_1_2024 - 1,
        "text": "the a of",
        "title": "stopwords",
    },
    "fdoc:5": {
        "tags": "HR",
        "source": "Team Handbook",
        "doc_id": "doc-5",
        "created": JAN_1_2024,
        "text": "policy office",
        "title": "x",
    },
}
ALL = set(DOCS)

ON_REDIS = [
    ({"tag": "hr"}, {"fdoc:1", "fdoc:5"}),
    ({"tag": "HR"}, {"fdoc:1", "fdoc:5"}),
    ({"tag": "} | @tags:{x"}, {"fdoc:2"}),
    ({"tag": "-hr"}, {"fdoc:3"}),
    ({"tag": "$param"}, {"fdoc:3"}),
    ({"tag": "🚀launch"}, {"fdoc:4"}),
    ({"tag": "naïve café"}, {"fdoc:4"}),
    ({"tag": ["it", "-hr"]}, {"fdoc:1", "fdoc:3"}),
    ({"tag": "*"}, set()),
    ({"tag": "x"}, set()),
    ({"source": "*"}, {"fdoc:2"}),
    ({"source": "\\"}, {"fdoc:3"}),
    ({"source": "שלום עולם"}, {"fdoc:4"}),
    ({"source": "team handbook"}, {"fdoc:1", "fdoc:5"}),
    ({"source": "team"}, set()),
    ({"doc_id": "@tags:{x}"}, {"fdoc:3"}),
    ({"doc_id": 'say "hi"'}, {"fdoc:4"}),
    ({"doc_id": "-hr"}, {"fdoc:2"}),
    ({"tag": "hr", "doc_id": "doc-1"}, {"fdoc:1"}),
    ({"not_doc_id": "doc-1"}, ALL - {"fdoc:1"}),
    ({"not_doc_id": ["doc-1", "-hr"]}, ALL - {"fdoc:1", "fdoc:2"}),
    ({"not_doc_id": "@tags:{x}"}, ALL - {"fdoc:3"}),
    ({"not_doc_id": 'say "hi"'}, ALL - {"fdoc:4"}),
    ({"not_doc_id": "} | *"}, ALL),
    ({"not_doc_id": "*"}, ALL),
    ({"tag": "hr", "not_doc_id": "doc-1"}, {"fdoc:5"}),
    ({"doc_id": "doc-1", "not_doc_id": "doc-1"}, set()),
    ({"text": "policy", "not_doc_id": "doc-5"}, {"fdoc:1"}),
    ({"tag": "hr", "source": "*"}, set()),
    ({"created": "2024-01-15"}, {"fdoc:1"}),
    ({"created": "2024"}, {"fdoc:1", "fdoc:2", "fdoc:4", "fdoc:5"}),
    ({"created": "<2024"}, {"fdoc:3"}),
    ({"created": "2024-01-01..2024-06-30"}, {"fdoc:1", "fdoc:4", "fdoc:5"}),
    ({"created": ">2024-06-30"}, {"fdoc:2"}),
    ({"created": JAN_1_2024}, {"fdoc:5"}),
    ({"created": f">{JAN_1_2024}", "tag": "hr"}, {"fdoc:1"}),
    ({"text": "covid-19"}, {"fdoc:1"}),
    ({"text": "COVID"}, {"fdoc:1"}),
    ({"text": "state-of-the-art"}, {"fdoc:2"}),
    ({"text": "naïve"}, {"fdoc:2"}),
    ({"text": "日本語"}, {"fdoc:2"}),
    ({"text": "Ünïcödé"}, {"fdoc:2"}),
    ({"text": "C:\\Users\\foo"}, {"fdoc:3"}),
    ({"text": "C:\\\\Users paths"}, {"fdoc:3"}),
    ({"text": "foo_bar"}, {"fdoc:3"}),
    ({"text": "paths"}, {"fdoc:3"}),
    ({"text": "the"}, ALL),
    ({"text": ["the", "covid"]}, {"fdoc:1"}),
    ({"text": "office policy"}, {"fdoc:1", "fdoc:5"}),
    ({"text": "office-policy-2"}, set()),
    ({"tag": "_"}, set()),
    ({"text": "_"}, set()),
    ({"text": "@title:(x) | -y"}, set()),
    ({"text": "*"}, ALL),
    ({"text": "%covid%"}, {"fdoc:1"}),
    ({"text": "$param"}, set()),
    ({"text": "policy", "tag": "hr"}, {"fdoc:1", "fdoc:5"}),
]


@pytest.fixture(scope="module")
def table_docs(filter_index) -> Iterator[redis.Redis]:
    for key, fields in DOCS.items():
        filter_index.hset(key, mapping=fields)
    yield filter_index
    filter_index.delete(*DOCS)


@pytest.mark.parametrize(("mapping", "expected"), ON_REDIS)
def test_a_real_redisearch_returns_exactly_the_matching_documents(table_docs, mapping, expected):
    query = compile_filters(parse_filters(mapping))
    assert search(table_docs, query) == expected
    assert search(table_docs, query, "fidx_nostop") == expected


ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def fold(value: str) -> str:
    """How RediSearch compares tags by default: ASCII case folded, nothing else."""
    return value.translate(ASCII_LOWER)


tag_values = (
    st.text(
        st.one_of(
            st.characters(exclude_categories=("Cs",), exclude_characters=[*CONTROL_CHARS, ","]),
            st.sampled_from(HOSTILE_ASCII + HOSTILE_UNICODE),
        ),
        min_size=1,
        max_size=24,
    )
    .map(lambda v: v.strip(WHITESPACE))
    .filter(bool)
)
text_pieces = st.one_of(
    st.characters(exclude_categories=("Cs",), exclude_characters=CONTROL_CHARS),
    st.sampled_from(HOSTILE_ASCII + HOSTILE_UNICODE + [",", "the ", " a ", "-of-", "covid-19"]),
)
text_values = (
    st.lists(text_pieces, min_size=1, max_size=30)
    .map(lambda pieces: "".join(pieces).strip(WHITESPACE))
    .filter(lambda v: is_valid("text", v))
)
_batch = itertools.count()


@settings(max_examples=100, deadline=None)
@given(values=st.lists(tag_values, min_size=1, max_size=5))
def test_filtering_on_a_hostile_tag_returns_exactly_the_documents_that_have_it(
    filter_index, values
):
    batch = next(_batch)
    keys = [f"pdoc:h{batch}:{i}" for i in range(len(values))]
    control = f"pdoc:h{batch}:control"
    for key, value in zip(keys, values, strict=True):
        filter_index.hset(
            key, mapping={"tags": value, "source": value, "doc_id": value, "text": "x"}
        )
    filter_index.hset(control, mapping={"tags": "zz-control", "source": "zz-control", "text": "x"})
    try:
        for filter_key in ("tag", "source", "doc_id"):
            for value in values:
                query = compile_filters(parse_filters({filter_key: value}))
                wanted = {k for k, v in zip(keys, values, strict=True) if fold(v) == fold(value)}
                assert search(filter_index, query, "pidx") == wanted, (filter_key, value, query)
            any_of = compile_filters(parse_filters({filter_key: values}))
            assert search(filter_index, any_of, "pidx") == set(keys)
    finally:
        filter_index.delete(*keys, control)


@settings(max_examples=100, deadline=None)
@given(text=text_values)
def test_filtering_on_any_text_finds_the_document_that_contains_it(filter_index, text):
    batch = next(_batch)
    key, control = f"pdoc:t{batch}", f"pdoc:t{batch}:control"
    filter_index.hset(key, mapping={"text": text, "title": ""})
    filter_index.hset(control, mapping={"text": "xyzzy", "title": ""})
    try:
        query = compile_filters(parse_filters({"text": text}))
        for index_name in ("pidx", "pidx_nostop"):
            found = search(filter_index, query, index_name)
            assert key in found, (index_name, text, query)
            assert (control in found) == (query == "*"), (index_name, query)
    finally:
        filter_index.delete(key, control)


@settings(max_examples=100, deadline=None)
@given(mappings)
def test_any_combination_of_filters_is_a_query_redis_accepts(filter_index, mapping):
    try:
        query = compile_filters(parse_filters(mapping))
    except FilterError:
        reject()
    search(filter_index, query, "pidx")  # raises ResponseError on a query Redis cannot parse
