"""Text files that are not UTF-8 and declare no encoding: which one, guessed from the bytes.

Old exports and Windows editors still write Windows-1252 (and its Central European and
Cyrillic siblings). charset-normalizer ranks the encodings that decode the bytes into the
least chaotic text; on short texts many tie (for "café au lait" cp1006 ties with cp1252),
so among near ties the common legacy encodings win, in the order below.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ingest.document import LoadError
from ingest.loaders._common import decode_text, read_bytes

if TYPE_CHECKING:
    from charset_normalizer.models import CharsetMatch

PREFERRED = ("cp1252", "cp1250", "cp1251", "cp932", "gb18030", "euc_kr", "big5")
_TIE = 0.1  # coherence (share of the language's common characters) within which guesses tie


def read_any_text(path: Path) -> tuple[str, str]:
    """The file's text and its encoding ("utf-8", or the one guessed)."""
    data = read_bytes(path)
    return decode_any(str(path), data)


def decode_any(name: str, data: bytes) -> tuple[str, str]:
    """UTF-8 when the bytes are valid UTF-8, else the most likely legacy encoding; a
    LoadError when none reads them as text."""
    try:
        return decode_text(name, data), "utf-8"
    except LoadError as e:
        if "not valid UTF-8" not in e.reason:
            raise
        encoding = guess_encoding(data)
        if encoding is None:
            raise LoadError(name, f"{e.reason}, and no other encoding reads it as text") from None
        return decode_text(name, data, encoding), encoding


def guess_encoding(data: bytes) -> str | None:
    """The encoding that reads `data` as the least chaotic, most coherent text."""
    from charset_normalizer import from_bytes

    matches = [m for m in from_bytes(data[:262144]) if m.encoding not in ("utf_8", "ascii")]
    if not matches:
        return None
    chaos = min(m.chaos for m in matches)
    best = [m for m in matches if m.chaos <= chaos + 0.01]
    coherence = max(m.coherence for m in best)
    # Each guess stands for the encodings that read the bytes the same ("could be from").
    ties = [e for m in best if m.coherence >= coherence - _TIE for e in _alike(m)]
    preferred = [e for e in PREFERRED if e in ties]
    return (preferred or ties)[0]


def _alike(match: CharsetMatch) -> list[str]:
    return [match.encoding, *match.could_be_from_charset]
