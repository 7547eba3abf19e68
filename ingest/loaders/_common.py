"""Shared reading and metadata rules, so every format rejects bad input the same way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ingest.document import Block, LoadError, doc_id_for
from retrieval.types import DocMeta

MAX_BYTES = 50 * 1024 * 1024
_TEXT_CONTROLS = frozenset("\t\n\r\f\v\x1b")


def read_bytes(path: Path) -> bytes:
    """The file's bytes, refusing folders, huge files and empty files up front."""
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise LoadError(str(path), "is a directory, not a file")
        if size > MAX_BYTES:
            raise LoadError(str(path), f"file too large ({size / 2**20:.1f} MB; limit is 50 MB)")
        data = path.read_bytes()
    except FileNotFoundError:
        raise LoadError(str(path), "no such file") from None
    except OSError as e:
        raise LoadError(str(path), f"cannot read file ({e.strerror or e})") from None
    if not data.strip():
        raise LoadError(str(path), "empty file")
    return data


def decode_text(path: Path | str, data: bytes, encoding: str = "utf-8") -> str:
    """Strict decoding plus a binary sniff: wrong bytes must fail loudly, not become mojibake."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise LoadError(str(path), "UTF-16 text is not supported (save the file as UTF-8)")
    if b"\x00" in data:
        raise LoadError(str(path), "binary content (contains NUL bytes), not text")
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # drop a byte-order mark
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        name = "UTF-8" if encoding == "utf-8-sig" else encoding
        byte = data[e.start]
        raise LoadError(
            str(path), f"not valid {name} text (byte 0x{byte:02x} at offset {e.start})"
        ) from None
    except LookupError:
        raise LoadError(str(path), f"unknown text encoding {encoding!r}") from None
    sample = text[:65536]
    controls = sum(1 for c in sample if c < " " and c not in _TEXT_CONTROLS)
    if controls > len(sample) * 0.05:
        raise LoadError(str(path), "binary content (mostly non-text characters)")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LoadError(str(path), "empty file")
    return text


def read_text(path: Path) -> str:
    return decode_text(path, read_bytes(path))


def parse_time(value: Any) -> float | None:
    """Unix seconds from a number, an ISO date/datetime string or a YAML date; naive = UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"invalid date {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        s = value.strip()
        try:
            return float(s)
        except ValueError:
            pass
        try:
            value = dt.datetime.fromisoformat(s)
        except ValueError:
            raise ValueError(f"invalid date {value!r} (expected ISO 8601)") from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()
    raise ValueError(f"invalid date {value!r}")


def parse_tags(value: Any) -> tuple[str, ...]:
    """Tags from a list or a comma-separated string; commas always separate tags."""
    if value is None:
        return ()
    if isinstance(value, str | int | float):
        items = [value]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        raise ValueError("'tags' must be a list or a comma-separated string")
    tags: list[str] = []
    for item in items:
        if isinstance(item, dict | list):
            raise ValueError("'tags' must hold plain strings")
        tags += [t.strip() for t in str(item).split(",") if t.strip()]
    return tuple(dict.fromkeys(tags))


def _field(fields: Mapping[str, Any], key: str) -> str:
    value = fields.get(key)
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple | set | bool):
        raise ValueError(f"'{key}' must be a string")
    return " ".join(str(value).split())


def build_meta(
    path: Path,
    fields: Mapping[str, Any],
    *,
    default_title: str,
    doc_id: str | None = None,
    where: str = "",
) -> DocMeta:
    """DocMeta from user metadata; a bad field is a LoadError that says which and where."""
    try:
        created = fields.get("created", fields.get("date"))
        modified = fields.get("modified", fields.get("updated"))
        return DocMeta(
            doc_id=doc_id or doc_id_for(str(path.resolve())),
            title=_field(fields, "title") or " ".join(default_title.split()) or path.stem,
            source=_field(fields, "source"),
            tags=parse_tags(fields.get("tags")),
            url=_field(fields, "url"),
            path=str(path.resolve()),
            created=parse_time(created),
            modified=parse_time(modified) if modified not in (None, "") else _mtime(path),
        )
    except ValueError as e:
        raise LoadError(str(path), f"{where}{e}") from None


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def assemble(parts: Iterable[tuple[str, str, int]]) -> tuple[str, list[Block]]:
    """Join (kind, content, level) parts with blank lines, recording exact block offsets.

    Prose is stripped so blocks start and end on text; code keeps its indentation.
    """
    pieces: list[str] = []
    blocks: list[Block] = []
    pos = 0
    for kind, content, level in parts:
        if kind != "code":
            content = content.strip()
        if not content.strip():
            continue
        if pieces:
            pos += 2
        blocks.append(Block(kind, pos, pos + len(content), level))
        pieces.append(content)
        pos += len(content)
    return "\n\n".join(pieces), blocks
