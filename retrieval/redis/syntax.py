"""Query syntax of RediSearch: values and words taken literally, whatever they hold."""

from __future__ import annotations

import re

_ESCAPED = re.compile(r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]")  # ASCII but not [A-Za-z0-9]


def escape_tag(value: str) -> str:
    """Escape a value for `@field:{...}` so it is matched literally."""
    return _ESCAPED.sub(lambda m: "\\" + m.group(), value)


def escape_text(term: str) -> str:
    """Escape one query word so it is taken literally (same rule as tags, verified separately)."""
    return escape_tag(term)
