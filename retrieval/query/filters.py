"""One filter language for the CLI, HTTP and Slack, compiled to a RediSearch DIALECT 2 query.

Escaping, checked against RediSearch 2.10 (tests/retrieval/query/test_filters.py runs it for real):
- Every ASCII character outside [A-Za-z0-9] gets a backslash (even `_`: a lone `_` is a syntax
  error). Non-ASCII characters go raw: they are never syntax, and a backslash before a multi-byte
  character stops it matching. The index trims ASCII whitespace around a tag, folds ASCII case only.
- TEXT terms: the indexer splits on ASCII punctuation and whitespace (not `_`, never on non-ASCII;
  a backslash makes the next character part of the word), so a term is split the same way
  ("covid-19" -> covid 19) and all its words must appear. Not as a phrase: stopwords break phrases
  and RediSearch's in-order check misses some true matches. Default stopwords are dropped here,
  as a lone stopword matches nothing, and so are words holding a literal backslash.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from retrieval.choices import MAX_TS, MIN_TS
from retrieval.errors import FilterError
from retrieval.redis.syntax import escape_tag, escape_text

KEYS = ("tag", "source", "doc_id", "not_doc_id", "created", "modified", "text")
DATE_KEYS = ("created", "modified")  # a date, unix seconds or a range; the others are text
ALIASES = dict(tags="tag", sources="source", doc="doc_id", doc_ids="doc_id", terms="text")
ALIASES |= dict(not_doc="not_doc_id", not_doc_ids="not_doc_id")
TAG_FIELDS = {"tag": "tags", "source": "source", "doc_id": "doc_id"}  # filter key -> index field
EXCLUDED_FIELDS = {"not_doc_id": "doc_id"}  # none of the values: `-@doc_id:{...}`
TEXT_FIELDS = "text|title"
MAX_VALUE_CHARS, MAX_VALUES = 200, 100
# RediSearch drops its default stop words from text queries; a filter term of only these matches
# nothing, so the filter language leaves them out itself.
REDISEARCH_STOPWORDS = frozenset(
    """a is the an and are as at be but by for if in into it no not of on or such that their
    then there these they this to was will with""".split()
)
_ATTRS = dict(tag="tags", source="sources", doc_id="doc_ids", not_doc_id="not_doc_ids")
_ATTRS |= dict(created="created")
_ATTRS |= dict(modified="modified", text="text")  # filter key -> Filters attribute
_EXAMPLES = dict(tag="hr", source="handbook", doc_id="doc-42", not_doc_id="doc-42", text="vpn")
_EXAMPLES |= dict(created="2024-01-01..2024-06-30", modified=">=2024-03")
_WHITESPACE = " \t\n\r\v\f"
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SEPARATOR = re.compile(r"[\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]")  # ... nor `_`
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INLINE = re.compile(r'(?<!\S)([A-Za-z_]+):(?:"([^"]*)"(?!\S)|“([^”]*)”(?!\S)|(\S+))')
_DATE_HELP = "use 2024, 2024-03, 2024-03-31, an ISO datetime (2024-03-31T09:00Z) or unix seconds"


def _fail(key: str, message: str) -> FilterError:
    return FilterError(f"filter '{key}' {message}")


@dataclass(frozen=True)
class Range:
    """A numeric range in unix seconds; None means unbounded on that side."""

    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True

    def is_empty(self) -> bool:
        if self.low is None or self.high is None:
            return False
        both = self.low_inclusive and self.high_inclusive
        return self.low > self.high or (self.low == self.high and not both)

    def intersect(self, other: Range) -> Range:
        low = _tighter((self.low, self.low_inclusive), (other.low, other.low_inclusive), max)
        high = _tighter((self.high, self.high_inclusive), (other.high, other.high_inclusive), min)
        return Range(low[0], high[0], low[1], high[1])

    def to_query(self) -> str:
        if not all(math.isfinite(x) for x in (self.low, self.high) if x is not None):
            raise FilterError(f"date range {self} has a bound that is not a finite number")
        low = "-inf" if self.low is None else "(" * (not self.low_inclusive) + _num(self.low)
        high = "+inf" if self.high is None else "(" * (not self.high_inclusive) + _num(self.high)
        return f"[{low} {high}]"

    def to_json(self) -> str | list[str]:
        """Text that parse_filters reads back to this range: one string or [low, high]."""
        if self.low is not None and self.low == self.high and not self.is_empty():
            return _time_text(self.low, False)  # one moment
        parts = []
        if self.low is not None:  # a day name means the day's start after >= (and its end after >)
            op = ">=" if self.low_inclusive else ">"
            parts.append(op + _time_text(self.low, self.low_inclusive))
        if self.high is not None:
            op = "<=" if self.high_inclusive else "<"
            parts.append(op + _time_text(self.high, not self.high_inclusive))
        return parts[0] if len(parts) == 1 else parts


def _tighter(a: tuple, b: tuple, pick) -> tuple:
    if a[0] is None or b[0] is None:
        return b if a[0] is None else a
    return (a[0], a[1] and b[1]) if a[0] == b[0] else (a if pick(a[0], b[0]) == a[0] else b)


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else repr(x)


def _time_text(t: float, day_ok: bool) -> str:
    if not (math.isfinite(t) and t == int(t) and MIN_TS <= t <= MAX_TS):
        return repr(t)
    moment = datetime.fromtimestamp(t, UTC)
    if day_ok and int(t) % 86400 == 0:
        return moment.date().isoformat()
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Filters:
    tags: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    not_doc_ids: tuple[str, ...] = ()  # documents left out, e.g. to ask as if they were absent
    created: Range | None = None
    modified: Range | None = None
    text: tuple[str, ...] = ()
    # Set by the Slack front end from the signed event, never parsed from user text: chunks
    # restricted to a channel (private captures) are searched only from that channel.
    visible_in: str | None = None

    def is_empty(self) -> bool:
        return not any(getattr(self, attr) for attr in _ATTRS.values())

    def to_dict(self) -> dict:
        out: dict = {}
        for key, attr in _ATTRS.items():
            if isinstance(value := getattr(self, attr), Range):
                out[key] = value.to_json()
            elif value:
                out[key] = list(value)
        return out

    def merged(self, other: Filters) -> Filters:
        """Both sets of conditions: any-of lists joined, date ranges intersected."""
        return _build([*_flatten(self.to_dict()), *_flatten(other.to_dict())])


def _intersect(key: str, a: Range | None, b: Range | None) -> Range | None:
    if a is None or b is None:
        return b if a is None else a
    if (both := a.intersect(b)).is_empty():
        raise _fail(key, f"ranges {a.to_json()} and {b.to_json()} have no time in common")
    return both


def _canonical(raw_key: object) -> str:
    key = ALIASES.get(str(raw_key).strip().lower(), str(raw_key).strip().lower())
    if key not in KEYS:
        shown = str(raw_key).strip()
        raise FilterError(f"unknown filter field '{shown}'; use one of: {', '.join(KEYS)}")
    return key


def _clean(key: str, value: object) -> str:
    value = "" if value is None else value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _fail(key, f"must be text or a list of texts, not {type(value).__name__}")
    text = str(value).strip(_WHITESPACE)
    if not text:
        raise _fail(key, f"is empty; give it a value, e.g. {key}={_EXAMPLES[key]}")
    if len(text) > MAX_VALUE_CHARS:
        raise _fail(key, f"value {text[:40]!r}... is too long (at most {MAX_VALUE_CHARS} chars)")
    if _CONTROL.search(text):
        raise _fail(key, f"value {text!r} contains a control character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(key, f"value {text!r} is not valid unicode") from None
    return text


def _period(key: str, text: str) -> tuple[float, float, bool]:
    """What one date denotes: (start, end, end_inclusive); a year, month or day is a span."""
    s = text.strip(_WHITESPACE)
    try:
        if m := re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", s):
            start = datetime(int(m[1]), int(m[2] or 1), int(m[3] or 1), tzinfo=UTC)
            if m[3]:
                end = start + timedelta(days=1)
            elif m[2]:
                end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)
            else:
                end = datetime(start.year + 1, 1, 1, tzinfo=UTC)
            return start.timestamp(), end.timestamp(), False
        if _NUMBER.fullmatch(s):
            t = float(s)
        else:
            moment = datetime.fromisoformat(s)
            t = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    except (ValueError, OverflowError):
        raise _fail(key, f"cannot read {text.strip()!r} as a date; {_DATE_HELP}") from None
    if not MIN_TS <= t <= MAX_TS:
        raise _fail(key, f"date {text.strip()!r} is out of range; {_DATE_HELP}")
    return t, t, True


def _parse_range(key: str, value: object) -> Range:
    if isinstance(value, int | float) and not isinstance(value, bool):
        t = _period(key, repr(float(value)))[0]  # a JSON number is unix seconds, never a year
        return Range(t, t)
    text = _clean(key, value)
    if ".." in text:
        first, _, last = (part.strip(_WHITESPACE) for part in text.partition(".."))
        if not first and not last:
            raise _fail(key, f"value {text!r} has no dates; {_DATE_HELP}")
        low = _period(key, first) if first else (None, None, True)
        high = _period(key, last) if last else (None, None, True)
        rng = Range(low[0], high[1], True, high[2])
    else:
        op, rest = re.fullmatch(r"(>=|<=|>|<|=)?(.*)", text, re.S).groups()
        start, end, end_inclusive = _period(key, rest)
        rng = {
            ">=": Range(low=start),
            ">": Range(low=end, low_inclusive=not end_inclusive),
            "<=": Range(high=end, high_inclusive=end_inclusive),
            "<": Range(high=start, high_inclusive=False),
        }.get(op, Range(start, end, True, end_inclusive))
    if rng.is_empty():
        raise _fail(key, f"range {text!r} is empty: its end is before its start")
    return rng


def _build(pairs: Iterable[tuple[object, object]]) -> Filters:
    lists: dict[str, list[str]] = {k: [] for k in ("tag", "source", "doc_id", "not_doc_id", "text")}
    ranges: dict[str, Range | None] = dict.fromkeys(DATE_KEYS)
    for raw_key, value in pairs:
        key = _canonical(raw_key)
        if key in ranges:
            ranges[key] = _intersect(key, ranges[key], _parse_range(key, value))
        elif key == "text":
            lists[key].append(_clean(key, value))
        else:  # any-of: "hr,it" is two values, as the index splits on commas too
            items = [v.strip(_WHITESPACE) for v in _clean(key, value).split(",")]
            if not any(items):
                raise _fail(key, f"is empty; give it a value, e.g. {key}={_EXAMPLES[key]}")
            lists[key].extend(v for v in items if v)
    for key, values in lists.items():
        lists[key] = list(dict.fromkeys(values))
        if len(lists[key]) > MAX_VALUES:
            raise _fail(key, f"has {len(lists[key])} values; at most {MAX_VALUES}")
    fields = {_ATTRS[k]: tuple(v) for k, v in lists.items()}
    return Filters(**fields, created=ranges["created"], modified=ranges["modified"])


def parse_filters(mapping: Mapping[str, str | int | float | Sequence[str]] | None) -> Filters:
    """Filters from a JSON object: {"tag": ["hr", "it"], "created": "2024-01-01..2024-06-30"}."""
    if mapping is None:
        return Filters()
    if not isinstance(mapping, Mapping):
        raise FilterError('filters must be an object like {"tag": ["hr", "it"]}')
    return _build(_flatten(mapping))


def _flatten(mapping: Mapping) -> list[tuple[object, object]]:
    pairs: list[tuple[object, object]] = []
    for key, value in mapping.items():
        many = isinstance(value, list | tuple)
        pairs.extend((key, item) for item in (value or [""] if many else [value]))
    return pairs


def parse_filter_args(pairs: Sequence[str]) -> Filters:
    """Filters from repeated CLI options: ["tag=hr", "created=2024..2025"]."""
    parsed = []
    for arg in pairs:
        key, sep, value = arg.partition("=")
        if not sep:
            raise FilterError(f"filter {arg!r} has no '='; write KEY=VALUE, e.g. tag=hr")
        parsed.append((key, value))
    return _build(parsed)


def split_inline_filters(message: str) -> tuple[str, Filters]:
    """Take `key:value` / `key:"quoted value"` tokens with a known key out of a chat message."""
    pairs: list[tuple[object, object]] = []

    def take(m: re.Match) -> str:
        if ALIASES.get(m[1].lower(), m[1].lower()) not in KEYS:
            return m[0]
        value = next(v for v in (m[2], m[3], m[4]) if v is not None)
        if m[4] is not None:  # unquoted: in "... tag:it?" the '?' ends the sentence
            if value[0] in '"“':
                raise _fail(m[1], f'has an unmatched quote; write {m[1]}:"two words"')
            if not (value := value.rstrip(",;?!")):
                return m[0]
        pairs.append((m[1], value))
        return " "

    question = _INLINE.sub(take, message)
    return " ".join(question.split()), _build(pairs)


def _words(term: str) -> list[str]:
    """Split a term into words as the indexer splits text."""
    words, word, chars = [], "", iter(term)
    for ch in chars:
        if ch == "\\":
            word += next(chars, "")
        elif _SEPARATOR.match(ch):
            words, word = [*words, word] if word else words, ""
        else:
            word += ch
    return [*words, word] if word else words


def compile_filters(filters: Filters) -> str:
    """A DIALECT 2 query fragment, every user value escaped; "*" when nothing filters."""
    clauses = []
    tag_clauses = [("", k, f) for k, f in TAG_FIELDS.items()]
    for sign, key, field in tag_clauses + [("-", k, f) for k, f in EXCLUDED_FIELDS.items()]:
        if values := getattr(filters, _ATTRS[key]):
            tags = " | ".join(escape_tag(_clean(key, v)) for v in values)
            clauses.append(f"{sign}@{field}:{{{tags}}}")
    for key in DATE_KEYS:
        if (rng := getattr(filters, key)) is not None:
            if rng.is_empty():
                raise _fail(key, f"range {rng.to_json()} is empty")
            clauses.append(f"@{key}:{rng.to_query()}")
    clauses += filter(None, (_text_clause(_clean("text", term)) for term in filters.text))
    if filters.visible_in is not None:
        here = f" | @channel:{{{escape_tag(filters.visible_in)}}}" if filters.visible_in else ""
        clauses.append(f"(ismissing(@channel){here})")
    return f"({' '.join(clauses)})" if clauses else "*"


def _text_clause(term: str) -> str:
    words = dict.fromkeys(
        escape_text(word)
        for word in _words(term)  # a literal backslash is unescaped unreliably by the query parser
        if word.translate(_ASCII_LOWER) not in REDISEARCH_STOPWORDS and "\\" not in word
    )
    return f"@{TEXT_FIELDS}:({' '.join(words)})" if words else ""
